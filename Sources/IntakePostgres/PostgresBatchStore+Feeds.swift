import Foundation
import IntakeCore
import IntakeStore
import PostgresNIO

/// The columns of `feed_keys` (and of `feed_key_history`, after its `batch`), in order.
private let feedKeyColumns =
    "feed, file, key, digest, control, schema, objects, must_transform, reads, active, first_seen, last_changed, first_batch, last_batch"

/// A key's memory written over what it was (a run's writes, a rollback's restore).
private let feedKeyUpsert = """
    ON CONFLICT (feed, file, key) DO UPDATE SET digest = EXCLUDED.digest, control = EXCLUDED.control, schema = EXCLUDED.schema,
        objects = EXCLUDED.objects, must_transform = EXCLUDED.must_transform, reads = EXCLUDED.reads, active = EXCLUDED.active,
        first_seen = EXCLUDED.first_seen, last_changed = EXCLUDED.last_changed, first_batch = EXCLUDED.first_batch,
        last_batch = EXCLUDED.last_batch
    """

extension PostgresBatchStore {
    static func feedKeyMemory(_ row: PostgresRow) throws -> FeedKeyMemory {
        let c = row.columns
        return FeedKeyMemory(
            file: try c.value("file"), key: try c.value("key"), recordDigest: try c.value("digest"), control: try c.value("control"),
            schema: try c.value("schema"), objects: FeedObject.decode(try c.value("objects")),
            mustTransform: try c.value("must_transform") || RememberedRead.decode(try c.value("reads")) == nil,
            reads: RememberedRead.decode(try c.value("reads")) ?? [],
            active: try c.value("active"), firstSeen: try c.date("first_seen"), lastChanged: try c.date("last_changed"),
            firstBatch: BatchID(rawValue: try c.value("first_batch")), lastBatch: BatchID(rawValue: try c.value("last_batch")))
    }

    package func setFeed(_ id: BatchID, feed: String, notify: [String]) async throws {
        try await database.query("UPDATE batches SET feed = \(feed), notify = \(WebhookFanOut.notifyText(notify)) WHERE id = \(id.rawValue)")
    }

    package func feeds() async throws -> [FeedRecord] {
        try await database.withConnection { connection in
            let names = try await connection.query(
                "SELECT feed FROM feed_keys GROUP BY feed UNION SELECT feed FROM batches WHERE feed IS NOT NULL ORDER BY 1"
            ).rows.map { try $0.decode(String.self) }
            var feeds: [FeedRecord] = []
            for name in names { feeds.append(try await Self.feedRecord(connection, name)) }
            return feeds
        }
    }

    package func feed(named name: String) async throws -> FeedRecord? {
        try await database.withConnection { connection in
            let known =
                try await connection.query(
                    "SELECT EXISTS (SELECT 1 FROM feed_keys WHERE feed = \(name)) OR EXISTS (SELECT 1 FROM batches WHERE feed = \(name))"
                ).scalar(Bool.self) ?? false
            return known ? try await Self.feedRecord(connection, name) : nil
        }
    }

    private static func feedRecord(_ connection: AsyncConnection, _ name: String) async throws -> FeedRecord {
        var (active, left) = (0, 0)
        for row in try await connection.query("SELECT active, count(*) FROM feed_keys WHERE feed = \(name) GROUP BY active").rows {
            let (isActive, count) = try row.decode((Bool, Int).self)
            if isActive { active = count } else { left = count }
        }
        let last = try await connection.query(
            "SELECT id FROM batches WHERE feed = \(name) ORDER BY created DESC, seq DESC LIMIT 1"
        ).scalar(String.self)
        var lastBatch: Batch?
        if let last { lastBatch = try await fetchBatch(connection, BatchID(rawValue: last)) }
        return FeedRecord(name: name, activeKeys: active, leftKeys: left, lastBatch: lastBatch)
    }

    package func feedKeys(feed: String, active: Bool?, after: (file: String, key: String)?, limit: Int) async throws -> [FeedKeyMemory] {
        let (file, key) = (after?.file ?? "", after?.key ?? "")
        let result = try await database.query(
            """
            SELECT * FROM feed_keys WHERE feed = \(feed) AND (\(active)::boolean IS NULL OR active = \(active))
              AND (\(after == nil) OR (file, key) > (\(file), \(key)))
            ORDER BY file, key LIMIT \(limit)
            """)
        return try result.rows.map(Self.feedKeyMemory)
    }

    package func feedBatches(feed: String, limit: Int) async throws -> [Batch] {
        try await database.withConnection { connection in
            let ids = try Self.ids(
                try await connection.query("SELECT id FROM batches WHERE feed = \(feed) ORDER BY created DESC, seq DESC LIMIT \(limit)"))
            return try await Self.fetchBatches(connection, ids)
        }
    }

    package func feedLeaverPreview(feed: String, files: [String], batch: BatchID, limit: Int) async throws -> [FeedKeyMemory] {
        try await database.query(
            """
            SELECT k.* FROM feed_keys k
            WHERE k.feed = \(feed) AND k.active AND k.file = ANY(\(files))
              AND NOT EXISTS (SELECT 1 FROM feed_seen s WHERE s.batch = \(batch.rawValue) AND s.file = k.file AND s.key = k.key OFFSET 0)
            ORDER BY k.file, k.key LIMIT \(limit)
            """
        ).rows.map(Self.feedKeyMemory)
    }

    package func feedKeysRestoredByRollback(of batch: BatchID, limit: Int) async throws -> (count: Int, keys: [String]) {
        // The keys `restoreFeedMemory` touches: those the batch saw first, and those it changed.
        let id = batch.rawValue
        let count =
            try await database.query(
                """
                SELECT (SELECT COUNT(*) FROM feed_keys WHERE first_batch = \(id) AND last_batch = \(id))
                     + (SELECT COUNT(*) FROM feed_key_history WHERE batch = \(id))
                """
            ).scalar(Int.self) ?? 0
        let keys = try await database.query(
            """
            SELECT file, key FROM (
                SELECT file, key FROM feed_keys WHERE first_batch = \(id) AND last_batch = \(id)
                UNION ALL SELECT file, key FROM feed_key_history WHERE batch = \(id)
            ) restored ORDER BY file, key LIMIT \(limit)
            """
        ).rows.map { row in
            let (file, key) = try row.decode((String, String).self)
            return "\(file)/\(key)"
        }
        return (count, keys)
    }

    package func feedKeyHistory(feed: String, file: String, key: String) async throws -> [FeedKeyMemory] {
        try await database.query(
            """
            SELECT \(unescaped: feedKeyColumns) FROM feed_keys WHERE feed = \(feed) AND file = \(file) AND key = \(key)
            UNION ALL SELECT \(unescaped: feedKeyColumns) FROM feed_key_history WHERE feed = \(feed) AND file = \(file) AND key = \(key)
            ORDER BY last_changed DESC
            """
        ).rows.map(Self.feedKeyMemory)
    }

    /// Puts back the feed memory a batch changed (its rollback), as SQLite's.
    static func restoreFeedMemory(_ connection: AsyncConnection, changedBy batch: BatchID) async throws {
        try await connection.query("DELETE FROM feed_keys WHERE first_batch = \(batch.rawValue) AND last_batch = \(batch.rawValue)")
        try await connection.query(
            """
            INSERT INTO feed_keys (\(unescaped: feedKeyColumns))
            SELECT \(unescaped: feedKeyColumns) FROM feed_key_history WHERE batch = \(batch.rawValue)
            \(unescaped: feedKeyUpsert)
            """)
        try await connection.query("DELETE FROM feed_key_history WHERE batch = \(batch.rawValue)")
    }
}

/// Feed memory an import transaction has written and not sent: the keys its records were seen at,
/// and the keys' new memory. A feed record used to cost four round trips of its own (the seen key
/// noted, the memory read, copied to history, written); now its memory is read together with its
/// seen mark, and the writes go as two or three statements for hundreds of records, when the chunk
/// commits or before a read that needs them (the leavers' queries).
struct PendingFeedWrites {
    struct Seen: Hashable {
        var batch: String
        var file: String
        var key: String
    }
    struct Key: Hashable {
        var feed: String
        var file: String
        var key: String
    }
    var seen: [Seen: Int] = [:]
    var seenOrder: [Seen] = []
    var keys: [Key: (memory: FeedKeyMemory, batch: BatchID)] = [:]
    var keyOrder: [Key] = []

    var isEmpty: Bool { seenOrder.isEmpty && keyOrder.isEmpty }
    var rows: Int { seenOrder.count + keyOrder.count }
}

/// Feed memory read ahead for the keys of the next records (`readFeedMemoryAhead`), and what the
/// transaction wrote since, which may make a key's skip check answer differently than it did then.
///
/// Reading ahead moves the check of a record that is not changed by this transaction to the time
/// of the read, a few hundred milliseconds earlier, in the same chunk transaction: as if the record
/// had been read then. Another node's write in between is ordered after the record instead of
/// before it, which it could be anyway (chunks do not lock what they only read).
struct FeedMemoryAhead {
    struct Entry {
        var firstSeen: Int?
        var memory: FeedKeyMemory?
    }
    /// By feed, file and key; each used once.
    var entries: [PendingFeedWrites.Key: Entry] = [:]
    /// Objects written since the read, and the usernames and behaviours they were written with.
    private var writtenRefs: Set<Int64> = []
    private var writtenUsernames: Set<String> = []
    private var writtenBehaviours: Set<String> = []

    /// Notes a version written (created, updated, deleted), while anything read ahead is left.
    mutating func noteWrite(ref: Int64, username: String?, behaviour: String?) {
        guard !entries.isEmpty else { return }
        writtenRefs.insert(ref)
        if let username { writtenUsernames.insert(username) }
        if let behaviour { writtenBehaviours.insert(behaviour) }
    }

    /// Whether a write since the read touched an object the key saved or read, or may have changed
    /// what one of its lookups answers: an object given the name, or the object that answered.
    func mayAnswerDifferently(_ memory: FeedKeyMemory) -> Bool {
        guard !writtenRefs.isEmpty else { return false }
        if memory.objects.contains(where: { writtenRefs.contains($0.ref.number) }) { return true }
        return memory.reads.contains { read in
            switch read {
            case .object(let ref, _): writtenRefs.contains(ref.number)
            case .username(let name, let answer):
                writtenUsernames.contains(name) || answer.map { writtenRefs.contains($0.number) } == true
            case .behaviour(let code, let answer):
                writtenBehaviours.contains(code) || answer.map { writtenRefs.contains($0.number) } == true
            }
        }
    }
}

extension PostgresImportTransaction {
    /// Sends the gathered feed memory: seen keys, then for each feed the memory the batch replaces
    /// (to history, once per batch) and the new memory, each kind as one statement over arrays.
    func sendFeedWrites() throws {
        guard !pendingFeed.isEmpty else { return }
        let writes = pendingFeed
        pendingFeed = PendingFeedWrites()
        for batch in Set(writes.seenOrder.map(\.batch)).sorted() {
            let rows = writes.seenOrder.filter { $0.batch == batch }
            try connection.query(
                """
                INSERT INTO feed_seen (batch, file, key, record)
                SELECT \(batch), s.file, s.key, s.record
                FROM unnest(\(rows.map(\.file))::text[], \(rows.map(\.key))::text[], \(rows.map { Int64(writes.seen[$0]!) })::bigint[]) AS s (file, key, record)
                ON CONFLICT DO NOTHING
                """)
        }
        let groups = Dictionary(grouping: writes.keyOrder) { "\($0.feed)\u{0}\(writes.keys[$0]!.batch.rawValue)" }
        for name in groups.keys.sorted() {
            let ids = groups[name]!
            let (feed, batch) = (ids[0].feed, writes.keys[ids[0]]!.batch)
            let memories = ids.map { writes.keys[$0]!.memory }
            let (files, keys) = (memories.map(\.file), memories.map(\.key))
            try connection.query(
                """
                INSERT INTO feed_key_history (batch, \(unescaped: feedKeyColumns))
                SELECT \(batch.rawValue), \(unescaped: Self.prefixed(feedKeyColumns, "k."))
                FROM feed_keys k JOIN unnest(\(files)::text[], \(keys)::text[]) AS u (file, key) ON k.file = u.file AND k.key = u.key
                WHERE k.feed = \(feed) AND k.last_batch <> \(batch.rawValue)
                ON CONFLICT DO NOTHING
                """)
            try connection.query(
                """
                INSERT INTO feed_keys (\(unescaped: feedKeyColumns))
                SELECT \(feed), m.* FROM unnest(
                    \(files)::text[], \(keys)::text[], \(memories.map(\.recordDigest))::text[], \(memories.map(\.control))::text[],
                    \(memories.map(\.schema))::text[], \(memories.map { FeedObject.encode($0.objects) })::text[],
                    \(memories.map(\.mustTransform))::boolean[], \(memories.map { RememberedRead.encode($0.reads) })::text[],
                    \(memories.map(\.active))::boolean[], \(memories.map { seconds($0.firstSeen) })::bigint[],
                    \(memories.map { seconds($0.lastChanged) })::bigint[], \(memories.map(\.firstBatch.rawValue))::text[],
                    \(memories.map(\.lastBatch.rawValue))::text[]) AS m
                \(unescaped: feedKeyUpsert)
                """)
        }
    }

    /// `a, b` → `k.a, k.b`.
    static func prefixed(_ columns: String, _ prefix: String) -> String {
        columns.split(separator: ",").map { prefix + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")
    }

    /// Whether the batch saw the key before, and its memory, from what was read ahead with the keys
    /// of the next records: one round trip for about a hundred records instead of one each, which
    /// was most of a feed night's time on PostgreSQL (docs/DECISIONS.md, "Feeds").
    func noteFeedKeySeen(
        batch: BatchID, file: String, key: String, record: Int, readingMemoryOf feed: String?, upcoming: () -> [String]
    ) throws -> (firstSeen: Int?, memory: FeedKeyMemory?) {
        let feed = feed ?? ""
        let seen = PendingFeedWrites.Seen(batch: batch.rawValue, file: file, key: key)
        if let first = pendingFeed.seen[seen] { return (first, nil) }
        let id = PendingFeedWrites.Key(feed: feed, file: file, key: key)
        if feedAhead.entries[id] == nil { try readFeedMemoryAhead(feed: feed, batch: batch, file: file, keys: [key] + upcoming()) }
        // Each entry is used once: a key that comes again finds the first time's seen mark.
        guard let ahead = feedAhead.entries.removeValue(forKey: id) else {
            return try noteFeedKeySeenReadingMemory(feed: feed, batch: batch, file: file, key: key, record: record)
        }
        if let first = ahead.firstSeen { return (first, nil) }
        try noteSeen(seen, record: record)
        if let unsent = pendingFeed.keys[id] { return (nil, unsent.memory) }
        guard var memory = ahead.memory else { return (nil, nil) }
        // An object written since the read may answer differently: then the skip check asks again.
        if memory.storeAnswersAlike == true, feedAhead.mayAnswerDifferently(memory) { memory.storeAnswersAlike = nil }
        return (nil, memory)
    }

    /// Reads whether the batch saw each of `keys` and their memory in `feed` ("" for none), with
    /// `answersAlike`, replacing what was read ahead before. Each key is looked up by itself (a
    /// subquery per key, `OFFSET 0` so it is not flattened into a join): joined, the feed's keys
    /// and the batch's seen marks were scanned whole for each read whenever the planner's
    /// statistics still took the tables for small, which made a night's reads grow with the square
    /// of its keys.
    private func readFeedMemoryAhead(feed: String, batch: BatchID, file: String, keys: [String]) throws {
        var unique = Set<String>()
        let keys = keys.filter { unique.insert($0).inserted }
        feedAhead = FeedMemoryAhead()
        // The statement must see every key the batch saw so far: the unsent seen marks go first
        // (else a key seen before the read and sent after it would pass for new when it came again).
        if !pendingFeed.seenOrder.isEmpty { try sendFeedWrites() }
        let rows = try connection.query(
            """
            SELECT u.wanted,
                (SELECT s.record FROM feed_seen s WHERE s.batch = \(batch.rawValue) AND s.file = \(file) AND s.key = u.wanted) AS seen_record,
                \(unescaped: Self.prefixed(feedKeyColumns, "k.")), \(unescaped: Self.answersAlike) AS alike
            FROM unnest(\(keys)::text[]) AS u (wanted)
            LEFT JOIN LATERAL (SELECT * FROM feed_keys WHERE feed = \(feed) AND file = \(file) AND key = u.wanted OFFSET 0) k ON true
            """
        ).rows
        for row in rows {
            let c = row.columns
            var entry = FeedMemoryAhead.Entry(firstSeen: try c.value("seen_record", as: Int64?.self).map { Int($0) })
            if try c.value("feed", as: String?.self) != nil {
                var memory = try PostgresBatchStore.feedKeyMemory(row)
                memory.storeAnswersAlike = try c.value("alike", as: Bool?.self).map { $0 && !unsentObjectsAnswer(memory.reads) }
                entry.memory = memory
            }
            feedAhead.entries[PendingFeedWrites.Key(feed: feed, file: file, key: try c.value("wanted"))] = entry
        }
    }

    /// Notes that the batch saw a key at `record`.
    private func noteSeen(_ seen: PendingFeedWrites.Seen, record: Int) throws {
        pendingFeed.seen[seen] = record
        pendingFeed.seenOrder.append(seen)
        if pendingFeed.rows >= Self.pendingRows { try sendFeedWrites() }
    }

    /// One round trip: whether the batch saw the key before (in an earlier chunk, or earlier in this
    /// one), and its memory.
    func noteFeedKeySeenReadingMemory(feed: String, batch: BatchID, file: String, key: String, record: Int) throws -> (
        firstSeen: Int?, memory: FeedKeyMemory?
    ) {
        let seen = PendingFeedWrites.Seen(batch: batch.rawValue, file: file, key: key)
        if let first = pendingFeed.seen[seen] { return (first, nil) }
        // Prepared: planning this statement took four times as long as running it.
        guard
            let cells = try connection.execute(
                prepared: Self.seenAndMemory,
                [PostgresData(string: batch.rawValue), PostgresData(string: file), PostgresData(string: key), PostgresData(string: feed)]
            ).first?.preparedCells
        else { return (nil, nil) }
        if let first = try cells[0].decode(Int64?.self) { return (Int(first), nil) }
        try noteSeen(seen, record: record)
        if let unsent = pendingFeed.keys[PendingFeedWrites.Key(feed: feed, file: file, key: key)] { return (nil, unsent.memory) }
        guard try cells[1].decode(String?.self) != nil else { return (nil, nil) }
        let reads = RememberedRead.decode(try cells[9].decode(String.self))
        var memory = FeedKeyMemory(
            file: try cells[2].decode(String.self), key: try cells[3].decode(String.self), recordDigest: try cells[4].decode(String.self),
            control: try cells[5].decode(String.self), schema: try cells[6].decode(String.self),
            objects: FeedObject.decode(try cells[7].decode(String.self)), mustTransform: try cells[8].decode(Bool.self) || reads == nil,
            reads: reads ?? [], active: try cells[10].decode(Bool.self),
            firstSeen: Date(timeIntervalSince1970: TimeInterval(try cells[11].decode(Int64.self))),
            lastChanged: Date(timeIntervalSince1970: TimeInterval(try cells[12].decode(Int64.self))),
            firstBatch: BatchID(rawValue: try cells[13].decode(String.self)), lastBatch: BatchID(rawValue: try cells[14].decode(String.self)))
        memory.storeAnswersAlike = try cells[15].decode(Bool?.self).map { $0 && !unsentObjectsAnswer(memory.reads) }
        return (nil, memory)
    }

    /// Whether the batch saw the key ($1 batch, $2 file, $3 key) and the key's memory in the feed
    /// ($4), with `answersAlike`.
    static let seenAndMemory = """
        SELECT s.record, k.feed, \(prefixed(feedKeyColumns, "k.").dropFirst("k.feed, ".count)), \(answersAlike)
        FROM (SELECT 1) AS one
        LEFT JOIN feed_seen s ON s.batch = $1::text AND s.file = $2::text AND s.key = $3::text
        LEFT JOIN feed_keys k ON k.feed = $4::text AND k.file = $2::text AND k.key = $3::text
        """

    /// The skip check (`FeedRun.canSkip`) of the key's objects and reads, in SQL, so the memory and
    /// the check cost one round trip: every saved object (`objects`: lines `destination ref version`)
    /// at its version, and every read (`reads`: `o ref version`, `u ref username`, `b ref behaviour`,
    /// `-` for none) answering the same, lookups as `ref(forUsername:)` answers them (the lowest ref,
    /// deleted objects left out). True for a key with neither.
    static let answersAlike = """
        (SELECT coalesce(bool_and(o.version IS NOT DISTINCT FROM split_part(l, ' ', 3)::int), true)
            FROM unnest(string_to_array(k.objects, E'\\n')) AS l LEFT JOIN objects o ON o.ref = split_part(l, ' ', 2)::bigint)
        AND (SELECT coalesce(bool_and(CASE left(l, 1)
            WHEN 'o' THEN (SELECT o.version FROM objects o WHERE o.ref = split_part(l, ' ', 2)::bigint)
                IS NOT DISTINCT FROM nullif(split_part(l, ' ', 3), '-')::int
            WHEN 'u' THEN (SELECT o.ref FROM objects o WHERE o.username = substr(l, length(split_part(l, ' ', 2)) + 4) AND NOT o.deleted
                ORDER BY o.ref LIMIT 1) IS NOT DISTINCT FROM nullif(split_part(l, ' ', 2), '-')::bigint
            WHEN 'b' THEN (SELECT o.ref FROM objects o WHERE o.behaviour = substr(l, length(split_part(l, ' ', 2)) + 4) AND NOT o.deleted
                ORDER BY o.ref LIMIT 1) IS NOT DISTINCT FROM nullif(split_part(l, ' ', 2), '-')::bigint
            ELSE false END), true)
            FROM unnest(string_to_array(k.reads, E'\\n')) AS l)
        """

    /// Whether a lookup among `reads` could find a new object of this transaction not sent yet,
    /// which the SQL above cannot see: then the store is asked again (the record is transformed).
    private func unsentObjectsAnswer(_ reads: [RememberedRead]) -> Bool {
        indexPending()
        return reads.contains { read in
            switch read {
            case .username(let name, _): pendingUsernames[name] != nil
            case .behaviour(let code, _): pendingBehaviours[code] != nil
            case .object: false
            }
        }
    }

    func feedKey(feed: String, file: String, key: String) throws -> FeedKeyMemory? {
        if let unsent = pendingFeed.keys[PendingFeedWrites.Key(feed: feed, file: file, key: key)] { return unsent.memory }
        return try connection.query("SELECT * FROM feed_keys WHERE feed = \(feed) AND file = \(file) AND key = \(key)")
            .rows.first.map(PostgresBatchStore.feedKeyMemory)
    }

    func saveFeedKey(feed: String, _ memory: FeedKeyMemory, batch: BatchID) throws {
        // Kept for the chunk's statement; the memory it replaces is copied to history then (a key is
        // saved once per batch and chunk: a batch refuses a key it has seen). Inside a savepoint it
        // goes at once, so rolling the savepoint back undoes it.
        let id = PendingFeedWrites.Key(feed: feed, file: memory.file, key: memory.key)
        if pendingFeed.keys.updateValue((memory, batch), forKey: id) == nil { pendingFeed.keyOrder.append(id) }
        if inSavepoint || pendingFeed.rows >= Self.pendingRows { try sendFeedWrites() }
    }

    func noteFeedKeySeen(batch: BatchID, file: String, key: String, record: Int) throws -> Int? {
        // No feed is named "": no memory is read.
        try noteFeedKeySeenReadingMemory(feed: "", batch: batch, file: file, key: key, record: record).firstSeen
    }

    func feedLeavers(feed: String, files: [String], batch: BatchID, after: (file: String, key: String)?, limit: Int) throws
        -> [FeedKeyMemory]
    {
        try flush()
        let (file, key) = (after?.file ?? "", after?.key ?? "")
        // The columns compare byte by byte ("C", see PostgresMigrations): SQLite's order.
        // `OFFSET 0` keeps the seen check a lookup per key in the key order: made into an anti
        // join, the planner scanned the batch's seen marks once per key whenever its statistics
        // were from before the night (18,569 keys: 22 s instead of milliseconds).
        return try connection.query(
            """
            SELECT k.* FROM feed_keys k
            WHERE k.feed = \(feed) AND k.active AND k.file = ANY(\(files))
              AND NOT EXISTS (SELECT 1 FROM feed_seen s WHERE s.batch = \(batch.rawValue) AND s.file = k.file AND s.key = k.key OFFSET 0)
              AND (k.file, k.key) > (\(file), \(key))
            ORDER BY k.file, k.key LIMIT \(limit)
            """
        ).rows.map(PostgresBatchStore.feedKeyMemory)
    }

    func feedLeaverCount(feed: String, files: [String], batch: BatchID) throws -> Int {
        try flush()
        return try connection.query(
            """
            SELECT count(*) FROM feed_keys k
            WHERE k.feed = \(feed) AND k.active AND k.file = ANY(\(files))
              AND NOT EXISTS (SELECT 1 FROM feed_seen s WHERE s.batch = \(batch.rawValue) AND s.file = k.file AND s.key = k.key OFFSET 0)
            """
        ).scalar(Int.self) ?? 0
    }

    func activeFeedKeyCount(feed: String, files: [String]) throws -> Int {
        try flush()
        return try connection.query("SELECT count(*) FROM feed_keys WHERE feed = \(feed) AND active AND file = ANY(\(files))")
            .scalar(Int.self) ?? 0
    }

    func feedHasKeys(feed: String, file: String) throws -> Bool {
        try flush()
        return try connection.query("SELECT EXISTS (SELECT 1 FROM feed_keys WHERE feed = \(feed) AND file = \(file))")
            .scalar(Bool.self) ?? false
    }

    func currentVersion(of ref: ObjectRef) throws -> Int? {
        // A new object not sent yet is version 1; anything else is read (never from memory: a
        // skip is decided on the version now, which another node may have changed).
        indexPending()
        if pendingObjects[ref.number] != nil { return 1 }
        try flushObjects()
        return try connection.query("SELECT version FROM objects WHERE ref = \(ref.number)").scalar(Int.self)
    }

    func lookUpRef(username: String) throws -> ObjectRef? { try ref(forUsername: username) }
    func lookUpRef(behaviour: String) throws -> ObjectRef? { try ref(forBehaviour: behaviour) }

    func setBatchFeed(_ batch: BatchID, feed: String) throws {
        try flush()
        try connection.query("UPDATE batches SET feed = \(feed) WHERE id = \(batch.rawValue)")
    }

    func forgetSeenFeedKeys(batch: BatchID) throws {
        try flush()
        try connection.query("DELETE FROM feed_seen WHERE batch = \(batch.rawValue)")
    }
}
