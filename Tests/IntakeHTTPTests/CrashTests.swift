import Crypto
import Foundation
import GRDB
import IntakeCore
import Testing

/// SIGKILL at random moments during uploads and runs, with restarts, then the proof: every record
/// applied exactly once, every stored blob still matches its digest, SQLite's integrity check passes,
/// and no partial upload is left behind. CI runs a short version (3 kills, 20 000 records);
/// `scripts/crash-test` runs the long one (INTAKE_CRASH_KILLS=20, INTAKE_CRASH_RECORDS=200000).
@Suite(.serialized) struct CrashTests {
    static let environment = ProcessInfo.processInfo.environment
    static let kills = Int(environment["INTAKE_CRASH_KILLS"] ?? "") ?? 3
    static let records = Int(environment["INTAKE_CRASH_RECORDS"] ?? "") ?? 20_000
    static let seed = UInt64(environment["INTAKE_CRASH_SEED"] ?? "") ?? UInt64.random(in: 1...UInt64(UInt32.max))

    static func peopleFile(count: Int) throws -> URL {
        let url = FileManager().temporaryDirectory.appendingPathComponent("crash-people-\(UUID().uuidString).json")
        _ = FileManager().createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        var chunk = "["
        for i in 0..<count {
            if i > 0 { chunk += ",\n" }
            chunk += #"{"id":"P\#(i)","first":"First\#(i)","last":"Last\#(i)","email":"p\#(i)@example.org"}"#
            if chunk.utf8.count > 1 << 20 {
                handle.write(Data(chunk.utf8))
                chunk = ""
            }
        }
        handle.write(Data((chunk + "]").utf8))
        try handle.close()
        return url
    }

    @Test func randomKillsDuringUploadsAndRunsApplyEveryRecordOnce() async throws {
        var random = SeededRandom(seed: Self.seed)
        print("crash test: \(Self.kills) kills, \(Self.records) records, seed \(Self.seed)")
        let data = try TestServer.makeDirectory()
        // Kills early in a run may come before its first commit; the poison-batch guard must not
        // end the batch for that here.
        let arguments = ["--max-crashes", "0"]
        var server = try await ServerProcess.start(data: data, arguments: arguments)
        let key = try #require(server.apiKey)
        let people = try Self.peopleFile(count: Self.records)
        defer { try? FileManager().removeItem(at: people) }
        var client = BatchClient(RemoteServer(port: server.port, apiKey: key))
        let digest = try await client.uploadControl(try Fixtures.write(RestartTests.control)).body
        let batch = try await client.createBatch(control: digest).body
        let database = data.appendingPathComponent("intake.sqlite").path

        func state() async throws -> (files: Int, state: String) {
            try await DatabaseQueue(path: database).read { db in
                (
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM batch_files WHERE batch = ?", arguments: [batch]) ?? 0,
                    try String.fetchOne(db, sql: "SELECT state FROM batches WHERE id = ?", arguments: [batch]) ?? "?"
                )
            }
        }

        for kill in 0..<Self.kills {
            let current = try await state()
            let delay = Double.random(in: 0.05...1.5, using: &random)
            if current.files == 0 {
                // Kill during an upload, slowed to about a second so the kill lands in it.
                let size = (try FileManager().attributesOfItem(atPath: people.path)[.size] as? NSNumber)?.intValue ?? 1 << 20
                let arguments = [
                    "--limit-rate", "\(max(size, 100_000))", "-X", "POST", "-F", "batch=\(batch)", "-F", "name=people",
                    "-F", "file=@\(people.path)", "--user", "haplo:\(key)", "\(client.server.base)/api/haplo-data-import-batch/file"
                ]
                let upload = Task { try await Curl.run(arguments) }
                try await Task.sleep(for: .seconds(delay))
                try await server.kill()
                _ = try? await upload.value
                print("kill \(kill + 1): during the upload, after \(delay) s")
            } else {
                if current.state == "uploading" { _ = try await client.schedule(batch: batch) }
                try await Task.sleep(for: .seconds(delay))
                try await server.kill()
                print("kill \(kill + 1): during the run, after \(delay) s")
            }
            server = try await ServerProcess.start(data: data, arguments: arguments)
            client = BatchClient(RemoteServer(port: server.port, apiKey: key))
        }

        // Finish whatever is left, without kills.
        if try await state().files == 0 {
            #expect(try await client.uploadFile(batch: batch, name: "people", file: people).status == 200)
        }
        if try await state().state == "uploading" { _ = try await client.schedule(batch: batch) }
        let status = try await client.waitForBatch(batch, timeout: 1800)
        #expect(status["state"] == .string("complete"), "\(status)")
        #expect(status["progress"]?["recordsApplied"] == .number(Double(Self.records)))
        let results = try await client.get("/api/haplo-data-import-batch/results?batch=\(batch)").body
        #expect(results.split(separator: "\n").count == Self.records)
        try await server.terminate()

        let (integrity, counts) = try await DatabaseQueue(path: database).read { db -> ([String], [Int?]) in
            (
                try String.fetchAll(db, sql: "PRAGMA integrity_check"),
                [
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM objects"),
                    try Int.fetchOne(db, sql: "SELECT count(DISTINCT username) FROM objects"),
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM object_versions"),
                    try Int.fetchOne(db, sql: "SELECT max(version) FROM objects")
                ]
            )
        }
        #expect(integrity == ["ok"])
        #expect(counts == [Self.records, Self.records, Self.records, 1])
        // Every blob's content still hashes to its name, and no partial upload is left.
        let blobs = data.appendingPathComponent("blobs")
        for folder in try FileManager().contentsOfDirectory(atPath: blobs.path) where folder != "tmp" {
            for name in try FileManager().contentsOfDirectory(atPath: blobs.appendingPathComponent(folder).path) {
                let url = blobs.appendingPathComponent(folder).appendingPathComponent(name)
                #expect(try Self.sha256(of: url) == name, "\(url.path)")
            }
        }
        #expect(try FileManager().contentsOfDirectory(atPath: blobs.appendingPathComponent("tmp").path).isEmpty)
        let recorded = try await DatabaseQueue(path: database).read { db in
            try String.fetchOne(db, sql: "SELECT digest FROM batch_files WHERE batch = ?", arguments: [batch]) ?? ""
        }
        #expect(try Self.sha256(of: people) == recorded)
    }

    static func sha256(of url: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var hasher = SHA256()
        while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty { hasher.update(data: data) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

/// A small deterministic generator (SplitMix64), so a failing run can be repeated with its seed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
