import Foundation
import IntakeCore
import Testing

/// The revisions made after reading the original's source (docs/control-files.md, "Differences from
/// the original") that the conformance cases cannot show: a refused upload, and the read API's
/// `type=` after an import changed an object's type.
@Suite struct FidelityTests {
    @Test func aControlFileThatIsAnArrayGetsTheFourMessagesOfAnEmptyObject() async throws {
        try await RoutedServer.run { server in
            let client = BatchClient(server)
            let array = try await client.uploadControl(try Fixtures.write(#"[{"model":"haplo:person"}]"#))
            #expect(array.status == 400)
            #expect(
                array.body == """
                    Invalid control file:
                      Not a control file
                      Control file does not specify model in the model property
                      Control file does not specify processing instructions in the instructions property
                      Control file does not have files property
                    """)
            let string = try await client.uploadControl(try Fixtures.write(#""control""#))
            #expect(string.status == 400)
            #expect(string.body == "Invalid control file:\n  Not a control file")
        }
    }

    @Test func anObjectWhoseTypeWasSetIsListedAsThatType() async throws {
        try await RoutedServer.run { server in
            let client = BatchClient(server)
            let control = try Fixtures.write(
                #"""
                {"dataImportControlFileVersion": 0, "model": "TYPE:std:type:project", "files": {"data0": {"read": "json"}},
                 "instructions": [{"action": "new", "destination": "object"},
                                  {"source": "t", "destination": "object", "name": "dc:attribute:title"},
                                  {"action": "if-value-one-of", "source": "kind", "values": ["book"],
                                   "then": [{"action": "set-value", "destination": "object", "name": "dc:attribute:type", "value": "std:type:book"}]}]}
                """#)
            let data = try Fixtures.write(#"[{"t": "A project"}, {"t": "A book", "kind": "book"}]"#)
            let batch = try await client.prepareBatch(control: control, files: [("data0", data)])
            _ = try await client.schedule(batch: batch)
            let status = try await client.waitForBatch(batch)
            #expect(status["state"] == .string("complete"))

            func titles(_ query: String) async throws -> [String] {
                let list = try JSONParser.parse(try await client.get("/api/v1/objects?\(query)").body)
                return (list["objects"]?.arrayValue ?? []).compactMap { $0["title"]?.stringValue }
            }
            #expect(try await titles("type=std:type:book") == ["A book"])
            #expect(try await titles("type=std:type:project") == ["A project"])
            let book = try JSONParser.parse(try await client.get("/api/v1/objects?type=std:type:book").body)["objects"]?.arrayValue?.first
            #expect(book?["type"] == .string("std:type:book"))
        }
    }
}
