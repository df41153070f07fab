import Foundation
import GRDB
import Testing

@testable import IntakeSQLite

/// A connection waiting for another's write lock finds the short gaps between that one's
/// transactions (`LockWait`), as a second process on a data directory must while a run writes.
@Suite struct LockWaitTests {
    @Test func aWriterFindsAShortGapBetweenAnotherWritersTransactions() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("intake-lock-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("intake.sqlite").path
        try await DatabaseQueue(path: path).write { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "CREATE TABLE t (n INTEGER)")
        }
        // The busy one: transactions of 500 ms with gaps of 25 ms, for up to 8 s.
        let busy = Thread {
            guard let queue = try? DatabaseQueue(path: path) else { return }
            let end = Date().addingTimeInterval(8)
            while Date() < end {
                try? queue.inTransaction(.immediate) { db in
                    try db.execute(sql: "INSERT INTO t (n) VALUES (1)")
                    Thread.sleep(forTimeInterval: 0.5)
                    return .commit
                }
                Thread.sleep(forTimeInterval: 0.025)
            }
        }
        busy.start()
        try await Task.sleep(for: .milliseconds(100))
        var configuration = Configuration()
        configuration.busyMode = LockWait.busyMode(timeout: 6)
        let waiter = try DatabaseQueue(path: path, configuration: configuration)
        let started = Date()
        // SQLite's own busy timeout sleeps 100 ms between tries once it has waited a third of a
        // second, and misses most 25 ms gaps (here it waited 2.5 s, five of them); this one finds the first (the bound
        // leaves room for the second, for a loaded machine).
        try await waiter.write { db in try db.execute(sql: "INSERT INTO t (n) VALUES (2)") }
        #expect(Date().timeIntervalSince(started) < 1.4)
        #expect(LockWait.tries(within: 10) > 1900)
    }
}
