import Foundation
import GRDB
import IntakeCore
import IntakeStore
import Testing

@testable import IntakeSQLite

/// The SQLite store reads a night's feed memory by walking a file's keys in order, with writes of
/// the memory in between (`SQLiteImportTransaction.feedKey`). Checked against a plain dictionary on
/// random runs: keys mostly in order with jumps back and far ahead, keys without memory, memory
/// saved for the key in hand, another file and feed between, and records rolled back.
@Suite struct FeedKeyWalkTests {
    private struct Undone: Error {}

    private func makeStore() throws -> (SQLiteBatchStore, URL) { try makeFeedTestStore("walk") }

    private func memory(file: String, key: String, digest: String) -> FeedKeyMemory { feedTestMemory(file: file, key: key, digest: digest) }

    @Test(arguments: 1...6)
    func theWalkAnswersAsASearchWould(seed: UInt64) throws {
        let (store, directory) = try makeStore()
        defer { try? FileManager.default.removeItem(at: directory) }
        let batch = BatchID(rawValue: "night")
        var random = SeededGenerator(seed: seed)
        let keys = (0..<400).map { String(format: "k%04d", $0) } + ["", "K", "k", "é", "k0001a", "z"]
        let sorted = keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        // (feed, file, key) → digest; what the store must answer.
        var model: [String: String] = [:]
        func name(_ feed: String, _ file: String, _ key: String) -> String { "\(feed)|\(file)|\(key)" }
        try store.inImportTransaction(batch: batch, now: Date()) { tx in
            for file in ["people", "staff"] {
                for key in keys where Int.random(in: 0..<3, using: &random) > 0 {
                    try tx.saveFeedKey(feed: "hr", memory(file: file, key: key, digest: "first"), batch: batch)
                    model[name("hr", file, key)] = "first"
                }
            }
            try tx.saveFeedKey(feed: "other", memory(file: "people", key: "k0100", digest: "other"), batch: batch)
            model[name("other", "people", "k0100")] = "other"
        }
        var asked = 0
        for chunk in 0..<4 {
            let committed = model
            // The third transaction rolls back as a whole: the next one must see none of it.
            let rollsBack = chunk == 2
            do {
                try store.inImportTransaction(batch: batch, now: Date()) { tx in
                    let sqlite = try #require(tx as? SQLiteImportTransaction)
                    var position = Int.random(in: 0..<sorted.count, using: &random)
                    for _ in 0..<300 {
                        let roll = Int.random(in: 0..<100, using: &random)
                        switch roll {
                        case 0..<70: position += 1
                        case 70..<80: position += Int.random(in: 2..<40, using: &random)
                        case 80..<90: position -= Int.random(in: 0..<30, using: &random)
                        default: position = Int.random(in: 0..<sorted.count, using: &random)
                        }
                        position = max(0, min(sorted.count - 1, position))
                        let key = sorted[position]
                        let (feed, file) = roll == 42 ? ("other", "people") : (roll == 43 ? ("hr", "staff") : ("hr", "people"))
                        let found = try tx.feedKey(feed: feed, file: file, key: key)
                        asked += 1
                        #expect(found?.recordDigest == model[name(feed, file, key)], "\(feed)/\(file)/\(key), chunk \(chunk)")
                        #expect(found == nil || found?.key == key)
                        switch Int.random(in: 0..<10, using: &random) {
                        case 0..<3:
                            // The record in hand saves its key's memory.
                            let digest = "saved \(asked)"
                            try sqlite.atomically { try tx.saveFeedKey(feed: feed, memory(file: file, key: key, digest: digest), batch: batch) }
                            model[name(feed, file, key)] = digest
                        case 3:
                            // A record that saved, then failed: nothing of it stays.
                            _ = try? sqlite.atomically {
                                try tx.saveFeedKey(feed: feed, memory(file: file, key: key, digest: "undone"), batch: batch)
                                throw Undone()
                            }
                        default: break
                        }
                    }
                    if rollsBack { throw Undone() }
                }
            } catch is Undone {
                model = committed
            }
        }
        #expect(asked == 1200)
    }
}

/// A small deterministic generator (SplitMix64), so a failing seed can be run again.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
