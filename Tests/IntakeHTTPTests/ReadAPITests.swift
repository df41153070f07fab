import Foundation
import IntakeCore
import Testing

/// Schema, models, dictionaries and batch listings of the read API.
@Suite struct ReadAPITests {
    static let schemaFile = #"""
        {"attributes": [{"code": "test:attribute:grade", "name": "Grade", "dataType": "integer"}],
         "types": [{"code": "test:type:course", "name": "Course", "attributes": ["dc:attribute:title", "test:attribute:grade"]}],
         "objects": [{"type": "std:type:list", "title": "Full time", "behaviour": "test:list:mode:full"}],
         "models": [{"name": "test:enrolments", "description": "Courses and notes",
                     "destinations": [
                       {"name": "course", "kind": "object", "objectType": "test:type:course"},
                       {"name": "note", "kind": "dictionary", "optional": true,
                        "dictionaryNames": {"text": {"type": "text", "required": true}, "tags": {"type": "text", "multivalue": true}}}]}]}
        """#

    static func schema() throws -> Schema {
        var schema = StandardSchema.make()
        try SchemaFile.apply(try JSONParser.parse(schemaFile), named: "test.json", to: &schema)
        return schema
    }

    /// A control file for the `test:enrolments` model reading one json file `d`.
    static func enrolmentsControl(_ instructions: String) throws -> URL {
        try Fixtures.write(
            #"{"dataImportControlFileVersion":0,"model":"test:enrolments","files":{"d":{"read":"json"}},"instructions":["#
                + instructions + "]}")
    }

    @Test func schemaAndModels() async throws {
        try await RoutedServer.run(schema: try Self.schema()) { server in
            let client = BatchClient(server)
            let schema = try JSONParser.parse(try await client.get("/api/v1/schema").body)
            let person = try #require(schema["types"]?.arrayValue?.first { $0["code"] == .string("std:type:person") })
            #expect(person["attributes"]?.arrayValue?.contains(.string("std:attribute:email")) == true)
            #expect(schema["attributes"]?.arrayValue?.contains { $0["code"] == .string("test:attribute:grade") } == true)

            let models = try JSONParser.parse(try await client.get("/api/v1/models").body)
            let names = models["models"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(names.contains("haplo:person"))
            #expect(names.contains("TYPE:std:type:book"))
            #expect(names.contains("test:enrolments"))

            let model = try JSONParser.parse(try await client.get("/api/v1/models/haplo:person").body)
            let destinations = model["destinations"]?.arrayValue ?? []
            #expect(destinations.map { $0["name"]?.stringValue ?? "" } == ["profile", "load:by-ref", "value:person-name", "value:postal-address"])
            #expect(destinations[1]["pseudo"] == .bool(true))
            let title = destinations[0]["names"]?.arrayValue?.first { $0["name"] == .string("dc:attribute:title") }
            #expect(title?["type"] == .string("person-name"))
            #expect(title?["required"] == .bool(true))

            let missing = try await client.get("/api/v1/models/nope")
            #expect(missing.status == 404)
            #expect(missing.body == #"{"error":"Model not found: nope"}"#)
        }
    }

    @Test func titleFilterMatchesAnyTitleExactly() async throws {
        try await RoutedServer.run(schema: try Self.schema()) { server in
            let client = BatchClient(server)
            let control = try Self.enrolmentsControl(
                #"""
                  {"action":"new","destination":"course"},
                  {"action":"for-each","source":"names","wrapValues":true,"instructions":[
                    {"source":"value","destination":"course","name":"dc:attribute:title","multivalue":true}]}
                """#)
            let data = try Fixtures.write(
                #"""
                [{"names":["Maths","Mathematics"]},{"names":["Art"]},{"names":["Applied Maths","Maths"]},{"names":["maths"]}]
                """#)
            let batch = try await client.prepareBatch(control: control, files: [("d", data)])
            _ = try await client.schedule(batch: batch)
            #expect(try await client.waitForBatch(batch)["state"] == .string("complete"))
            func titles(_ query: String) async throws -> [[String]] {
                let page = try JSONParser.parse(try await client.get("/api/v1/objects?\(query)").body)
                return (page["objects"]?.arrayValue ?? []).map { object in
                    (object["attributes"]?["dc:attribute:title"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }
                }
            }
            #expect(try await titles("title=Maths") == [["Maths", "Mathematics"], ["Applied Maths", "Maths"]])
            #expect(try await titles("title=Mathematics&type=test:type:course") == [["Maths", "Mathematics"]])
            #expect(try await titles("title=Math") == [])
            #expect(try await titles("title=Maths&limit=1").count == 1)
            // A query string as a form sends it: '+' is a space, and keys are percent-decoded too.
            #expect(try await titles("title=Applied+Maths") == [["Applied Maths", "Maths"]])
            #expect(try await titles("title=Applied%20Maths") == [["Applied Maths", "Maths"]])
            #expect(try await titles("%74itle=Applied+Maths") == [["Applied Maths", "Maths"]])
            #expect(try await titles("title=A%2Bb") == [])
        }
    }

    @Test func dictionaryTargetsAreStoredAsDocuments() async throws {
        try await RoutedServer.run(schema: try Self.schema()) { server in
            let client = BatchClient(server)
            let control = try Self.enrolmentsControl(
                #"""
                  {"action":"new","destination":"course"},
                  {"source":"name","destination":"course","name":"dc:attribute:title"},
                  {"source":"grade","destination":"course","name":"test:attribute:grade"},
                  {"action":"if-exists","source":"note","then":[
                    {"action":"new","destination":"note"},
                    {"source":"note","destination":"note","name":"text"},
                    {"action":"for-each","source":"tags","wrapValues":true,"instructions":[
                      {"source":"value","destination":"note","name":"tags","multivalue":true}]}]}
                """#)
            let data = try Fixtures.write(#"[{"name":"Maths","grade":"5","note":"Hard","tags":["a","b"]},{"name":"Art","grade":"x"}]"#)
            let batch = try await client.prepareBatch(control: control, files: [("d", data)])
            _ = try await client.schedule(batch: batch)
            let status = try await client.waitForBatch(batch)
            #expect(status["state"] == .string("complete"))
            let log = try await client.get("/api/haplo-data-import-batch/log?batch=\(batch)").body
            #expect(log.contains("Invalid integer for input field grade: x (record 1)"))

            let documents = try JSONParser.parse(try await client.get("/api/v1/dictionaries/test:enrolments/note?batch=\(batch)").body)
            #expect(
                documents
                    == .object(
                        JSONObject([
                            (
                                "documents",
                                .array([
                                    .object(
                                        JSONObject([
                                            ("batch", .string(batch)), ("record", .string("record 0")),
                                            ("values", .object(JSONObject([("text", .string("Hard")), ("tags", .array([.string("a"), .string("b")]))])))
                                        ]))
                                ])
                            )
                        ])))
            let courses = try JSONParser.parse(try await client.get("/api/v1/objects?type=test:type:course").body)
            #expect(courses["objects"]?.arrayValue?.map { $0["title"] } == [.string("Maths"), .string("Art")])
            #expect(
                courses["objects"]?.arrayValue?.first?["attributes"]?["test:attribute:grade"]
                    == .array([.object(JSONObject([("type", .string("integer")), ("value", .number(5))]))]))

            let list = try JSONParser.parse(try await client.get("/api/v1/batches?state=complete").body)
            #expect(list["batches"]?.arrayValue?.map { $0["identifier"] } == [.string(batch)])
            // The schema's list object was created once at start-up.
            let lists = try JSONParser.parse(try await client.get("/api/v1/objects?type=std:type:list").body)
            #expect(lists["objects"]?.arrayValue?.map { $0["title"] } == [.string("Full time")])
        }
    }
}
