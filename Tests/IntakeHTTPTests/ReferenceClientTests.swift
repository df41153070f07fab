import Foundation
import IntakeCore
import IntakeStore
import Testing

/// The original API's own curl client against a started server, then the read API.
@Suite(.serialized) struct ReferenceClientTests {
    private func runScript(_ server: TestServer, dryRun: Bool, in directory: URL) async throws -> String {
        var script = try String(contentsOf: Fixtures.examples.appendingPathComponent("reference-client.sh"), encoding: .utf8)
        if !dryRun { script = script.replacingOccurrences(of: " -d mode=dry-run", with: "") }
        let path = directory.appendingPathComponent("client.sh")
        try script.write(to: path, atomically: true, encoding: .utf8)
        var env = ProcessInfo.processInfo.environment
        env["API_KEY"] = server.apiKey
        env["FILE_DIRECTORY"] = Fixtures.examples.path
        env["SERVER"] = "127.0.0.1:\(server.port)"
        let output = try await Process.output("/bin/sh", [path.path], environment: env)
        // The script prints the file digest, then SCHEDULED; the batch is the newest one.
        #expect(output.hasSuffix("SCHEDULED"))
        let digest = String(output.dropLast("SCHEDULED".count))
        #expect(digest.count == 64)
        return digest
    }

    private func newestBatch(_ server: TestServer) async throws -> String {
        let list = try JSONParser.parse(try await BatchClient(server).get("/api/v1/batches?limit=1").body)
        return try #require(list["batches"]?.arrayValue?.first?["identifier"]?.stringValue)
    }

    @Test func dryRunThenRealRun() async throws {
        try await TestServer.start().scoped { server in
            let client = BatchClient(server)

            _ = try await runScript(server, dryRun: true, in: server.directory)
            let dryBatch = try await newestBatch(server)
            let dry = try await BatchClient(server).waitForBatch(dryBatch)
            #expect(dry["state"] == .string("dry-run"))
            #expect(dry["dryRun"] == .bool(true))
            #expect(dry["progress"]?["recordsRead"] == .number(3))
            #expect(dry["errors"] == .number(1))
            let emptyList = try JSONParser.parse(try await client.get("/api/v1/objects").body)
            #expect(emptyList["objects"] == .array([]))

            let log = try await client.get("/api/haplo-data-import-batch/log?batch=\(dryBatch)").body.split(separator: "\n")
            #expect(log.count == 3)
            #expect(log[0].hasPrefix("START: "))
            #expect(log[1] == "Invalid email address for input field email: not-an-email (record 2)")
            #expect(log[2].hasPrefix("END: "))

            _ = try await runScript(server, dryRun: false, in: server.directory)
            let realBatch = try await newestBatch(server)
            let real = try await BatchClient(server).waitForBatch(realBatch)
            #expect(real["state"] == .string("complete"))
            #expect(real["progress"]?["recordsApplied"] == .number(3))

            let list = try JSONParser.parse(try await client.get("/api/v1/objects?type=std:type:person&subtypes=true").body)
            let objects = try #require(list["objects"]?.arrayValue)
            #expect(objects.count == 3)
            #expect(objects.map { $0["title"]?.stringValue ?? "" } == ["Joe Bloggs", "Ann Smith", "Łukasz Kowalski"])
            let first = objects[0]
            #expect(first["type"] == .string("std:type:person:staff"))
            #expect(first["version"] == .number(1))
            #expect(
                first["attributes"]?["std:attribute:email"]
                    == .array([.object(JSONObject([("type", .string("email-address")), ("text", .string("joe.bloggs@example.ac.uk"))]))]))
            #expect(first["attributes"]?["std:attribute:username"]?.arrayValue?.first?["text"] == .string("jbloggs"))
            // Ł's record had an invalid email: the value was dropped, the record still imported.
            #expect(objects[2]["attributes"]?["std:attribute:email"] == nil)

            let ref = try #require(first["ref"]?.stringValue)
            let one = try await client.get("/api/v1/objects/\(ref)")
            #expect(one.status == 200)
            #expect(try JSONParser.parse(one.body) == first)
            let history = try JSONParser.parse(try await client.get("/api/v1/objects/\(ref)/history").body)
            #expect(history["versions"]?.arrayValue?.first?["batch"] == .string(realBatch))

            let missing = try await client.get("/api/v1/objects/zzzz")
            #expect(missing.status == 404)
            #expect(missing.body == #"{"error":"Object not found: zzzz"}"#)
            #expect(try await client.get("/api/v1/objects/not-a-ref").status == 404)

            let paged = try JSONParser.parse(try await client.get("/api/v1/objects?type=std:type:person:staff&limit=2").body)
            #expect(paged["objects"]?.arrayValue?.count == 2)
            let cursor = try #require(paged["next"]?.stringValue)
            let rest = try JSONParser.parse(try await client.get("/api/v1/objects?type=std:type:person:staff&limit=2&cursor=\(cursor)").body)
            #expect(rest["objects"]?.arrayValue?.count == 1)
            #expect(rest["next"] == .null)
            #expect(try await client.get("/api/v1/objects?type=std:type:person").body == #"{"objects":[],"next":null}"#)
        }
    }

    @Test func reimportingTheSameDataChangesNothing() async throws {
        try await TestServer.start().scoped { server in
            let client = BatchClient(server)
            let control = try Fixtures.upsertControl()
            let first = try await client.prepareBatch(control: control, files: [("data0", try Fixtures.write(#"[{"name":{"last":"Doe"},"job":"Reader"}]"#))])
            _ = try await client.schedule(batch: first)
            _ = try await BatchClient(server).waitForBatch(first)
            let again = try Fixtures.write(#"[{"ref":"8000","name":{"last":"Doe"},"job":"Reader"},{"ref":"8000","name":{"last":"Doe"},"job":"Professor"}]"#)
            let second = try await client.prepareBatch(control: control, files: [("data0", again)])
            _ = try await client.schedule(batch: second)
            let status = try await BatchClient(server).waitForBatch(second)
            #expect(status["progress"]?["recordsUnchanged"] == .number(1))
            let history = try JSONParser.parse(try await client.get("/api/v1/objects/8000/history").body)
            #expect(history["versions"]?.arrayValue?.map { $0["version"] } == [.number(1), .number(2)])
            #expect(history["versions"]?.arrayValue?.map { $0["batch"] } == [.string(first), .string(second)])
        }
    }
}
