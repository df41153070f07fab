import Foundation
import GRDB
import IntakeCore
import Testing

/// Several processes on one data directory: whatever the layout, every record is applied once.
@Suite(.serialized) struct SharedDataDirectoryTests {
    /// Runs `intake` to the end and returns its exit status, stdout and stderr.
    private func intake(_ arguments: [String]) async throws -> (status: Int32, output: String, errors: String) {
        try await onOwnThread {
            let process = Process()
            process.executableURL = ServerProcess.executable
            process.arguments = arguments
            let output = Pipe()
            let errorFile = FileManager().temporaryDirectory.appendingPathComponent("stderr-\(UUID().uuidString)")
            _ = FileManager().createFile(atPath: errorFile.path, contents: nil)
            defer { try? FileManager().removeItem(at: errorFile) }
            process.standardOutput = output
            process.standardError = try FileHandle(forWritingTo: errorFile)
            try process.run()
            let out = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            let errors = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
            return (process.terminationStatus, String(decoding: out, as: UTF8.self), errors)
        }
    }

    @Test func aSecondServerOnTheSameDirectoryRefusesToStart() async throws {
        let data = try TestServer.makeDirectory()
        let first = try await ServerProcess.start(data: data)
        defer { first.stopWithoutWaiting() }
        let second = try await intake(["serve", "--data", data.path, "--port", "0"])
        #expect(second.status != 0)
        #expect(second.errors.contains("Another intake server (pid \(first.process.processIdentifier)) is already serving the data directory \(data.path)"))
    }

    /// A server of a release from before `serve.lock` takes no lock; it has the database open, and
    /// its command line says `serve`. Stood in for by a process that does both.
    @Test func aServerOfAnOlderReleaseOnTheDirectoryIsFoundWithoutItsLock() async throws {
        let data = try TestServer.makeDirectory()
        let first = try await ServerProcess.start(data: data)
        try await first.terminate()
        let older = Process()
        older.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        older.arguments = [
            "python3", "-c",
            "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1]); c.execute('SELECT 1'); print('open', flush=True); time.sleep(60)",
            data.appendingPathComponent("intake.sqlite").path, "serve"
        ]
        let output = Pipe()
        older.standardOutput = output
        try older.run()
        defer { older.terminate() }
        let reader = output.fileHandleForReading
        #expect(try await onOwnThread { String(decoding: reader.availableData, as: UTF8.self) }.hasPrefix("open"))
        let second = try await intake(["serve", "--data", data.path, "--port", "0"])
        #expect(second.status != 0)
        #expect(second.errors.contains("Another intake server (pid \(older.processIdentifier)) has the data directory \(data.path) open"), "\(second.errors)")
    }

    @Test func aServerStartedDuringALocalRunLeavesTheRunAlone() async throws {
        let data = try TestServer.makeDirectory()
        // Long enough that the run is always seen running, and still commits chunk after chunk while
        // the server starts beside it.
        let count = 150_000
        let people = try CrashTests.peopleFile(count: count)
        let control = try Fixtures.write(RestartTests.control)
        let run = Task {
            try await intake(["run", "--data", data.path, "--control", control.path, "--file", "people=\(people.path)"])
        }
        // Wait until the local run has committed its first chunk, then start a server on the directory.
        let database = data.appendingPathComponent("intake.sqlite").path
        let deadline = Date().addingTimeInterval(60)
        var running = false
        while Date() < deadline && !running {
            try await Task.sleep(for: .milliseconds(20))
            guard FileManager().fileExists(atPath: database) else { continue }
            running =
                (try? await DatabaseQueue(path: database).read { db in
                    try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM batches WHERE state = 'running' AND json_extract(progress, '$.recordsRead') > 0)")
                }) ?? false
        }
        #expect(running)
        // The server starts without the write lock (its start-up only reads when nothing needs
        // migrating or creating), so the run's back-to-back chunk commits cannot starve it.
        let server = try await ServerProcess.start(data: data)
        let result = try await run.value
        try await server.terminate()
        // The control file logs two errors on purpose ("seen"): exit status 1, finished with record errors.
        #expect(result.status == 1, "\(result.errors)")
        #expect(result.output.contains("complete: \(count) records read, \(count) applied"))
        try RestartTests.verifyExactlyOnce(databasePath: database, records: count)
    }

    /// Two batches running at once in two processes allocate object refs from one counter: both
    /// complete, and every ref is unique.
    @Test func twoProcessesRunTwoBatchesAtOnce() async throws {
        let data = try TestServer.makeDirectory()
        let server = try await ServerProcess.start(data: data)
        let client = BatchClient(RemoteServer(port: server.port, apiKey: try #require(server.apiKey)))
        let people = try RestartTests.peopleFile()
        let control = try Fixtures.write(RestartTests.control)
        let batch = try await client.prepareBatch(control: control, files: [("people", people)])
        _ = try await client.schedule(batch: batch)
        let others = try Fixtures.write(
            (0..<RestartTests.recordCount).map { #"{"id":"Q\#($0)","first":"F","last":"L\#($0)"}"# }
                .joined(separator: ",\n").replacingOccurrences(of: "", with: "", options: [], range: nil).wrappedInBrackets)
        let local = try await intake(["run", "--data", data.path, "--control", control.path, "--file", "people=\(others.path)"])
        let status = try await client.waitForBatch(batch)
        try await server.terminate()
        #expect(local.status == 0, "\(local.output.suffix(2000)) \(local.errors.suffix(2000))")
        #expect(status["state"] == .string("complete"), "\(status)")
        let counts = try await DatabaseQueue(path: data.appendingPathComponent("intake.sqlite").path).read { db in
            [
                try Int.fetchOne(db, sql: "SELECT count(*) FROM objects WHERE type = 'std:type:person'"),
                try Int.fetchOne(db, sql: "SELECT count(DISTINCT ref) FROM objects WHERE type = 'std:type:person'")
            ]
        }
        #expect(counts == [2 * RestartTests.recordCount, 2 * RestartTests.recordCount])
    }

    @Test func dataFilesAreReadableByTheirOwnerOnly() async throws {
        let data = try TestServer.makeDirectory().appendingPathComponent("fresh")
        let examples = Fixtures.examples.path
        let result = try await intake([
            "run", "--data", data.path, "--control", "\(examples)/control.json",
            "--file", "data0=\(examples)/data.json"
        ])
        // The example's invalid e-mail address is a record error: exit status 1, but the run finished.
        #expect(result.status == 1)
        func mode(_ path: String) throws -> Int {
            (try FileManager().attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
        }
        #expect(try mode(data.path) == 0o700)
        #expect(try mode(data.appendingPathComponent("intake.sqlite").path) == 0o600)
        let blobs = try FileManager().subpathsOfDirectory(atPath: data.appendingPathComponent("blobs").path)
        #expect(!blobs.isEmpty)
        for blob in blobs {
            let path = data.appendingPathComponent("blobs").appendingPathComponent(blob).path
            var isDirectory: ObjCBool = false
            _ = FileManager().fileExists(atPath: path, isDirectory: &isDirectory)
            #expect(try mode(path) == (isDirectory.boolValue ? 0o700 : 0o600), "\(blob)")
        }
    }
}

private extension String {
    var wrappedInBrackets: String { "[" + self + "]" }
}
