import Foundation
import IntakeCore
import IntakeStore
import Testing

/// Every status code and message of docs/api.md, over real HTTP on loopback.
@Suite(.serialized) struct BatchAPITests {
    let control = Fixtures.examples.appendingPathComponent("control.json")
    let data = Fixtures.examples.appendingPathComponent("data.json")

    @Test func controlUploadReturnsTheDigest() async throws {
        try await RoutedServer.run { server in
            let result = try await BatchClient(server).uploadControl(control)
            #expect(result.status == 200)
            #expect(result.headers.lowercased().contains("content-type: text/plain; charset=utf-8"))
            let bytes = try Data(contentsOf: control)
            #expect(result.body == Digest(SHA256Hashing.hash(bytes)).hex)
            #expect(try await server.blobs.contains(Digest(hex: result.body)!))
        }
    }

    @Test func controlUploadRejectsNonJSONAndInvalidFiles() async throws {
        try await TestServer.start().scoped { server in
            let client = BatchClient(server)
            let notJSON = try await client.uploadControl(try Fixtures.write("{nope"))
            #expect(notJSON.status == 400)
            #expect(notJSON.body == "Uploaded file is not JSON")
            let invalid = try await client.uploadControl(
                try Fixtures.write(#"{"dataImportControlFileVersion":1,"model":"x","instructions":[{"action":"zap"}]}"#))
            #expect(invalid.status == 400)
            #expect(
                invalid.body == """
                    Invalid control file:
                      Bad version of control file, should be 0
                      Model not implemented: x
                      Unknown action in instruction: zap
                      Control file does not have files property
                    """)
            let missing = try await Curl.run([
                "-X", "POST", "-F", "comment=x", "--user", "haplo:\(server.apiKey)",
                "\(server.base)/api/haplo-data-import-batch/control"
            ])
            #expect(missing.status == 400)
            #expect(missing.body == "Missing parameter: file")
        }
    }

    @Test func authenticationFailures() async throws {
        try await TestServer.start().scoped { server in
            let noKey = try await Curl.run(["-X", "POST", "-F", "file=@\(control.path)", "\(server.base)/api/haplo-data-import-batch/control"])
            #expect(noKey.status == 401)
            #expect(noKey.body == "Unauthorized")
            #expect(
                noKey.headers.contains("WWW-Authenticate: Basic realm=\"Intake\"")
                    || noKey.headers.lowercased().contains("www-authenticate: basic realm=\"intake\""))
            let wrong = try await BatchClient(server, key: "ik_wrong").uploadControl(control)
            #expect(wrong.status == 401)
            #expect(wrong.body == "Unauthorized")

            let readKey = APIKeyHashing.newKey()
            _ = try await server.store.createAPIKey(name: "reader", scope: .read, hash: APIKeyHashing.hash(readKey), now: Date())
            let forbidden = try await BatchClient(server, key: readKey).uploadControl(control)
            #expect(forbidden.status == 403)
            #expect(forbidden.body == "Forbidden")
            let readOK = try await BatchClient(server, key: readKey).get("/api/v1/objects")
            #expect(readOK.status == 200)

            let batchKey = APIKeyHashing.newKey()
            let id = try await server.store.createAPIKey(name: "batch", scope: .batch, hash: APIKeyHashing.hash(batchKey), now: Date())
            #expect(try await BatchClient(server, key: batchKey).uploadControl(control).status == 200)
            #expect(try await BatchClient(server, key: batchKey).get("/api/v1/objects").status == 403)
            #expect(try await server.store.revokeAPIKey(id: id))
            let revoked = try await BatchClient(server, key: batchKey).uploadControl(control)
            #expect(revoked.status == 401)
        }
    }

    @Test func unknownPathsAndWrongMethods() async throws {
        try await TestServer.start().scoped { server in
            #expect(try await Curl.run(["\(server.base)/api/haplo-data-import-batch/nope"]).status == 404)
            let wrongMethod = try await Curl.run(["\(server.base)/api/haplo-data-import-batch/control"])
            #expect(wrongMethod.status == 405)
            #expect(try await Curl.run(["-X", "POST", "\(server.base)/api/haplo-data-import-batch/status"]).status == 405)
            let health = try await Curl.run(["\(server.base)/health"])
            #expect(health.status == 200)
            #expect(health.body == "OK")
        }
    }

    @Test func batchCreationMessages() async throws {
        try await TestServer.start().scoped { server in
            let client = BatchClient(server)
            let unknown = try await client.createBatch(control: String(repeating: "a", count: 64))
            #expect(unknown.status == 400)
            #expect(unknown.body == "Control file not found: \(String(repeating: "a", count: 64))")
            let garbage = try await client.createBatch(control: "xyz")
            #expect(garbage.body == "Control file not found: xyz")
            let missing = try await Curl.run([
                "-X", "POST", "-d", "comment=x", "--user", "haplo:\(server.apiKey)",
                "\(server.base)/api/haplo-data-import-batch/batch"
            ])
            #expect(missing.status == 400)
            #expect(missing.body == "Missing parameter: control")
            let digest = try await client.uploadControl(control).body
            let created = try await client.createBatch(control: digest)
            #expect(created.status == 200)
            #expect(created.body.count == 26)
            let batch = try #require(try await server.store.batch(BatchID(rawValue: created.body)))
            #expect(batch.state == .uploading)
            #expect(batch.comment == "Example import")
        }
    }

    @Test func fileUploadMessages() async throws {
        try await TestServer.start().scoped { server in
            let client = BatchClient(server)
            let unknown = try await client.uploadFile(batch: "nosuchbatch", name: "data0", file: data)
            #expect(unknown.status == 400)
            #expect(unknown.body == "Batch not found: nosuchbatch")
            let digest = try await client.uploadControl(control).body
            let batch = try await client.createBatch(control: digest).body
            let wrongName = try await client.uploadFile(batch: batch, name: "other", file: data)
            #expect(wrongName.status == 400)
            #expect(wrongName.body == "No file specification for other in control file (and no DEFAULT entry)")
            // Parts in any order: the file first, then batch and name.
            let reordered = try await Curl.run([
                "-X", "POST", "-F", "file=@\(data.path)", "-F", "name=data0", "-F", "batch=\(batch)",
                "--user", "haplo:\(server.apiKey)", "\(server.base)/api/haplo-data-import-batch/file"
            ])
            #expect(reordered.status == 200)
            #expect(reordered.body == Digest(SHA256Hashing.hash(try Data(contentsOf: data))).hex)
            let noName = try await Curl.run([
                "-X", "POST", "-F", "batch=\(batch)", "-F", "file=@\(data.path)",
                "--user", "haplo:\(server.apiKey)", "\(server.base)/api/haplo-data-import-batch/file"
            ])
            #expect(noName.body == "Missing parameter: name")
            // Replacing a name keeps one entry.
            _ = try await client.uploadFile(batch: batch, name: "data0", file: try Fixtures.write("[]"))
            let stored = try #require(try await server.store.batch(BatchID(rawValue: batch)))
            #expect(stored.files.count == 1)
            #expect(stored.files[0].size == 2)
            #expect(stored.files[0].filename.hasPrefix("file-"))

            #expect(try await client.schedule(batch: batch, dryRun: true).body == "SCHEDULED")
            let late = try await client.uploadFile(batch: batch, name: "data0", file: data)
            #expect(late.status == 400)
            #expect(late.body == "Batch \(batch) is not in the 'uploading' state")
        }
    }

    @Test func scheduleMessages() async throws {
        try await TestServer.start().scoped { server in
            let client = BatchClient(server)
            let unknown = try await client.schedule(batch: "nope")
            #expect(unknown.status == 400)
            #expect(unknown.body == "Batch not found: nope")
            let missing = try await Curl.run([
                "-X", "POST", "-d", "mode=dry-run", "--user", "haplo:\(server.apiKey)",
                "\(server.base)/api/haplo-data-import-batch/schedule"
            ])
            #expect(missing.body == "Missing parameter: batch")
            let batch = try await client.prepareBatch(control: control, files: [("data0", data)])
            let scheduled = try await client.schedule(batch: batch)
            #expect(scheduled.status == 200)
            #expect(scheduled.body == "SCHEDULED")
            let again = try await client.schedule(batch: batch)
            #expect(again.status == 400)
            #expect(again.body == "Batch \(batch) is not in the 'uploading' state")
            let status = try await BatchClient(server).waitForBatch(batch)
            #expect(status["state"] == .string("complete"))
        }
    }

    @Test func uploadsOverTheLimitAre413AndKeepNothing() async throws {
        try await TestServer.start(maxUploadBytes: 4096).scoped { server in
            let client = BatchClient(server)
            let batch = try await client.prepareBatch(control: control, files: [])
            let big = try Fixtures.write("[" + String(repeating: "1,", count: 10_000) + "1]")
            let result = try await client.uploadFile(batch: batch, name: "data0", file: big)
            #expect(result.status == 413)
            #expect(try await server.partialUploads() == 0)
            #expect(try await server.store.batch(BatchID(rawValue: batch))?.files.isEmpty == true)
        }
    }
}

extension BatchAPITests {
    @Test func chunkedUploadsOverTheLimitAre413() async throws {
        try await TestServer.start(maxUploadBytes: 4096).scoped { server in
            let batch = try await BatchClient(server).prepareBatch(control: control, files: [])
            let big = try Fixtures.write("[" + String(repeating: "1,", count: 10_000) + "1]")
            let result = try await Curl.run([
                "-X", "POST", "-H", "Transfer-Encoding: chunked", "-F", "batch=\(batch)", "-F", "name=data0",
                "-F", "file=@\(big.path)", "--user", "haplo:\(server.apiKey)",
                "\(server.base)/api/haplo-data-import-batch/file"
            ])
            #expect(result.status == 413)
            #expect(try await server.partialUploads() == 0)
        }
    }
}

extension BatchAPITests {
    @Test func largeUploadsGetAnImmediate100Continue() async throws {
        try await TestServer.start().scoped { server in
            let batch = try await BatchClient(server).prepareBatch(control: control, files: [])
            let big = try Fixtures.write("[" + String(repeating: "{\"first\":\"x\"},", count: 200_000) + "{}]")
            let result = try await BatchClient(server).uploadFile(batch: batch, name: "data0", file: big)
            #expect(result.status == 200)
            // curl asks with `Expect: 100-continue` above 1 MiB; the interim response is in its header dump.
            #expect(result.headers.hasPrefix("HTTP/1.1 100 Continue"))
        }
    }
}
