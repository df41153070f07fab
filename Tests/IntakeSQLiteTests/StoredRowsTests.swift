import Foundation
import GRDB
import IntakeCore
import IntakeStore
import Testing

@testable import IntakeSQLite

/// Rows are decoded by column name into typed structs; a value a column cannot hold is reported,
/// not a trap.
@Suite struct StoredRowsTests {
    private func makeStore() throws -> (SQLiteBatchStore, DatabaseQueue) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("intake-rows-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: directory.appendingPathComponent("intake.sqlite").path)
        return (try SQLiteBatchStore(writer: queue), queue)
    }

    @Test func aControlFileRowReadsBackAsItWasWritten() async throws {
        let (store, _) = try makeStore()
        let digest = Digest(hex: String(repeating: "ab", count: 32))!
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        try await store.addControlFile(digest: digest, size: 42, comment: "people", uploadedBy: "key 1", now: now)
        let record = try #require(try await store.controlFiles(digest: digest).first)
        #expect(record.digest == digest && record.size == 42 && record.comment == "people" && record.uploadedBy == "key 1")
        #expect(record.created == now)
    }

    @Test func aDamagedDigestIsReportedNotFatal() async throws {
        let (store, queue) = try makeStore()
        try await store.addControlFile(
            digest: Digest(hex: String(repeating: "cd", count: 32))!, size: 1, comment: "c", uploadedBy: nil, now: Date())
        try await queue.write { db in try db.execute(sql: "UPDATE control_files SET digest = 'not hex'") }
        await #expect(throws: CorruptRow.self) { try await store.controlFile(id: 1) }
        do {
            _ = try await store.controlFile(id: 1)
        } catch {
            #expect("\(error)" == "The database holds an invalid digest in control_files: not hex")
        }
    }
}
