import Foundation
import IntakeCore
import IntakeStore
import Testing

/// Inputs meant to break the server or to be half-accepted: each is refused with a message that says
/// what is wrong, and leaves nothing behind.
@Suite(.serialized) struct HostileInputTests {
    let control = Fixtures.examples.appendingPathComponent("control.json")

    private func postRaw(_ server: TestServer, _ endpoint: String, body: [UInt8], boundary: String) async throws -> Curl.Result {
        let file = FileManager().temporaryDirectory.appendingPathComponent("body-\(UUID().uuidString)")
        try Data(body).write(to: file)
        defer { try? FileManager().removeItem(at: file) }
        return try await Curl.run([
            "-X", "POST", "-H", "Content-Type: multipart/form-data; boundary=\(boundary)",
            "--data-binary", "@\(file.path)", "--user", "haplo:\(server.apiKey)",
            "\(server.base)/api/haplo-data-import-batch/\(endpoint)"
        ])
    }

    @Test func aMultipartBodyCutShortIsRefusedAndNothingIsKept() async throws {
        try await TestServer.start().scoped { server in
            let client = BatchClient(server)
            let digest = try await client.uploadControl(control).body
            let batch = try await client.createBatch(control: digest).body
            let complete = """
                --XyZ\r\nContent-Disposition: form-data; name="batch"\r\n\r\n\(batch)\r\n\
                --XyZ\r\nContent-Disposition: form-data; name="name"\r\n\r\ndata0\r\n\
                --XyZ\r\nContent-Disposition: form-data; name="file"; filename="data.csv"\r\n\r\n[{"a":1},{"a":2}]\r\n--XyZ--\r\n
                """
            // Cut inside the file part: no closing delimiter.
            let truncated = Array(complete.utf8.prefix(complete.utf8.count - 20))
            let refused = try await postRaw(server, "file", body: truncated, boundary: "XyZ")
            #expect(refused.status == 400)
            #expect(refused.body == "Incomplete multipart body: it ends before the closing boundary, so the upload was cut short; nothing was kept")
            #expect(try await server.partialUploads() == 0)
            #expect(try await server.store.batch(BatchID(rawValue: batch))?.files.isEmpty == true)

            let accepted = try await postRaw(server, "file", body: Array(complete.utf8), boundary: "XyZ")
            #expect(accepted.status == 200)
            #expect(try await server.store.batch(BatchID(rawValue: batch))?.files.count == 1)
        }
    }

    @Test func onlyDryRunOrNoModeIsAccepted() async throws {
        try await TestServer.start().scoped { server in
            let client = BatchClient(server)
            let digest = try await client.uploadControl(control).body
            let batch = try await client.createBatch(control: digest).body
            _ = try await client.uploadFile(batch: batch, name: "data0", file: Fixtures.examples.appendingPathComponent("data.json"))
            for mode in ["dryrun", "DRY-RUN", "real", "dry-run "] {
                let result = try await Curl.run([
                    "-X", "POST", "-d", "batch=\(batch)", "--data-urlencode", "mode=\(mode)",
                    "--user", "haplo:\(server.apiKey)", "\(server.base)/api/haplo-data-import-batch/schedule"
                ])
                #expect(result.status == 400)
                #expect(result.body == "Invalid mode: \(mode)")
            }
            #expect(try await server.store.batch(BatchID(rawValue: batch))?.state == .uploading)
            let empty = try await Curl.run([
                "-X", "POST", "-d", "batch=\(batch)", "-d", "mode=",
                "--user", "haplo:\(server.apiKey)", "\(server.base)/api/haplo-data-import-batch/schedule"
            ])
            #expect(empty.status == 200)
            let finished = try await client.waitForBatch(batch)
            #expect(finished["state"] == .string("complete"))
        }
    }

    @Test func anOversizedControlFileIsRefusedForItsSize() async throws {
        try await TestServer.start().scoped { server in
            let big = FileManager().temporaryDirectory.appendingPathComponent("big-control-\(UUID().uuidString).json")
            try Data(repeating: 0x20, count: 17 << 20).write(to: big)
            defer { try? FileManager().removeItem(at: big) }
            let result = try await BatchClient(server).uploadControl(big)
            #expect(result.status == 413)
            #expect(result.body == "Control file too large: \(17 << 20) bytes, the limit is \(16 << 20) bytes")
            #expect(try await server.partialUploads() == 0)
        }
    }

    @Test func parametersWithNULAreRefusedAndControlCharactersEscaped() async throws {
        try await TestServer.start().scoped { server in
            let client = BatchClient(server)
            let digest = try await client.uploadControl(control).body
            let nul = try await Curl.run([
                "-X", "POST", "--data-binary", "control=\(digest)&comment=a%00b",
                "--user", "haplo:\(server.apiKey)", "\(server.base)/api/haplo-data-import-batch/batch"
            ])
            #expect(nul.status == 400)
            #expect(nul.body == "Parameter comment contains a NUL character")
            let query = try await client.get("/api/haplo-data-import-batch/status?batch=x%00y")
            #expect(query.status == 400)
            #expect(query.body == "Parameter batch contains a NUL character")
            let escaped = try await client.get("/api/haplo-data-import-batch/status?batch=x%1B%5B31m%0Ay")
            #expect(escaped.status == 400)
            #expect(escaped.body == #"Batch not found: x\u{1B}[31m\ny"#)
        }
    }

    @Test func aBatchWithManyFilesRunsThemAllInOrder() async throws {
        try await RoutedServer.run { server in
            let client = BatchClient(server)
            let control = try Fixtures.write(
                #"""
                {"dataImportControlFileVersion":0,"model":"haplo:person","files":{"DEFAULT":{"read":"json"}},"instructions":[
                 {"action":"new","destination":"profile"},
                 {"source":"last","destination":"value:person-name","name":"last"},
                 {"action":"field-structured","structured":"value:person-name","destination":"profile","name":"dc:attribute:title"}]}
                """#)
            let count = 150
            let files = try (0..<count).map { ("f\($0)", try Fixtures.write(#"[{"last":"L\#($0)"}]"#)) }
            let batch = try await client.prepareBatch(control: control, files: files)
            #expect(try await server.store.batch(BatchID(rawValue: batch))?.files.count == count)
            _ = try await client.schedule(batch: batch)
            let status = try await client.waitForBatch(batch)
            #expect(status["state"] == .string("complete"))
            #expect(status["progress"]?["recordsApplied"] == .number(Double(count)))
            let results = try await client.get("/api/haplo-data-import-batch/results?batch=\(batch)").body.split(separator: "\n")
            #expect(try results.map { try JSONParser.parse(String($0))["file"]?.stringValue ?? "" } == (0..<count).map { "f\($0)" })
        }
    }

    @Test func aControlFileWithANULIsRefused() async throws {
        try await RoutedServer.run { server in
            let control = try Fixtures.write(
                #"{"dataImportControlFileVersion":0,"model":"haplo:person","files":{"data\u0000":{"read":"json"}},"instructions":[]}"#)
            let result = try await BatchClient(server).uploadControl(control)
            #expect(result.status == 400)
            #expect(result.body == "Invalid control file:\n  A string in the control file contains a NUL character (\\u0000)")
        }
    }

    @Test func partialUploadsOfStoppedProcessesAreRemovedAndFailedCommitsLeaveNothing() async throws {
        let root = try TestServer.makeDirectory().appendingPathComponent("blobs")
        let blobs = try LocalBlobStorage(root: root)
        let tmp = root.appendingPathComponent("tmp")
        // A process that no longer exists, and this one (an upload in progress).
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        try Data("partial".utf8).write(to: tmp.appendingPathComponent("\(process.processIdentifier)-abandoned"))
        let live = try blobs.makeWriter()
        try live.write(Array("in progress".utf8))
        try await live.flush()
        #expect(blobs.removeAbandonedTemporaries() == 1)
        #expect(try FileManager().contentsOfDirectory(atPath: tmp.path) == [live.temporary.lastPathComponent])

        // The blob's folder cannot be made (a file is in the way): the commit fails, the temporary goes.
        let bytes = Array("content".utf8)
        let digest = Digest(SHA256Hashing.hash(Data(bytes)))
        try Data().write(to: root.appendingPathComponent(String(digest.hex.prefix(2))))
        live.discard()
        let writer = try blobs.makeWriter()
        try writer.write(bytes)
        await #expect(throws: BlobStoreError.self) { _ = try await writer.finish() }
        #expect(try FileManager().contentsOfDirectory(atPath: tmp.path).isEmpty)
    }
}
