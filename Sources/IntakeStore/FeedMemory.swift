import Foundation
import IntakeCore

/// What a feed remembers of one (file, key) (docs/feeds.md "What a feed remembers").
package struct FeedKeyMemory: Sendable, Equatable {
    package var file: String
    package var key: String
    /// The digest of the record as the last run that applied it read it.
    package var recordDigest: String
    /// The control file and schema that run used.
    package var control: String
    package var schema: String
    /// The objects that run saved, with the versions it left.
    package var objects: [FeedObject]
    /// The record is never skipped: its last transform read the store (a load, a lookup, a
    /// mapping), so it may depend on more than the record, or wrote dictionary documents, which
    /// every transform appends again.
    package var mustTransform: Bool
    /// What the record's last transform read from the store, with the answers.
    package var reads: [RememberedRead]
    package var active: Bool
    package var firstSeen: Date
    package var lastChanged: Date
    /// The batch that first applied the key, and the one that last changed it.
    package var firstBatch: BatchID
    package var lastBatch: BatchID
    /// Whether every object the key saved is still at its version and every read its transform made
    /// answers as it did, when the store worked that out as it read the memory (PostgreSQL, in the
    /// same round trip); nil when the skip check must ask. Never stored.
    package var storeAnswersAlike: Bool?

    package init(
        file: String, key: String, recordDigest: String, control: String, schema: String, objects: [FeedObject],
        mustTransform: Bool, reads: [RememberedRead] = [], active: Bool, firstSeen: Date, lastChanged: Date, firstBatch: BatchID, lastBatch: BatchID
    ) {
        (self.file, self.key, self.recordDigest, self.control, self.schema) = (file, key, recordDigest, control, schema)
        (self.objects, self.mustTransform, self.reads, self.active) = (objects, mustTransform, reads, active)
        (self.firstSeen, self.lastChanged, self.firstBatch, self.lastBatch) = (firstSeen, lastChanged, firstBatch, lastBatch)
    }

    /// `FILE/KEY`, as results and leaver identifiers show it.
    package var identity: String { "\(file)/\(key)" }
}

/// An object a feed key's last application saved, under a destination name.
package struct FeedObject: Sendable, Equatable {
    package var destination: String
    package var ref: ObjectRef
    package var version: Int

    package init(destination: String, ref: ObjectRef, version: Int) {
        (self.destination, self.ref, self.version) = (destination, ref, version)
    }

    /// Objects as one column: `destination ref version` per line (names cannot hold spaces).
    package static func encode(_ objects: [FeedObject]) -> String {
        objects.map { "\($0.destination) \($0.ref.number) \($0.version)" }.joined(separator: "\n")
    }

    package static func decode(_ text: String) -> [FeedObject] {
        var objects: [FeedObject] = []
        EncodedLines.forEachLine(of: text) { line in
            // `destination ref version`; a line that is not is left out.
            guard let second = line.lastIndex(of: 32), let first = line[..<second].lastIndex(of: 32), first > line.startIndex,
                !line[..<first].contains(32), let ref = EncodedLines.integer(line[(first + 1)..<second]),
                let version = EncodedLines.integer(line[(second + 1)...])
            else { return true }
            objects.append(FeedObject(destination: EncodedLines.string(line[..<first]), ref: ObjectRef(ref), version: Int(version)))
            return true
        }
        return objects
    }
}

/// Reads the feed memory's one-column encodings (`FeedObject`, `RememberedRead`) from their
/// UTF-8 bytes, without a String or an array per line or field: a nightly run reads them back
/// for every record.
enum EncodedLines {
    /// Calls `body` with each non-empty line of `text` until it returns false; returns whether
    /// every call returned true.
    @discardableResult
    static func forEachLine(of text: String, _ body: (UnsafeBufferPointer<UInt8>.SubSequence) -> Bool) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            var start = bytes.startIndex
            while start < bytes.endIndex {
                let end = bytes[start...].firstIndex(of: 10) ?? bytes.endIndex
                if end > start, !body(bytes[start..<end]) { return false }
                start = end + 1
            }
            return true
        }
    }

    /// A decimal integer, optionally signed, as `Int64(_:)` reads one; nil for anything else.
    static func integer(_ bytes: UnsafeBufferPointer<UInt8>.SubSequence) -> Int64? {
        var digits = bytes[...]
        let negative = digits.first == UInt8(ascii: "-")
        if negative || digits.first == UInt8(ascii: "+") { digits = digits.dropFirst() }
        guard !digits.isEmpty else { return nil }
        var value: Int64 = 0
        for byte in digits {
            guard byte >= 48, byte <= 57 else { return nil }
            let (times, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(byte - 48))
            guard !overflow, !overflow2 else { return nil }
            value = sum
        }
        return negative ? -value : value
    }

    static func string(_ bytes: UnsafeBufferPointer<UInt8>.SubSequence) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes), as: UTF8.self)
    }
}

/// A feed as the read API and the admin UI list it.
package struct FeedRecord: Sendable, Equatable {
    package var name: String
    package var activeKeys: Int
    package var leftKeys: Int
    /// The feed's newest batch, if any.
    package var lastBatch: Batch?

    package init(name: String, activeKeys: Int, leftKeys: Int, lastBatch: Batch?) {
        (self.name, self.activeKeys, self.leftKeys, self.lastBatch) = (name, activeKeys, leftKeys, lastBatch)
    }
}

/// Feed memory as an import transaction reads and writes it: always inside the transaction that
/// commits the record or leaver it belongs to, so it is exactly-once with it.
package protocol FeedTransaction {
    func feedKey(feed: String, file: String, key: String) throws -> FeedKeyMemory?
    /// Stores a key's memory as `batch` changed it, keeping what it was before (for rollback).
    func saveFeedKey(feed: String, _ memory: FeedKeyMemory, batch: BatchID) throws
    /// Notes that `batch` read the key at `record` (0-based); returns the record of an earlier
    /// occurrence in the same batch instead, when there was one.
    func noteFeedKeySeen(batch: BatchID, file: String, key: String, record: Int) throws -> Int?
    /// `noteFeedKeySeen`, then (when the key was not seen before) `feedKey`: a store may answer both
    /// at once.
    func noteFeedKeySeenReadingMemory(feed: String, batch: BatchID, file: String, key: String, record: Int) throws -> (
        firstSeen: Int?, memory: FeedKeyMemory?
    )
    /// `noteFeedKeySeen`, or with `feed` `noteFeedKeySeenReadingMemory`, for a run that knows the
    /// keys of the records after this one: `upcoming` gives them (in order; called only when
    /// wanted). A store across a network reads them ahead with this key, in one round trip instead
    /// of one each; a store in the process ignores them.
    func noteFeedKeySeen(batch: BatchID, file: String, key: String, record: Int, readingMemoryOf feed: String?, upcoming: () -> [String])
        throws -> (firstSeen: Int?, memory: FeedKeyMemory?)
    /// Active keys of `files` that `batch` did not see, in (file, key) order after `after`.
    func feedLeavers(feed: String, files: [String], batch: BatchID, after: (file: String, key: String)?, limit: Int) throws
        -> [FeedKeyMemory]
    func feedLeaverCount(feed: String, files: [String], batch: BatchID) throws -> Int
    func activeFeedKeyCount(feed: String, files: [String]) throws -> Int
    /// Whether the feed remembers any key of `file`.
    func feedHasKeys(feed: String, file: String) throws -> Bool
    /// The current version of an object, nil when there is none.
    func currentVersion(of ref: ObjectRef) throws -> Int?
    /// What a lookup by username or behaviour answers now (as `ObjectRepository`'s), without
    /// reading the object: a skip check only compares the answer.
    func lookUpRef(username: String) throws -> ObjectRef?
    func lookUpRef(behaviour: String) throws -> ObjectRef?
    /// Names the feed a batch belongs to.
    func setBatchFeed(_ batch: BatchID, feed: String) throws
    /// Forgets which keys `batch` saw (at its end).
    func forgetSeenFeedKeys(batch: BatchID) throws
}

extension FeedTransaction {
    package func noteFeedKeySeenReadingMemory(feed: String, batch: BatchID, file: String, key: String, record: Int) throws -> (
        firstSeen: Int?, memory: FeedKeyMemory?
    ) {
        if let first = try noteFeedKeySeen(batch: batch, file: file, key: key, record: record) { return (first, nil) }
        return (nil, try feedKey(feed: feed, file: file, key: key))
    }

    package func noteFeedKeySeen(
        batch: BatchID, file: String, key: String, record: Int, readingMemoryOf feed: String?, upcoming: () -> [String]
    ) throws -> (firstSeen: Int?, memory: FeedKeyMemory?) {
        guard let feed else { return (try noteFeedKeySeen(batch: batch, file: file, key: key, record: record), nil) }
        return try noteFeedKeySeenReadingMemory(feed: feed, batch: batch, file: file, key: key, record: record)
    }
}

/// Feeds outside of runs: the read API, the admin UI.
package protocol FeedStore: Sendable {
    func feeds() async throws -> [FeedRecord]
    func feed(named name: String) async throws -> FeedRecord?
    /// Keys of a feed by (file, key), after `after` (`FILE/KEY` order), optionally in one state.
    func feedKeys(feed: String, active: Bool?, after: (file: String, key: String)?, limit: Int) async throws -> [FeedKeyMemory]
    /// The feed's batches, newest first.
    func feedBatches(feed: String, limit: Int) async throws -> [Batch]
    /// The first `limit` keys that would leave if `batch` (held, or finished reading) went on.
    func feedLeaverPreview(feed: String, files: [String], batch: BatchID, limit: Int) async throws -> [FeedKeyMemory]
    /// The keys whose memory a rollback of `batch` would restore, as `FILE/KEY`: how many there
    /// are, and the first `limit` in (file, key) order.
    func feedKeysRestoredByRollback(of batch: BatchID, limit: Int) async throws -> (count: Int, keys: [String])
    /// A key's memory now and as it was before each batch that changed it, newest first.
    func feedKeyHistory(feed: String, file: String, key: String) async throws -> [FeedKeyMemory]
}

/// The log lines of a held batch's decision.
package enum HeldBatch {
    package static func approvalLine(by: String, now: Date) -> String {
        "APPROVED: \(Timestamp.string(now)) by \(by)"
    }

    package static func cancelLine(_ held: HeldReason?, now: Date) -> String {
        "CANCELLED: \(Timestamp.string(now)) " + (held?.reason == "leavers" ? "the leavers were not applied" : "nothing was applied")
    }
}

/// A transaction that hands feed memory to another one (wrappers of a store's transaction).
package protocol ForwardingFeedTransaction: FeedTransaction {
    /// Runs `body` with the transaction that does the work.
    func forwardingFeed<T>(_ body: @escaping @Sendable (any FeedTransaction) throws -> T) throws -> T where T: Sendable
}

extension ForwardingFeedTransaction {
    package func feedKey(feed: String, file: String, key: String) throws -> FeedKeyMemory? {
        try forwardingFeed { try $0.feedKey(feed: feed, file: file, key: key) }
    }
    package func saveFeedKey(feed: String, _ memory: FeedKeyMemory, batch: BatchID) throws {
        try forwardingFeed { try $0.saveFeedKey(feed: feed, memory, batch: batch) }
    }
    package func noteFeedKeySeen(batch: BatchID, file: String, key: String, record: Int) throws -> Int? {
        try forwardingFeed { try $0.noteFeedKeySeen(batch: batch, file: file, key: key, record: record) }
    }
    package func noteFeedKeySeenReadingMemory(feed: String, batch: BatchID, file: String, key: String, record: Int) throws -> (
        firstSeen: Int?, memory: FeedKeyMemory?
    ) {
        let answer = try forwardingFeed { tx -> SeenAndMemory in
            let (first, memory) = try tx.noteFeedKeySeenReadingMemory(feed: feed, batch: batch, file: file, key: key, record: record)
            return SeenAndMemory(firstSeen: first, memory: memory)
        }
        return (answer.firstSeen, answer.memory)
    }
    package func feedLeavers(feed: String, files: [String], batch: BatchID, after: (file: String, key: String)?, limit: Int) throws
        -> [FeedKeyMemory]
    {
        let position = after.map { FeedKeyPosition(file: $0.file, key: $0.key) }
        return try forwardingFeed {
            try $0.feedLeavers(feed: feed, files: files, batch: batch, after: position.map { ($0.file, $0.key) }, limit: limit)
        }
    }
    package func feedLeaverCount(feed: String, files: [String], batch: BatchID) throws -> Int {
        try forwardingFeed { try $0.feedLeaverCount(feed: feed, files: files, batch: batch) }
    }
    package func activeFeedKeyCount(feed: String, files: [String]) throws -> Int {
        try forwardingFeed { try $0.activeFeedKeyCount(feed: feed, files: files) }
    }
    package func feedHasKeys(feed: String, file: String) throws -> Bool {
        try forwardingFeed { try $0.feedHasKeys(feed: feed, file: file) }
    }
    package func currentVersion(of ref: ObjectRef) throws -> Int? { try forwardingFeed { try $0.currentVersion(of: ref) } }
    package func lookUpRef(username: String) throws -> ObjectRef? { try forwardingFeed { try $0.lookUpRef(username: username) } }
    package func lookUpRef(behaviour: String) throws -> ObjectRef? { try forwardingFeed { try $0.lookUpRef(behaviour: behaviour) } }
    package func setBatchFeed(_ batch: BatchID, feed: String) throws { try forwardingFeed { try $0.setBatchFeed(batch, feed: feed) } }
    package func forgetSeenFeedKeys(batch: BatchID) throws { try forwardingFeed { try $0.forgetSeenFeedKeys(batch: batch) } }
}

/// A read of the store a record's transform made, with the store's answer.
package enum StoreRead: Sendable, Equatable {
    case object(ObjectRef)
    case username(String, ObjectRef?)
    case behaviour(String, ObjectRef?)
    /// A read that is not repeated to check it (links, title tables).
    case unrepeatable
}

/// A read as a feed key remembers it: asked again before the record is skipped, it must answer
/// the same (an object read must still be at the version it had once the record was committed).
package enum RememberedRead: Sendable, Equatable {
    case object(ObjectRef, version: Int?)
    case username(String, ObjectRef?)
    case behaviour(String, ObjectRef?)

    /// Reads as one column, a line each: `o REF VERSION`, `u REF NAME`, `b REF CODE` (`-` for no
    /// answer or no version; the name or code last, as it is). Read back on every record of a
    /// nightly run, so it is plain text rather than JSON.
    package static func encode(_ reads: [RememberedRead]) -> String {
        func ref(_ ref: ObjectRef?) -> String { ref.map { String($0.number) } ?? "-" }
        return reads.map { read in
            switch read {
            case .object(let r, let version): "o \(r.number) \(version.map(String.init) ?? "-")"
            case .username(let name, let r): "u \(ref(r)) \(name)"
            case .behaviour(let code, let r): "b \(ref(r)) \(code)"
            }
        }.joined(separator: "\n")
    }

    /// Whether `encode` can write a name or code (a line break would end its line).
    package static func canEncode(_ text: String) -> Bool { !text.utf8.contains(10) }

    /// Nil when the text is not what `encode` writes (the key is then transformed, never skipped).
    package static func decode(_ text: String) -> [RememberedRead]? {
        var reads: [RememberedRead] = []
        let wellFormed = EncodedLines.forEachLine(of: text) { line in
            // `K REF LAST`: K a letter, REF a number or `-`, LAST the rest of the line.
            guard line.count >= 5, line[line.startIndex + 1] == 32 else { return false }
            let kind = line[line.startIndex]
            let rest = line[(line.startIndex + 2)...]
            guard let space = rest.firstIndex(of: 32) else { return false }
            let first = rest[..<space]
            let last = rest[(space + 1)...]
            let noRef = first.count == 1 && first.first == UInt8(ascii: "-")
            let ref = noRef ? nil : EncodedLines.integer(first).map(ObjectRef.init)
            guard noRef || ref != nil else { return false }
            switch kind {
            case UInt8(ascii: "o"):
                guard let ref else { return false }
                let noVersion = last.count == 1 && last.first == UInt8(ascii: "-")
                reads.append(.object(ref, version: noVersion ? nil : EncodedLines.integer(last).map { Int($0) }))
            case UInt8(ascii: "u"): reads.append(.username(EncodedLines.string(last), ref))
            case UInt8(ascii: "b"): reads.append(.behaviour(EncodedLines.string(last), ref))
            default: return false
            }
            return true
        }
        return wellFormed ? reads : nil
    }
}

/// The answer of `noteFeedKeySeenReadingMemory`, as a forwarding transaction hands it back.
package struct SeenAndMemory: Sendable {
    package var firstSeen: Int?
    package var memory: FeedKeyMemory?
}
