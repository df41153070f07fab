import Foundation
import GRDB
import IntakeCore
import IntakeStore

/// The columns of `feed_keys` (and of `feed_key_history`, after its `batch`), in order.
private let feedKeyColumns =
    "feed, file, key, digest, control, schema, objects, must_transform, reads, active, first_seen, last_changed, first_batch, last_batch"

extension SQLiteBatchStore {
    package func setFeed(_ id: BatchID, feed: String, notify: [String]) async throws {
        try await write { db in
            try db.execute(
                sql: "UPDATE batches SET feed = ?, notify = ? WHERE id = ?", arguments: [feed, WebhookFanOut.notifyText(notify), id.rawValue])
        }
    }

    package func feeds() async throws -> [FeedRecord] {
        try await read { db in
            let names = try String.fetchAll(
                db,
                sql: """
                    SELECT feed FROM feed_keys GROUP BY feed
                    UNION SELECT feed FROM batches WHERE feed IS NOT NULL ORDER BY 1
                    """)
            return try names.map { try Self.feedRecord(db, $0) }
        }
    }

    package func feed(named name: String) async throws -> FeedRecord? {
        try await read { db in
            let known =
                try Bool.fetchOne(
                    db,
                    sql: "SELECT EXISTS (SELECT 1 FROM feed_keys WHERE feed = ?1) OR EXISTS (SELECT 1 FROM batches WHERE feed = ?1)",
                    arguments: [name]) ?? false
            return known ? try Self.feedRecord(db, name) : nil
        }
    }

    private static func feedRecord(_ db: Database, _ name: String) throws -> FeedRecord {
        let counts = try FeedKeyCountRow.fetchAll(
            db, sql: "SELECT active, count(*) AS n FROM feed_keys WHERE feed = ? GROUP BY active", arguments: [name])
        let active = counts.first { $0.active }?.n ?? 0
        let left = counts.first { !$0.active }?.n ?? 0
        let last = try String.fetchOne(
            db, sql: "SELECT id FROM batches WHERE feed = ? ORDER BY created DESC, rowid DESC LIMIT 1", arguments: [name])
        return FeedRecord(
            name: name, activeKeys: active, leftKeys: left, lastBatch: try last.flatMap { try fetchBatch(db, BatchID(rawValue: $0)) })
    }

    package func feedKeys(feed: String, active: Bool?, after: (file: String, key: String)?, limit: Int) async throws -> [FeedKeyMemory] {
        try await read { db in
            var sql = "SELECT * FROM feed_keys WHERE feed = ?"
            var arguments: StatementArguments = [feed]
            if let active {
                sql += " AND active = ?"
                arguments += [active]
            }
            if let after {
                sql += " AND (file, key) > (?, ?)"
                arguments += [after.file, after.key]
            }
            sql += " ORDER BY file, key LIMIT ?"
            arguments += [limit]
            return try FeedKeyRow.fetchAll(db, sql: sql, arguments: arguments).map { $0.record() }
        }
    }

    package func feedBatches(feed: String, limit: Int) async throws -> [Batch] {
        try await read { db in
            try String.fetchAll(
                db, sql: "SELECT id FROM batches WHERE feed = ? ORDER BY created DESC, rowid DESC LIMIT ?", arguments: [feed, limit]
            ).compactMap { try Self.fetchBatch(db, BatchID(rawValue: $0)) }
        }
    }

    package func feedLeaverPreview(feed: String, files: [String], batch: BatchID, limit: Int) async throws -> [FeedKeyMemory] {
        try await read { db in
            try SQLiteImportTransaction(db: db, batch: nil, now: Date()).feedLeavers(feed: feed, files: files, batch: batch, after: nil, limit: limit)
        }
    }

    package func feedKeysRestoredByRollback(of batch: BatchID, limit: Int) async throws -> (count: Int, keys: [String]) {
        // The keys `restoreFeedMemory` touches: those the batch saw first, and those it changed.
        try await read { db in
            let restored = """
                SELECT file, key FROM feed_keys WHERE first_batch = ?1 AND last_batch = ?1
                UNION ALL SELECT file, key FROM feed_key_history WHERE batch = ?1
                """
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM (\(restored))", arguments: [batch.rawValue]) ?? 0
            let keys = try FeedKeyPositionRow.fetchAll(
                db, sql: "SELECT file, key FROM (\(restored)) ORDER BY file, key LIMIT ?2", arguments: [batch.rawValue, limit]
            ).map { "\($0.file)/\($0.key)" }
            return (count, keys)
        }
    }

    package func feedKeyHistory(feed: String, file: String, key: String) async throws -> [FeedKeyMemory] {
        try await read { db in
            try FeedKeyRow.fetchAll(
                db,
                sql: """
                    SELECT \(feedKeyColumns) FROM feed_keys WHERE feed = ?1 AND file = ?2 AND key = ?3
                    UNION ALL SELECT \(feedKeyColumns) FROM feed_key_history WHERE feed = ?1 AND file = ?2 AND key = ?3
                    ORDER BY last_changed DESC
                    """, arguments: [feed, file, key]
            ).map { $0.record() }
        }
    }

    /// Puts back the feed memory a batch changed (its rollback): keys it first applied are
    /// forgotten, the others get the memory they had before it.
    static func restoreFeedMemory(_ db: Database, changedBy batch: BatchID) throws {
        try db.execute(
            sql: """
                DELETE FROM feed_keys WHERE first_batch = ?1 AND last_batch = ?1
                """, arguments: [batch.rawValue])
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO feed_keys (\(feedKeyColumns))
                SELECT \(feedKeyColumns) FROM feed_key_history WHERE batch = ?
                """, arguments: [batch.rawValue])
        try db.execute(sql: "DELETE FROM feed_key_history WHERE batch = ?", arguments: [batch.rawValue])
    }
}

/// The per-record statements of a feed batch, prepared once per connection (see `BoundStatement`).
/// A class, so that reaching them for every record is one reference, not a copy of each.
final class FeedStatements {
    let insertSeen, selectSeen, copyToHistory, upsertKey, version, refByUsername, refByBehaviour: BoundStatement
    /// `PendingSeenMarks.rowsPerStatement` new seen marks of one batch's file at once, and the
    /// highest key seen of a batch's file.
    let insertSeenGroup, highestSeen: BoundStatement
    /// A file's keys from one on, in key order: the walk of `SQLiteImportTransaction.feedKey`.
    let walkKeys: BoundStatement
    /// The merge of a feed's active keys with a batch's seen keys, from the start of a file or after a
    /// key; the memory of one key (a leaver the merge found).
    let activeKeys, activeKeysAfter, seenKeys, seenKeysAfter, memoryOfKey: BoundStatement
    /// The texts of the last memory read (`feedKeyColumns` order), reused by the next when they
    /// repeat: a night's keys share the control file and schema digests and mostly the batches.
    private var lastTexts = [String](repeating: "", count: 14)

    init(_ db: Database) throws {
        walkKeys = try BoundStatement(db, "SELECT \(feedKeyColumns) FROM feed_keys WHERE feed = ?1 AND file = ?2 AND key >= ?3 ORDER BY key")
        insertSeen = try BoundStatement(db, "INSERT OR IGNORE INTO feed_seen (batch, file, key, record) VALUES (?, ?, ?, ?)")
        selectSeen = try BoundStatement(db, "SELECT record FROM feed_seen WHERE batch = ? AND file = ? AND key = ?")
        // Plain INSERT: the keys are new by construction (`noteFeedKeySeen`); were one not, the
        // chunk fails rather than take a duplicate for a first occurrence.
        let group = (0..<PendingSeenMarks.rowsPerStatement).map { "(?1, ?2, ?\(3 + 2 * $0), ?\(4 + 2 * $0))" }
        insertSeenGroup = try BoundStatement(db, "INSERT INTO feed_seen (batch, file, key, record) VALUES \(group.joined(separator: ", "))")
        highestSeen = try BoundStatement(db, "SELECT key FROM feed_seen WHERE batch = ?1 AND file = ?2 ORDER BY key DESC LIMIT 1")
        // Only the key: the merge passes over every active key of the file, and taking each row's
        // fourteen columns cost it about a sixth of its time; a leaver's memory is read by itself.
        let activeKeys = "SELECT key FROM feed_keys WHERE feed = ?1 AND file = ?2 AND active"
        memoryOfKey = try BoundStatement(db, "SELECT \(feedKeyColumns) FROM feed_keys WHERE feed = ?1 AND file = ?2 AND key = ?3")
        self.activeKeys = try BoundStatement(db, "\(activeKeys) ORDER BY key")
        activeKeysAfter = try BoundStatement(db, "\(activeKeys) AND key > ?3 ORDER BY key")
        let seenKeys = "SELECT key FROM feed_seen WHERE batch = ?1 AND file = ?2"
        self.seenKeys = try BoundStatement(db, "\(seenKeys) ORDER BY key")
        seenKeysAfter = try BoundStatement(db, "\(seenKeys) AND key > ?3 ORDER BY key")
        copyToHistory = try BoundStatement(
            db,
            """
            INSERT OR IGNORE INTO feed_key_history (batch, \(feedKeyColumns))
            SELECT ?1, \(feedKeyColumns) FROM feed_keys WHERE feed = ?2 AND file = ?3 AND key = ?4 AND last_batch <> ?1
            """)
        upsertKey = try BoundStatement(
            db, "INSERT OR REPLACE INTO feed_keys (\(feedKeyColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        version = try BoundStatement(db, "SELECT version FROM objects WHERE ref = ?")
        // As the engine's lookups answer: deleted objects are found by neither.
        refByUsername = try BoundStatement(db, "SELECT ref, version FROM objects WHERE username = ? AND deleted = 0 ORDER BY ref LIMIT 1")
        refByBehaviour = try BoundStatement(db, "SELECT ref, version FROM objects WHERE behaviour = ? AND deleted = 0 ORDER BY ref LIMIT 1")
    }

    /// A `feed_keys` row read in `feedKeyColumns` order.
    func memory(_ row: BoundStatement.Row) -> FeedKeyMemory {
        func repeated(_ column: Int32) -> String {
            let text = row.text(column, reusing: lastTexts[Int(column)])
            lastTexts[Int(column)] = text
            return text
        }
        let reads = RememberedRead.decode(row.text(8))
        return FeedKeyMemory(
            file: repeated(1), key: row.text(2), recordDigest: row.text(3), control: repeated(4), schema: repeated(5),
            objects: FeedObject.decode(row.text(6)), mustTransform: row.int64(7) != 0 || reads == nil, reads: reads ?? [],
            active: row.int64(9) != 0, firstSeen: Date(timeIntervalSince1970: Double(row.int64(10))),
            lastChanged: Date(timeIntervalSince1970: Double(row.int64(11))), firstBatch: BatchID(rawValue: repeated(12)),
            lastBatch: BatchID(rawValue: repeated(13)))
    }
}

/// Seen marks of new keys not written yet, and the highest key each batch's file saw
/// (`SQLiteImportTransaction.noteFeedKeySeen`).
struct PendingSeenMarks {
    struct Place: Hashable {
        var batch: String
        var file: String
    }
    /// By batch and file, once read or noted: nil when the file has no seen mark yet.
    var highest: [Place: String?] = [:]
    var rows: [(place: Place, key: String, record: Int64)] = []

    /// One statement's overhead for 64 marks instead of one each (the size was not tuned; the
    /// whole change is measured in docs/DECISIONS.md, "Feeds").
    static let rowsPerStatement = 64
}

/// Where a transaction's walk through the memory of one feed's file stands (`feedKey`).
struct FeedKeyWalk {
    var feed: String
    var file: String
    /// The last key asked for: the walk's rows before it were passed.
    var lastKey: String
    /// The key of the row the walk stands on, when it stepped past the key asked for (which has no
    /// memory); nil when it stands on the row it handed out last.
    var ahead: String?
    /// The walk read the file's last row.
    var exhausted = false

    /// Rows stepped over, at most, before seeking is cheaper.
    static let maximumSteps = 16
}

extension SQLiteImportTransaction {
    /// A key's memory. A night's records mostly come in key order, so the keys are read by walking
    /// the file's memory in key order, stepping from one row to the next, rather than by a search
    /// of the table per key, which was a third of an unchanged night (docs/DECISIONS.md, "Feeds").
    /// A key behind the last one asked for, or far ahead, is sought afresh. A row is read only right
    /// after the step that reached it, and the walk ends when the memory is written
    /// (`saveFeedKey`); it stays open while the transaction writes other tables.
    func feedKey(feed: String, file: String, key: String) throws -> FeedKeyMemory? {
        let statements = try feedStatements
        let walk = statements.walkKeys
        if var current = feedWalk, current.feed == feed, current.file == file, current.lastKey.utf8.lexicographicallyPrecedes(key.utf8) {
            current.lastKey = key
            var goOn = true
            if let ahead = current.ahead {
                if key.utf8.lexicographicallyPrecedes(ahead.utf8) {
                    feedWalk = current
                    return nil
                }
                // The row ahead is this key's (read before this transaction wrote since) or behind it.
                goOn = ahead.utf8.lexicographicallyPrecedes(key.utf8)
            }
            if current.exhausted {
                feedWalk = current
                return nil
            }
            if goOn {
                for _ in 0..<FeedKeyWalk.maximumSteps {
                    guard let row = try walk.nextRow() else {
                        current.exhausted = true
                        feedWalk = current
                        return nil
                    }
                    let order = row.compareText(2, to: key)
                    if order == 0 {
                        current.ahead = nil
                        feedWalk = current
                        return statements.memory(row)
                    }
                    if order > 0 {
                        current.ahead = row.text(2)
                        feedWalk = current
                        return nil
                    }
                }
            }
        }
        walk.finishRows()
        feedWalk = nil
        walk.bind(1, feed)
        walk.bind(2, file)
        walk.bind(3, key)
        var current = FeedKeyWalk(feed: feed, file: file, lastKey: key)
        defer { feedWalk = current }
        guard let row = try walk.nextRow() else {
            current.exhausted = true
            return nil
        }
        if row.compareText(2, to: key) == 0 { return statements.memory(row) }
        current.ahead = row.text(2)
        return nil
    }

    /// Ends the walk of `feedKey`: before the transaction ends or rolls back to a savepoint.
    func endFeedWalk() {
        guard feedWalk != nil else { return }
        feedWalk = nil
        (try? feedStatements)?.walkKeys.finishRows()
    }

    func saveFeedKey(feed: String, _ memory: FeedKeyMemory, batch: BatchID) throws {
        // The walk never steps through its own table's writes: the next key seeks afresh, which
        // costs what SQLite's finding the walk's place again would (a feed's second night, which
        // saves every key, took the same time either way, 300k people, 2026-12-07).
        endFeedWalk()
        let statements = try feedStatements
        // The memory before this batch first changed the key is kept once, for rollback. A key the
        // batch applies for the first time has none.
        if memory.firstBatch != batch {
            statements.copyToHistory.bind(1, batch.rawValue)
            statements.copyToHistory.bind(2, feed)
            statements.copyToHistory.bind(3, memory.file)
            statements.copyToHistory.bind(4, memory.key)
            try statements.copyToHistory.run()
        }
        let upsert = statements.upsertKey
        upsert.bind(1, feed)
        upsert.bind(2, memory.file)
        upsert.bind(3, memory.key)
        upsert.bind(4, memory.recordDigest)
        upsert.bind(5, memory.control)
        upsert.bind(6, memory.schema)
        upsert.bind(7, FeedObject.encode(memory.objects))
        upsert.bind(8, memory.mustTransform ? 1 : 0)
        upsert.bind(9, RememberedRead.encode(memory.reads))
        upsert.bind(10, memory.active ? 1 : 0)
        upsert.bind(11, SQLiteBatchStore.seconds(memory.firstSeen))
        upsert.bind(12, SQLiteBatchStore.seconds(memory.lastChanged))
        upsert.bind(13, memory.firstBatch.rawValue)
        upsert.bind(14, memory.lastBatch.rawValue)
        try upsert.run()
    }

    /// A key above every key the batch saw in the file is new: its seen mark waits, with the
    /// others like it, to be written `PendingSeenMarks.rowsPerStatement` at a time (a nightly
    /// extract mostly comes in key order, so most keys are). Any other key is looked up after the
    /// waiting marks are written. The marks are written before anything reads them (the leavers'
    /// queries) and before the transaction commits, with the records they belong to.
    func noteFeedKeySeen(batch: BatchID, file: String, key: String, record: Int) throws -> Int? {
        let statements = try feedStatements
        let place = PendingSeenMarks.Place(batch: batch.rawValue, file: file)
        let highest: String?
        if let known = seenMarks.highest[place] {
            highest = known
        } else {
            statements.highestSeen.bind(1, batch.rawValue)
            statements.highestSeen.bind(2, file)
            highest = try statements.highestSeen.first { $0.text(0) }
        }
        if highest.map({ $0.utf8.lexicographicallyPrecedes(key.utf8) }) ?? true {
            seenMarks.highest[place] = .some(key)
            seenMarks.rows.append((place, key, Int64(record)))
            if seenMarks.rows.count >= PendingSeenMarks.rowsPerStatement { try writeSeenMarks() }
            return nil
        }
        seenMarks.highest[place] = .some(highest)
        try writeSeenMarks()
        statements.insertSeen.bind(1, batch.rawValue)
        statements.insertSeen.bind(2, file)
        statements.insertSeen.bind(3, key)
        statements.insertSeen.bind(4, Int64(record))
        if try statements.insertSeen.runCountingChanges() == 1 { return nil }
        statements.selectSeen.bind(1, batch.rawValue)
        statements.selectSeen.bind(2, file)
        statements.selectSeen.bind(3, key)
        return try statements.selectSeen.first { Int($0.int64(0)) }
    }

    private func filesJSON(_ files: [String]) -> String {
        String(decoding: (try? JSONEncoder().encode(files)) ?? Data("[]".utf8), as: UTF8.self)
    }

    func feedLeavers(feed: String, files: [String], batch: BatchID, after: (file: String, key: String)?, limit: Int) throws
        -> [FeedKeyMemory]
    {
        guard limit > 0 else { return [] }
        let statements = try feedStatements
        var leavers: [FeedKeyMemory] = []
        try forEachUnseenActiveKey(feed: feed, files: files, batch: batch, after: after) { file, row in
            let read = statements.memoryOfKey
            read.bind(1, feed)
            read.bind(2, file)
            read.bind(3, row.text(0))
            if let memory = try read.first(statements.memory) { leavers.append(memory) }
            return leavers.count < limit
        }
        return leavers
    }

    func feedLeaverCount(feed: String, files: [String], batch: BatchID) throws -> Int {
        var count = 0
        try forEachUnseenActiveKey(feed: feed, files: files, batch: batch, after: nil) { _, _ in
            count += 1
            return true
        }
        return count
    }

    /// Writes the seen marks `noteFeedKeySeen` kept: a full group of one batch's file as one
    /// statement, the rest one by one.
    func writeSeenMarks() throws {
        guard !seenMarks.rows.isEmpty else { return }
        let statements = try feedStatements
        let rows = seenMarks.rows
        seenMarks.rows.removeAll(keepingCapacity: true)
        var start = 0
        while start < rows.count {
            let place = rows[start].place
            let group = rows[start...].prefix(PendingSeenMarks.rowsPerStatement).prefix { $0.place == place }
            if group.count == PendingSeenMarks.rowsPerStatement {
                let insert = statements.insertSeenGroup
                insert.bind(1, place.batch)
                insert.bind(2, place.file)
                for (offset, row) in group.enumerated() {
                    insert.bind(Int32(3 + 2 * offset), row.key)
                    insert.bind(Int32(4 + 2 * offset), row.record)
                }
                try insert.run()
            } else {
                for row in group {
                    let insert = statements.insertSeen
                    insert.bind(1, place.batch)
                    insert.bind(2, place.file)
                    insert.bind(3, row.key)
                    insert.bind(4, row.record)
                    try insert.run()
                }
            }
            start += group.count
        }
    }

    /// Hands `body` each active key of `files` that `batch` did not see, with its file (the key in
    /// the row's column 0), in (file, key) order after `after`, until it returns false.
    ///
    /// The feed's keys and the batch's seen keys are both read in key order, file by file, and
    /// merged: one pass over each, where asking the seen keys for every active key cost a B-tree
    /// search per key (docs/DECISIONS.md, "Measurements behind the code").
    private func forEachUnseenActiveKey(
        feed: String, files: [String], batch: BatchID, after: (file: String, key: String)?,
        _ body: (_ file: String, _ key: BoundStatement.Row) throws -> Bool
    ) throws {
        try writeSeenMarks()
        let statements = try feedStatements
        // SQLite orders texts by their bytes.
        let ordered = Set(files).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for file in ordered {
            var from: String?
            if let after {
                if file.utf8.lexicographicallyPrecedes(after.file.utf8) { continue }
                if file == after.file { from = after.key }
            }
            let (keys, seen) = from == nil ? (statements.activeKeys, statements.seenKeys) : (statements.activeKeysAfter, statements.seenKeysAfter)
            keys.bind(1, feed)
            keys.bind(2, file)
            seen.bind(1, batch.rawValue)
            seen.bind(2, file)
            if let from {
                keys.bind(3, from)
                seen.bind(3, from)
            }
            defer {
                keys.finishRows()
                seen.finishRows()
            }
            var seenRow = try seen.nextRow()
            while let key = try keys.nextRow() {
                // Seen keys before this one are not active (new, or left before): passed over.
                var order = 1
                while let current = seenRow {
                    order = current.compareText(0, to: key, 0)
                    if order >= 0 { break }
                    seenRow = try seen.nextRow()
                }
                if seenRow != nil && order == 0 { continue }
                if try !body(file, key) { return }
            }
        }
    }

    func activeFeedKeyCount(feed: String, files: [String]) throws -> Int {
        try Int.fetchOne(
            db,
            sql: "SELECT count(*) FROM feed_keys WHERE feed = ? AND active AND file IN (SELECT value FROM json_each(?))",
            arguments: [feed, filesJSON(files)]) ?? 0
    }

    func feedHasKeys(feed: String, file: String) throws -> Bool {
        try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM feed_keys WHERE feed = ? AND file = ?)", arguments: [feed, file]) ?? false
    }

    func currentVersion(of ref: ObjectRef) throws -> Int? {
        if let lookedUp = versionLookedUp, lookedUp.ref == ref.number { return Int(lookedUp.version) }
        let statement = try feedStatements.version
        statement.bind(1, ref.number)
        return try statement.first { Int($0.int64(0)) }
    }

    func lookUpRef(username: String) throws -> ObjectRef? { try lookUpRef(try feedStatements.refByUsername, username) }

    func lookUpRef(behaviour: String) throws -> ObjectRef? { try lookUpRef(try feedStatements.refByBehaviour, behaviour) }

    /// The ref a lookup finds; its version is kept for `currentVersion(of:)`, which a skip check
    /// asks next about the same object (until anything is written).
    private func lookUpRef(_ statement: BoundStatement, _ key: String) throws -> ObjectRef? {
        statement.bind(1, key)
        guard let found = try statement.first({ (ref: $0.int64(0), version: $0.int64(1)) }) else { return nil }
        versionLookedUp = found
        return ObjectRef(found.ref)
    }

    func setBatchFeed(_ batch: BatchID, feed: String) throws {
        try db.execute(sql: "UPDATE batches SET feed = ? WHERE id = ?", arguments: [feed, batch.rawValue])
    }

    func forgetSeenFeedKeys(batch: BatchID) throws {
        try writeSeenMarks()
        seenMarks.highest = [:]
        try db.execute(sql: "DELETE FROM feed_seen WHERE batch = ?", arguments: [batch.rawValue])
    }
}
