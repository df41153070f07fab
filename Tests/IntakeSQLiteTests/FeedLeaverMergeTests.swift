import Foundation
import GRDB
import IntakeCore
import IntakeStore
import Testing

@testable import IntakeSQLite

/// The SQLite store finds a batch's leavers by merging the feed's active keys with the batch's seen
/// keys, both read in key order. Checked here against the plain definition (active keys of the
/// files that the batch did not see, in (file, key) byte order), on keys chosen to trip a merge:
/// prefixes, case, non-ASCII, seen keys that are not active or not in the feed at all.
@Suite struct FeedLeaverMergeTests {
    private func makeStore() throws -> (SQLiteBatchStore, URL) { try makeFeedTestStore("leavers") }

    private func memory(file: String, key: String, active: Bool) -> FeedKeyMemory { feedTestMemory(file: file, key: key, active: active) }

    private static func byBytes(_ a: (file: String, key: String), _ b: (file: String, key: String)) -> Bool {
        a.file == b.file ? a.key.utf8.lexicographicallyPrecedes(b.key.utf8) : a.file.utf8.lexicographicallyPrecedes(b.file.utf8)
    }

    @Test(arguments: [1, 3, 500])
    func leaversAreTheActiveKeysNotSeenInByteOrderPageByPage(pageSize: Int) throws {
        let (store, directory) = try makeStore()
        defer { try? FileManager.default.removeItem(at: directory) }
        let batch = BatchID(rawValue: "night")
        var generator = SystemRandomNumberGenerator()
        let stems = ["a", "A", "a1", "a10", "a2", "ab", "b", "Z", "é", "e", "ö", "z", "", "ñu", "a b", "a-b"]
        let keys = Set((0..<120).map { i in stems[i % stems.count] + String(i / stems.count) } + stems.filter { !$0.isEmpty })
        let files = ["people", "People", "staff", "ignored"]
        var expected: [(file: String, key: String)] = []
        try store.inImportTransaction(batch: batch, now: Date()) { tx in
            var record = 0
            for file in files {
                for key in keys {
                    let inFeed = Int.random(in: 0..<5, using: &generator) > 0
                    let active = Bool.random(using: &generator)
                    let seen = Int.random(in: 0..<3, using: &generator) == 0
                    if inFeed { try tx.saveFeedKey(feed: "hr", memory(file: file, key: key, active: active), batch: batch) }
                    if seen {
                        record += 1
                        #expect(try tx.noteFeedKeySeen(batch: batch, file: file, key: key, record: record) == nil)
                    }
                    if inFeed && active && !seen && file != "ignored" { expected.append((file, key)) }
                }
            }
            // Another feed's keys and another batch's seen keys change nothing.
            try tx.saveFeedKey(feed: "other", memory(file: "people", key: "a", active: true), batch: batch)
            _ = try tx.noteFeedKeySeen(batch: BatchID(rawValue: "other"), file: "people", key: "zz", record: 1)
        }
        expected.sort(by: Self.byBytes)
        let asked = ["staff", "people", "People", "people"]
        let found = try store.inImportTransaction(batch: batch, now: Date()) { tx in
            var found: [(file: String, key: String)] = []
            var after: (file: String, key: String)?
            while true {
                let page = try tx.feedLeavers(feed: "hr", files: asked, batch: batch, after: after, limit: pageSize)
                found += page.map { ($0.file, $0.key) }
                #expect(page.allSatisfy { $0.active && $0.recordDigest == "d" })
                guard page.count == pageSize, let last = page.last else { break }
                after = (last.file, last.key)
            }
            #expect(try tx.feedLeaverCount(feed: "hr", files: asked, batch: batch) == expected.count)
            return found
        }
        #expect(found.map { "\($0.file)/\($0.key)" } == expected.map { "\($0.file)/\($0.key)" })
    }

    @Test func aVersionFoundByALookupIsForgottenOnceTheObjectIsWritten() throws {
        let (store, directory) = try makeStore()
        defer { try? FileManager.default.removeItem(at: directory) }
        let values = [
            ObjectValue(attribute: StandardSchema.typeAttribute, value: .objectType("std:type:person")),
            ObjectValue(attribute: "std:attribute:username", value: .text(.text, "ada"))
        ]
        try store.inImportTransaction(batch: BatchID(rawValue: "b1"), now: Date()) { tx in
            let ref = try tx.allocateRef()
            _ = try tx.save(ref: ref, values: values, isNew: true)
            #expect(try tx.lookUpRef(username: "ada") == ref)
            #expect(try tx.currentVersion(of: ref) == 1)
            _ = try tx.save(ref: ref, values: values + [ObjectValue(attribute: "dc:attribute:title", value: .text(.text, "Ada"))], isNew: false)
            #expect(try tx.currentVersion(of: ref) == 2)
            #expect(try tx.lookUpRef(username: "ada") == ref)
            #expect(try tx.currentVersion(of: ref) == 2)
        }
    }
}
