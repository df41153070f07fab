import Foundation
import IntakeStore
import Testing

/// Failures of the disk or the database under the server: answered with a status and a message that
/// say what happened, logged with the cause, nothing partial kept, and visible to a readiness check.
@Suite(.serialized) struct StorageFailureTests {
    @Test func aLockedDatabaseAnswers503AndMakesTheServiceNotReady() async throws {
        try await TestServer.start(busyTimeout: 0.3).scoped { server in
            let client = BatchClient(server)
            let digest = try await client.uploadControl(Fixtures.examples.appendingPathComponent("control.json")).body
            #expect(try await Curl.run(["\(server.base)/ready"]).body == "READY")

            // Another process takes the write lock and keeps it until it is stopped.
            let holder = Process()
            holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            holder.arguments = [
                "python3", "-c",
                """
                import sqlite3, sys, time
                c = sqlite3.connect(sys.argv[1], isolation_level=None)
                c.execute('BEGIN IMMEDIATE')
                print('locked', flush=True)
                time.sleep(60)
                """, server.directory.appendingPathComponent("intake.sqlite").path
            ]
            let output = Pipe()
            holder.standardOutput = output
            try holder.run()
            let reader = output.fileHandleForReading
            let locked = try await onOwnThread { String(decoding: reader.availableData, as: UTF8.self) }
            #expect(locked.hasPrefix("locked"))
            let refused = try await client.createBatch(control: digest)
            #expect(refused.status == 503)
            #expect(refused.body == "The database is busy: another process holds its lock. Nothing was changed; try again shortly.")
            #expect(refused.headers.lowercased().contains("retry-after: 5"))
            let ready = try await Curl.run(["\(server.base)/ready"])
            #expect(ready.status == 503)
            #expect(ready.body.hasPrefix("Not ready: the database was locked by another process"))

            kill(holder.processIdentifier, SIGKILL)
            let pid = holder.processIdentifier
            _ = try await onOwnThread {
                var status: Int32 = 0; return waitpid(pid, &status, 0)
            }
            #expect(try await client.createBatch(control: digest).status == 200)
        }
    }

    @Test func anUnwritableBlobFolderIsAClearErrorAndKeepsNothing() async throws {
        try await RoutedServer.run { server in
            let tmp = try #require(server.blobs as? LocalBlobStorage).root.appendingPathComponent("tmp")
            try FileManager().removeItem(at: tmp)
            try Data().write(to: tmp)  // a file where the folder should be
            let result = try await BatchClient(server).uploadControl(Fixtures.examples.appendingPathComponent("control.json"))
            #expect(result.status == 500)
            #expect(result.body.hasPrefix("The server could not store the upload (Could not create a temporary file for an upload: "))
            #expect(result.body.hasSuffix("nothing was kept. The server log has the detail."))
        }
    }

    @Test func noRoomForAnUploadIs507AndKeepsNothing() async throws {
        let data = try TestServer.makeDirectory()
        let server = try await ServerProcess.start(data: data, fileSizeLimitKB: 2048)
        defer { server.stopWithoutWaiting() }
        let client = BatchClient(RemoteServer(port: server.port, apiKey: try #require(server.apiKey)))
        let digest = try await client.uploadControl(Fixtures.examples.appendingPathComponent("control.json")).body
        let batch = try await client.createBatch(control: digest).body
        let big = FileManager().temporaryDirectory.appendingPathComponent("big-\(UUID().uuidString).json")
        try Data(repeating: 0x20, count: 3 << 20).write(to: big)
        defer { try? FileManager().removeItem(at: big) }
        let result = try await client.uploadFile(batch: batch, name: "data0", file: big)
        #expect(result.status == 507)
        #expect(
            result.body
                == "Insufficient storage: the server has no room for this upload (a full disk or a quota), so nothing of it was kept. Free some space and try again."
        )
        #expect(try FileManager().contentsOfDirectory(atPath: data.appendingPathComponent("blobs/tmp").path).isEmpty)
        // The server is still up and answers.
        #expect(try await client.get("/api/haplo-data-import-batch/status?batch=\(batch)").status == 200)
    }

    @Test func aDamagedDatabaseStopsTheServerAtStartUp() async throws {
        let data = try TestServer.makeDirectory()
        _ = try await Process.output(ServerProcess.executable.path, ["apikey", "create", "--name", "x", "--data", data.path])
        // Scribble over the pages after the first (the first holds the schema's root).
        let database = try FileHandle(forUpdating: data.appendingPathComponent("intake.sqlite"))
        let size = try database.seekToEnd()
        #expect(size > 8192)
        try database.seek(toOffset: 4096)
        try database.write(contentsOf: Data(repeating: 0xA5, count: Int(size) - 4096))
        try database.close()
        let failure = await #expect(throws: (any Error).self) {
            _ = try await Process.output(ServerProcess.executable.path, ["serve", "--data", data.path, "--port", "0"])
        }
        let message = "\(failure.map { "\($0)" } ?? "")"
        #expect(message.contains("damaged"), "\(message)")
    }
}
