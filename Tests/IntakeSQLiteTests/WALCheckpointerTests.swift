import Foundation
import GRDB
import IntakeStore
import Testing

@testable import IntakeSQLite

/// The write-ahead log is copied into the database by `WALCheckpointer`, on its own connection,
/// once it is past its threshold: commits no longer do it (SQLite's own checkpoint waits until the
/// log is eight times larger).
@Suite struct WALCheckpointerTests {
    @Test func aLogPastTheThresholdIsCopiedIntoTheDatabaseAfterACommit() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("intake-wal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("intake.sqlite").path
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(WALCheckpointer.safetyNetPages)")
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        let store = try SQLiteBatchStore(writer: pool, checkpointer: WALCheckpointer(databasePath: path, thresholdBytes: 256 << 10))
        func size(_ file: String) -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: file)[.size]) as? Int) ?? 0
        }
        let before = size(path)
        // About 2 MiB of log: far past the threshold, far below SQLite's own.
        for round in 0..<64 {
            try await store.write { db in
                try db.execute(sql: "CREATE TABLE IF NOT EXISTS filler (text TEXT)")
                try db.execute(sql: "INSERT INTO filler (text) VALUES (?)", arguments: [String(repeating: "\(round)", count: 32 << 10)])
            }
        }
        var waited = 0
        while size(path) <= before + (1 << 20) && waited < 100 {
            try await Task.sleep(for: .milliseconds(50))
            waited += 1
        }
        // The database file holds the rows: the log was copied into it, by nobody's commit.
        #expect(size(path) > before + (1 << 20), "the database stayed at \(size(path)) bytes")
    }
}
