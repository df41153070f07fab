import Foundation
import IntakeCore
import IntakeStore
import PostgresNIO

/// The columns of `feed_keys` (and of `feed_key_history`, after its `batch`), in order.
private let feedKeyColumns =
    "feed, file, key, digest, control, schema, objects, must_transform, reads, active, first_seen, last_changed, first_batch, last_batch"

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
              AND NOT EXISTS (SELECT 1 FROM feed_seen s WHERE s.batch = \(batch.rawValue) AND s.file = k.file AND s.key = k.key)
            ORDER BY k.file, k.key LIMIT \(limit)
            """
        ).rows.map(Self.feedKeyMemory)
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
            ON CONFLICT (feed, file, key) DO UPDATE SET digest = EXCLUDED.digest, control = EXCLUDED.control, schema = EXCLUDED.schema,
                objects = EXCLUDED.objects, must_transform = EXCLUDED.must_transform, reads = EXCLUDED.reads, active = EXCLUDED.active,
                first_seen = EXCLUDED.first_seen, last_changed = EXCLUDED.last_changed, first_batch = EXCLUDED.first_batch,
                last_batch = EXCLUDED.last_batch
            """)
        try await connection.query("DELETE FROM feed_key_history WHERE batch = \(batch.rawValue)")
    }
}

extension PostgresImportTransaction {
    func feedKey(feed: String, file: String, key: String) throws -> FeedKeyMemory? {
        try flush()
        return try connection.query("SELECT * FROM feed_keys WHERE feed = \(feed) AND file = \(file) AND key = \(key)")
            .rows.first.map(PostgresBatchStore.feedKeyMemory)
    }

    func saveFeedKey(feed: String, _ memory: FeedKeyMemory, batch: BatchID) throws {
        try flush()
        try connection.query(
            """
            INSERT INTO feed_key_history (batch, \(unescaped: feedKeyColumns))
            SELECT \(batch.rawValue), \(unescaped: feedKeyColumns) FROM feed_keys
            WHERE feed = \(feed) AND file = \(memory.file) AND key = \(memory.key) AND last_batch <> \(batch.rawValue)
            ON CONFLICT DO NOTHING
            """)
        try connection.query(
            """
            INSERT INTO feed_keys (\(unescaped: feedKeyColumns)) VALUES (
                \(feed), \(memory.file), \(memory.key), \(memory.recordDigest), \(memory.control), \(memory.schema),
                \(FeedObject.encode(memory.objects)), \(memory.mustTransform), \(RememberedRead.encode(memory.reads)), \(memory.active), \(seconds(memory.firstSeen)),
                \(seconds(memory.lastChanged)), \(memory.firstBatch.rawValue), \(memory.lastBatch.rawValue))
            ON CONFLICT (feed, file, key) DO UPDATE SET digest = EXCLUDED.digest, control = EXCLUDED.control, schema = EXCLUDED.schema,
                objects = EXCLUDED.objects, must_transform = EXCLUDED.must_transform, reads = EXCLUDED.reads, active = EXCLUDED.active,
                first_seen = EXCLUDED.first_seen, last_changed = EXCLUDED.last_changed, first_batch = EXCLUDED.first_batch,
                last_batch = EXCLUDED.last_batch
            """)
    }

    func noteFeedKeySeen(batch: BatchID, file: String, key: String, record: Int) throws -> Int? {
        try flush()
        let inserted = try connection.query(
            """
            INSERT INTO feed_seen (batch, file, key, record) VALUES (\(batch.rawValue), \(file), \(key), \(record))
            ON CONFLICT DO NOTHING
            """
        ).affectedRows
        guard inserted == 0 else { return nil }
        return try connection.query(
            "SELECT record FROM feed_seen WHERE batch = \(batch.rawValue) AND file = \(file) AND key = \(key)"
        ).scalar(Int.self)
    }

    func feedLeavers(feed: String, files: [String], batch: BatchID, after: (file: String, key: String)?, limit: Int) throws
        -> [FeedKeyMemory]
    {
        try flush()
        let (file, key) = (after?.file ?? "", after?.key ?? "")
        // The columns compare byte by byte ("C", see PostgresMigrations): SQLite's order.
        return try connection.query(
            """
            SELECT k.* FROM feed_keys k
            WHERE k.feed = \(feed) AND k.active AND k.file = ANY(\(files))
              AND NOT EXISTS (SELECT 1 FROM feed_seen s WHERE s.batch = \(batch.rawValue) AND s.file = k.file AND s.key = k.key)
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
              AND NOT EXISTS (SELECT 1 FROM feed_seen s WHERE s.batch = \(batch.rawValue) AND s.file = k.file AND s.key = k.key)
            """
        ).scalar(Int.self) ?? 0
    }

    func activeFeedKeyCount(feed: String, files: [String]) throws -> Int {
        try flush()
        return try connection.query("SELECT count(*) FROM feed_keys WHERE feed = \(feed) AND active AND file = ANY(\(files))")
            .scalar(Int.self) ?? 0
    }

    func currentVersion(of ref: ObjectRef) throws -> Int? {
        try flush()
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
