import Foundation
import GRDB
import IntakeCore
import IntakeStore
import Testing

@testable import IntakeSQLite

/// A key above every key its batch saw in the file is noted without a lookup and its seen mark
/// written later, with others; any other key is looked up. Checked here against a dictionary on
/// runs of mostly rising keys with keys behind, duplicates near and far, two batches and files
/// interleaved, chunks that commit, and a chunk that rolls back (its marks go with it).
@Suite struct FeedSeenMarksTests {
    struct Rollback: Error {}

    @Test(arguments: [1 as UInt64, 2, 3, 4])
    func seenMarksAnswerAsADictionaryWould(seed: UInt64) throws {
        let (store, directory) = try makeFeedTestStore("seen")
        defer { try? FileManager.default.removeItem(at: directory) }
        var random = SeededGenerator(seed: seed)
        let batches = [BatchID(rawValue: "night"), BatchID(rawValue: "other")]
        let files = ["people", "staff"]
        // "batch|file|key" → the record it was first seen at, as committed.
        var committed: [String: Int] = [:]
        var next = [String: Int]()
        var record = 0
        for chunk in 0..<12 {
            var model = committed
            let rollsBack = chunk % 5 == 4
            do {
                try store.inImportTransaction(batch: batches[0], now: Date()) { tx in
                    for _ in 0..<Int.random(in: 50..<300, using: &random) {
                        let batch = batches[Int.random(in: 0..<10, using: &random) == 0 ? 1 : 0]
                        let file = files[Int.random(in: 0..<4, using: &random) == 0 ? 1 : 0]
                        let place = "\(batch.rawValue)|\(file)"
                        // Mostly the next key up; sometimes one behind, an old one, or one far ahead.
                        var number = next[place, default: 0]
                        switch Int.random(in: 0..<20, using: &random) {
                        case 0: number = max(0, number - Int.random(in: 1..<5, using: &random))
                        case 1: number = Int.random(in: 0..<max(1, number), using: &random)
                        case 2: number += Int.random(in: 2..<50, using: &random)
                        default: break
                        }
                        next[place] = max(next[place, default: 0], number + 1)
                        // Keys of different lengths, so byte order is not number order.
                        let key = "k\(number)"
                        record += 1
                        let name = "\(place)|\(key)"
                        let answer = try tx.noteFeedKeySeen(batch: batch, file: file, key: key, record: record)
                        #expect(answer == model[name], "\(name) at record \(record)")
                        if model[name] == nil { model[name] = record }
                    }
                    if rollsBack { throw Rollback() }
                }
                committed = model
            } catch is Rollback {
                // The chunk's marks are gone: its keys are new again for the next chunk.
            }
        }
        // What the store holds is what the dictionary says.
        let queue = try DatabaseQueue(path: directory.appendingPathComponent("intake.sqlite").path)
        let stored = try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT batch, file, key, record FROM feed_seen").map { row -> (String, Int) in
                ("\(row[0] as String)|\(row[1] as String)|\(row[2] as String)", row[3] as Int)
            }
        }
        #expect(Dictionary(uniqueKeysWithValues: stored) == committed)
    }
}
