import Foundation
import GRDB
import IntakeCore
import IntakeStore

@testable import IntakeSQLite

/// A SQLite store in a directory of its own, for the feed memory tests; the caller removes the
/// directory.
func makeFeedTestStore(_ name: String) throws -> (SQLiteBatchStore, URL) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("intake-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let queue = try DatabaseQueue(path: directory.appendingPathComponent("intake.sqlite").path)
    return (try SQLiteBatchStore(writer: queue), directory)
}

/// A key's memory with nothing but what the feed memory tests look at.
func feedTestMemory(file: String, key: String, digest: String = "d", active: Bool = true) -> FeedKeyMemory {
    FeedKeyMemory(
        file: file, key: key, recordDigest: digest, control: "c", schema: "s", objects: [], mustTransform: false, active: active,
        firstSeen: Date(timeIntervalSince1970: 0), lastChanged: Date(timeIntervalSince1970: 0), firstBatch: BatchID(rawValue: "old"),
        lastBatch: BatchID(rawValue: "old"))
}
