import Foundation
import IntakeCore
import IntakeStore
import Testing

/// The extensions of docs/api.md: results, copy, cancel and rollback.
@Suite struct BatchExtensionTests {
    let control = Fixtures.examples.appendingPathComponent("control.json")
    let data = Fixtures.examples.appendingPathComponent("data.json")

    private func post(_ client: BatchClient, _ endpoint: String, batch: String) async throws -> Curl.Result {
        try await client.post(endpoint, ["batch": batch])
    }

    @Test func resultsListEveryRecordInInputOrder() async throws {
        try await RoutedServer.run { server in
            let client = BatchClient(server)
            let batch = try await client.prepareBatch(control: control, files: [("data0", data)])
            _ = try await client.schedule(batch: batch)
            _ = try await client.waitForBatch(batch)
            let results = try await client.get("/api/haplo-data-import-batch/results?batch=\(batch)")
            #expect(results.status == 200)
            #expect(results.headers.lowercased().contains("content-type: application/x-ndjson"))
            let lines = try results.body.split(separator: "\n").map { try JSONParser.parse(String($0)) }
            #expect(lines.count == 3)
            // A new object's diff lists what it was created with, in the read API's value encoding.
            let diff = try JSONParser.parse(
                #"""
                [{"attribute":"dc:attribute:type","before":[],"after":[{"type":"object-type","code":"std:type:person:staff"}]},
                 {"attribute":"dc:attribute:title","before":[],"after":[{"type":"person-name","first":"Joe","last":"Bloggs"}]},
                 {"attribute":"std:attribute:email","before":[],"after":[{"type":"email-address","text":"joe.bloggs@example.ac.uk"}]},
                 {"attribute":"std:attribute:job-title","before":[],"after":[{"type":"text","text":"Lecturer"}]},
                 {"attribute":"std:attribute:username","before":[],"after":[{"type":"text","text":"jbloggs"}]}]
                """#)
            #expect(
                lines[0]
                    == .object(
                        JSONObject([
                            ("record", .string("record 0")), ("file", .string("data0")), ("line", .number(2)), ("status", .string("applied")),
                            (
                                "changes",
                                .array([
                                    .object(
                                        JSONObject([
                                            ("kind", .string("object:save")), ("destination", .string("profile")),
                                            ("ref", .string("8000")), ("new", .bool(true)), ("diff", diff)
                                        ]))
                                ])
                            ),
                            ("errors", .array([]))
                        ])))
            #expect(lines[2]["errors"] == .array([.string("Invalid email address for input field email: not-an-email (record 2)")]))
        }
    }

    @Test func resultsFilterByStatusAndPage() async throws {
        try await RoutedServer.run { server in
            let client = BatchClient(server)
            let control = try Fixtures.write(
                #"""
                {"dataImportControlFileVersion":0,"model":"haplo:person","files":{"data0":{"read":"json"}},"instructions":[
                 {"action":"new","destination":"profile"},
                 {"source":"last","destination":"value:person-name","name":"last"},
                 {"action":"field-structured","structured":"value:person-name","destination":"profile","name":"dc:attribute:title"},
                 {"action":"if-value-one-of","source":"role","values":["BAD"],"then":[{"action":"abort-record","message":"Bad role"}]}]}
                """#)
            let data = try Fixtures.write(#"[{"last":"A"},{"last":"B"},{"last":"C","role":"BAD"}]"#)
            let batch = try await client.prepareBatch(control: control, files: [("data0", data)])
            _ = try await client.schedule(batch: batch)
            _ = try await client.waitForBatch(batch)
            func records(_ query: String) async throws -> [String] {
                let body = try await client.get("/api/haplo-data-import-batch/results?batch=\(batch)&\(query)").body
                return try body.split(separator: "\n").map { try JSONParser.parse(String($0))["record"]?.stringValue ?? "?" }
            }
            #expect(try await records("") == ["record 0", "record 1", "record 2"])
            #expect(try await records("status=failed") == ["record 2"])
            #expect(try await records("status=failed&status=applied") == ["record 0", "record 1", "record 2"])
            #expect(try await records("status=unchanged").isEmpty)
            #expect(try await records("after=0&limit=1") == ["record 1"])
            #expect(try await records("after=1") == ["record 2"])
            #expect(try await records("after=2").isEmpty)
            #expect(try await records("limit=2") == ["record 0", "record 1"])
            let bad = try await client.get("/api/haplo-data-import-batch/results?batch=\(batch)&status=ok")
            #expect(bad.status == 400)
            #expect(bad.body == "Invalid status: ok (use applied, failed, unchanged, left, dry-run or not-applied)")
            #expect(
                try await client.get("/api/haplo-data-import-batch/results?batch=\(batch)&limit=0").body == "Invalid limit: 0 (a number of lines, 1 or more)")
            #expect(try await client.get("/api/haplo-data-import-batch/results?batch=\(batch)&after=x").body == "Invalid after: x (a record number, 0 or more)")
        }
    }

    @Test func copyThenImportForReal() async throws {
        try await RoutedServer.run { server in
            let client = BatchClient(server)
            let dry = try await client.prepareBatch(control: control, files: [("data0", data)])
            _ = try await client.schedule(batch: dry, dryRun: true)
            #expect(try await client.waitForBatch(dry)["state"] == .string("dry-run"))
            let copy = try await post(client, "copy", batch: dry)
            #expect(copy.status == 200)
            let copied = try #require(try await server.store.batch(BatchID(rawValue: copy.body)))
            #expect(copied.state == .uploading)
            #expect(copied.comment == "Example import (copy)")
            #expect(copied.files.map(\.name) == ["data0"])
            _ = try await client.schedule(batch: copy.body)
            #expect(try await client.waitForBatch(copy.body)["progress"]?["recordsApplied"] == .number(3))
            #expect(try await post(client, "copy", batch: "nope").body == "Batch not found: nope")
        }
    }

    @Test func cancellingBeforeAndDuringARun() async throws {
        try await RoutedServer.run { server in
            let client = BatchClient(server)
            let waiting = try await client.prepareBatch(control: control, files: [("data0", data)])
            let cancelled = try await post(client, "cancel", batch: waiting)
            #expect(cancelled.status == 200)
            #expect(cancelled.body == "CANCELLED")
            #expect(try await server.store.batch(BatchID(rawValue: waiting))?.state == .cancelled)
            #expect(try await client.schedule(batch: waiting).body == "Batch \(waiting) is not in the 'uploading' state")
            #expect(try await post(client, "cancel", batch: waiting).body == "Batch \(waiting) has already finished")

            let big = try await client.prepareBatch(
                control: try Fixtures.write(RestartTests.control),
                files: [("people", try RestartTests.peopleFile())])
            _ = try await client.schedule(batch: big)
            while try await server.store.batch(BatchID(rawValue: big))?.progress.recordsRead ?? 0 < 500 {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(try await post(client, "cancel", batch: big).body == "CANCELLED")
            let status = try await client.waitForBatch(big)
            #expect(status["state"] == .string("cancelled"))
            let read = try #require(status["progress"]?["recordsRead"].flatMap { if case .number(let n) = $0 { n } else { nil } })
            #expect(read < Double(RestartTests.recordCount))
            let log = try await client.get("/api/haplo-data-import-batch/log?batch=\(big)").body
            #expect(log.contains("CANCELLED: stopped after \(Int(read)) records"))
            var objects = 0
            var cursor = ""
            repeat {
                let page = try JSONParser.parse(try await client.get("/api/v1/objects?limit=1000\(cursor)").body)
                objects += page["objects"]?.arrayValue?.count ?? 0
                cursor = page["next"]?.stringValue.map { "&cursor=\($0)" } ?? ""
            } while !cursor.isEmpty
            #expect(Double(objects) == read)
        }
    }

    @Test func rollbackRestoresAndDeletesOrReportsConflicts() async throws {
        try await RoutedServer.run { server in
            let client = BatchClient(server)
            let upsert = try Fixtures.upsertControl(fileName: "d")
            func run(_ records: String) async throws -> String {
                let batch = try await client.prepareBatch(control: upsert, files: [("d", try Fixtures.write(records))])
                _ = try await client.schedule(batch: batch)
                _ = try await client.waitForBatch(batch)
                return batch
            }
            func job(_ ref: String) async throws -> JSONValue? {
                try JSONParser.parse(try await client.get("/api/v1/objects/\(ref)").body)["attributes"]?["std:attribute:job-title"]?.arrayValue?
                    .first?["text"]
            }
            func state(_ batch: String) async throws -> JSONValue? {
                try JSONParser.parse(try await client.get("/api/haplo-data-import-batch/status?batch=\(batch)").body)["state"]
            }
            let first = try await run(#"[{"name":{"last":"Keep"},"job":"Lecturer"}]"#)
            let second = try await run(#"[{"ref":"8000","name":{"last":"Keep"},"job":"Professor"},{"name":{"last":"Added"}}]"#)

            // The preview changes nothing and says what the rollback will do.
            let preview = try JSONParser.parse(try await client.get("/api/haplo-data-import-batch/rollback-preview?batch=\(second)").body)
            #expect(preview["delete"] == .array([.string("8001")]) && preview["deleteCount"] == .number(1))
            #expect(preview["restore"] == .array([.object(JSONObject([("ref", .string("8000")), ("version", .number(1))]))]))
            #expect(preview["conflicts"] == .array([]) && preview["feedKeyCount"] == .number(0))
            #expect(try await job("8000") == .string("Professor"))

            let rolledBack = try await post(client, "rollback", batch: second)
            #expect(rolledBack.status == 200)
            #expect(rolledBack.body == "ROLLED BACK")
            #expect(try await state(second) == .string("rolled-back"))
            let kept = try JSONParser.parse(try await client.get("/api/v1/objects/8000").body)
            #expect(kept["version"] == .number(3))
            #expect(try await job("8000") == .string("Lecturer"))
            // The object the batch created has a deleted version, written by the rollback.
            let added = try JSONParser.parse(try await client.get("/api/v1/objects/8001").body)
            #expect(added["deleted"] == .bool(true) && added["version"] == .number(2))
            let history = try await server.store.history(of: try #require(ObjectRef(text: "8001")))
            #expect(history.map(\.batch) == [second, "rollback of \(second)"])
            let log = try await client.get("/api/haplo-data-import-batch/log?batch=\(second)").body
            let lastLine = try #require(log.split(separator: "\n").last)
            #expect(
                lastLine.hasPrefix("ROLLED BACK: ") && lastLine.contains(" by api key ")
                    && lastLine.hasSuffix(" (test): 1 object deleted, 1 restored, 0 left alone because later changes touched them"))
            // Once only: a rolled-back batch is no longer complete.
            #expect(try await post(client, "rollback", batch: second).body == "Batch \(second) is not in the 'complete' state")
            #expect(try await client.get("/api/haplo-data-import-batch/rollback-preview?batch=\(second)").status == 400)

            // A later batch changed 8000 again: the earlier one's rollback leaves it alone, says so (409,
            // the log) and is rolled back all the same.
            let third = try await run(#"[{"ref":"8000","name":{"last":"Keep"},"job":"Reader"}]"#)
            _ = try await run(#"[{"ref":"8000","name":{"last":"Keep"},"job":"Dean"}]"#)
            let conflicts = try JSONParser.parse(try await client.get("/api/haplo-data-import-batch/rollback-preview?batch=\(third)").body)
            #expect(conflicts["conflicts"] == .array([.string("8000")]) && conflicts["conflictCount"] == .number(1))
            let conflict = try await post(client, "rollback", batch: third)
            #expect(conflict.status == 409)
            #expect(conflict.body == "Rolled back, except these objects, which later changes touched:\n  8000")
            #expect(try await state(third) == .string("rolled-back"))
            #expect(
                try await client.get("/api/haplo-data-import-batch/log?batch=\(third)").body.hasSuffix(
                    "left alone because later changes touched them\nLEFT ALONE: 8000\n"))
            #expect(try await job("8000") == .string("Dean"))

            // Newest first: each rollback's restore leaves what the batch before wrote, which is no
            // conflict for that batch, down to the batch that created the object.
            let created = try await run(#"[{"name":{"last":"Chain"},"job":"Lecturer"}]"#)
            let promoted = try await run(#"[{"ref":"8002","name":{"last":"Chain"},"job":"Professor"}]"#)
            let renamed = try await run(#"[{"ref":"8002","name":{"last":"Chain"},"job":"Reader"}]"#)
            for batch in [renamed, promoted, created] {
                #expect(try await post(client, "rollback", batch: batch).body == "ROLLED BACK")
            }
            #expect(try JSONParser.parse(try await client.get("/api/v1/objects/8002").body)["deleted"] == .bool(true))
            #expect(try await state(first) == .string("complete"))

            let notComplete = try await client.prepareBatch(control: upsert, files: [])
            #expect(try await post(client, "rollback", batch: notComplete).body == "Batch \(notComplete) is not in the 'complete' state")
        }
    }
}
