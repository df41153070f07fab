import Foundation
import IntakeCore
import IntakeStore
import PostgresNIO

/// The columns an object version writes, worked out once from its values.
struct ObjectRow {
    var type: String?
    var title: String
    var titles: String
    var behaviour: String?
    var username: String?
    var data: String
    var linkAttributes: [String] = []
    var linkTargets: [Int64] = []

    /// Foundation's `replacingOccurrences` costs microseconds even when there is nothing to replace.
    static func withoutNUL(_ text: String) -> String {
        text.utf8.contains(0) ? String(text.map { $0 == "\u{0}" ? "\u{FFFD}" : $0 }) : text
    }

    init(_ values: [ObjectValue], columns: EncodedObject? = nil) {
        let columns = columns ?? EncodedObject(values)
        // PostgreSQL text cannot hold NUL; titles are for display and search only (the values
        // themselves are stored as JSON, where NUL is escaped).
        title = Self.withoutNUL(columns.title)
        titles = Self.withoutNUL(columns.titles)
        type = columns.type
        behaviour = columns.behaviour
        username = columns.username
        data = String(decoding: columns.data, as: UTF8.self)
        for value in values {
            if case .ref(let target) = value.value {
                linkAttributes.append(value.attribute)
                linkTargets.append(target.number)
            }
        }
    }
}

/// The SQL of object reads and writes, shared by the async paths (rollback, list objects) and the
/// import transaction, which runs the same statements synchronously.
enum ObjectSQL {
    static let current = "SELECT o.version, v.data FROM objects o JOIN object_versions v ON v.ref = o.ref AND v.version = o.version"
    /// A lookup's answer: the ref found, with its current version (read without a round trip of its own).
    static let lookup = "SELECT o.ref, o.version, v.data FROM objects o JOIN object_versions v ON v.ref = o.ref AND v.version = o.version"
    static let records = "SELECT o.*, v.data FROM objects o JOIN object_versions v ON v.ref = o.ref AND v.version = o.version"

    static func current(_ ref: ObjectRef) -> PostgresQuery { "\(unescaped: current) WHERE o.ref = \(ref.number)" }

    /// Sets whether an object is deleted, on the object and on the version just written.
    static func markDeleted(_ ref: ObjectRef, version: Int, deleted: Bool) -> PostgresQuery {
        """
        WITH object AS (UPDATE objects SET deleted = \(deleted) WHERE ref = \(ref.number))
        UPDATE object_versions SET deleted = \(deleted) WHERE ref = \(ref.number) AND version = \(version)
        """
    }

    /// One statement for one version of one object: the object row (inserted, or updated keeping
    /// its creation time), the version, and its links replaced.
    static func save(ref: ObjectRef, row: ObjectRow, version: Int, batch: BatchID?, now: Int64) -> PostgresQuery {
        """
        WITH object AS (
            INSERT INTO objects (ref, type, title, titles, version, created, updated, batch, behaviour, username)
            VALUES (\(ref.number), \(row.type), \(row.title), \(row.titles), \(version), \(now), \(now), \(batch?.rawValue), \(row.behaviour), \(row.username))
            ON CONFLICT (ref) DO UPDATE SET type = excluded.type, title = excluded.title, titles = excluded.titles,
                version = excluded.version, updated = excluded.updated, batch = excluded.batch, behaviour = excluded.behaviour,
                username = excluded.username
        ), version AS (
            INSERT INTO object_versions (ref, version, batch, saved, data) VALUES (\(ref.number), \(version), \(batch?.rawValue), \(now), \(row.data))
        ), old_links AS (
            DELETE FROM object_links WHERE ref = \(ref.number)
        )
        INSERT INTO object_links (ref, attribute, target)
        SELECT \(ref.number), attribute, target FROM unnest(\(row.linkAttributes), \(row.linkTargets)) AS l (attribute, target)
        """
    }

    /// The per-record statements of an import transaction, run as prepared statements (see
    /// `BlockingConnection.execute(prepared:_:)`).
    enum Prepared {
        static let byRef = "\(current) WHERE o.ref = $1::bigint"
        /// An object the engine may load: not deleted.
        static let liveByRef = "\(current) WHERE o.ref = $1::bigint AND NOT o.deleted"
        static let byUsername = "\(lookup) WHERE o.username = $1::text AND NOT o.deleted ORDER BY o.ref LIMIT 1"
        static let byBehaviour = "\(lookup) WHERE o.behaviour = $1::text AND NOT o.deleted ORDER BY o.ref LIMIT 1"

        /// `save` for an object whose current version was read without a lock: the row is updated
        /// only if that is still its version ($5 - 1), and the version and links are written only
        /// if it was. The object row's lock is taken by the update and held to the commit, as the
        /// locked read of the slower path does. Answers how many object rows it wrote (0 or 1).
        static let saveIfCurrent = """
            WITH object AS (
                INSERT INTO objects (ref, type, title, titles, version, created, updated, batch, behaviour, username)
                VALUES ($1::bigint, $2::text, $3::text, $4::text, $5::bigint, $6::bigint, $6::bigint, $7::text, $8::text, $9::text)
                ON CONFLICT (ref) DO UPDATE SET type = excluded.type, title = excluded.title, titles = excluded.titles,
                    version = excluded.version, updated = excluded.updated, batch = excluded.batch, behaviour = excluded.behaviour,
                    username = excluded.username
                WHERE objects.version = $5::bigint - 1
                RETURNING ref
            ), version AS (
                INSERT INTO object_versions (ref, version, batch, saved, data) SELECT ref, $5::bigint, $7::text, $6::bigint, $10::text FROM object
            ), old_links AS (
                DELETE FROM object_links WHERE ref = (SELECT ref FROM object)
            ), new_links AS (
                INSERT INTO object_links (ref, attribute, target)
                SELECT o.ref, l.attribute, l.target FROM object o, unnest($11::text[], $12::bigint[]) AS l (attribute, target)
            )
            SELECT count(*) FROM object
            """

        static func saveIfCurrentBinds(ref: ObjectRef, row: ObjectRow, version: Int, batch: BatchID?, now: Int64) -> [PostgresData] {
            [
                PostgresData(int64: ref.number), text(row.type), PostgresData(string: row.title), PostgresData(string: row.titles),
                PostgresData(int64: Int64(version)), PostgresData(int64: now), text(batch?.rawValue), text(row.behaviour), text(row.username),
                PostgresData(string: row.data),
                PostgresData(array: row.linkAttributes.map { PostgresData(string: $0) }, elementType: .text),
                PostgresData(array: row.linkTargets.map { PostgresData(int64: $0) }, elementType: .int8)
            ]
        }

        static func text(_ value: String?) -> PostgresData { value.map { PostgresData(string: $0) } ?? .null }
    }

    /// Everything of `ChunkWrites` in one statement, so a hand-over costs one round trip: new
    /// objects (version 1) with their versions and links, documents, log lines, results and the run
    /// position, each kind as arrays of columns unnested by one data-modifying CTE. Nullable columns
    /// travel as text arrays with a flag array beside them (postgres-nio has no arrays of optionals).
    static func chunk(_ writes: ChunkWrites, batch: BatchID?, now: Int64) -> PostgresQuery {
        var query = StatementBuilder()
        var parts: [String] = []
        let batchID = query.bind(batch?.rawValue)
        if !writes.newObjects.isEmpty {
            var refs: [Int64] = []
            var types: [String] = [], typeNull: [Bool] = []
            var titles: [String] = [], titleLists: [String] = []
            var behaviours: [String] = [], behaviourNull: [Bool] = []
            var usernames: [String] = [], usernameNull: [Bool] = []
            var data: [String] = []
            var linkRefs: [Int64] = [], linkAttributes: [String] = [], linkTargets: [Int64] = []
            refs.reserveCapacity(writes.newObjects.count)
            data.reserveCapacity(writes.newObjects.count)
            for object in writes.newObjects {
                let row = ObjectRow(object.values, columns: object.encoded)
                refs.append(object.ref.number)
                types.append(row.type ?? "")
                typeNull.append(row.type == nil)
                titles.append(row.title)
                titleLists.append(row.titles)
                behaviours.append(row.behaviour ?? "")
                behaviourNull.append(row.behaviour == nil)
                usernames.append(row.username ?? "")
                usernameNull.append(row.username == nil)
                data.append(row.data)
                for (attribute, target) in zip(row.linkAttributes, row.linkTargets) {
                    linkRefs.append(object.ref.number)
                    linkAttributes.append(attribute)
                    linkTargets.append(target)
                }
            }
            let time = query.bind(now)
            let refList = query.bind(refs)
            parts.append(
                """
                new_objects AS (
                    INSERT INTO objects (ref, type, title, titles, version, created, updated, batch, behaviour, username)
                    SELECT ref, CASE WHEN type_null THEN NULL ELSE type END, title, titles, 1, \(time), \(time), \(batchID),
                        CASE WHEN behaviour_null THEN NULL ELSE behaviour END, CASE WHEN username_null THEN NULL ELSE username END
                    FROM unnest(\(refList), \(query.bind(types)), \(query.bind(typeNull)), \(query.bind(titles)), \(query.bind(titleLists)),
                                \(query.bind(behaviours)), \(query.bind(behaviourNull)), \(query.bind(usernames)), \(query.bind(usernameNull)))
                        AS o (ref, type, type_null, title, titles, behaviour, behaviour_null, username, username_null)
                )
                """)
            parts.append(
                """
                new_versions AS (
                    INSERT INTO object_versions (ref, version, batch, saved, data)
                    SELECT ref, 1, \(batchID), \(time), data FROM unnest(\(refList), \(query.bind(data))) AS v (ref, data)
                )
                """)
            if !linkRefs.isEmpty {
                parts.append(
                    """
                    new_links AS (
                        INSERT INTO object_links (ref, attribute, target)
                        SELECT * FROM unnest(\(query.bind(linkRefs)), \(query.bind(linkAttributes)), \(query.bind(linkTargets)))
                    )
                    """)
            }
        }
        if !writes.documents.isEmpty {
            let documents = writes.documents
            parts.append(
                """
                new_documents AS (
                    INSERT INTO documents (model, destination, batch, record, data)
                    SELECT model, destination, \(batchID), record, data
                    FROM unnest(\(query.bind(documents.map(\.model))), \(query.bind(documents.map(\.destination))),
                                \(query.bind(documents.map(\.record))), \(query.bind(documents.map { JSONValue.object($0.values).compactJSON })))
                        WITH ORDINALITY AS d (model, destination, record, data, position)
                    ORDER BY position
                )
                """)
        }
        if batch != nil && !writes.logLines.isEmpty {
            parts.append(
                """
                new_log AS (
                    INSERT INTO batch_log (batch, seq, line)
                    SELECT \(batchID), \(query.bind(writes.logStart)) + ordinality::integer - 1, line
                    FROM unnest(\(query.bind(writes.logLines))) WITH ORDINALITY AS l (line, ordinality)
                    ON CONFLICT (batch, seq) DO UPDATE SET line = excluded.line
                )
                """)
        }
        if batch != nil && !writes.resultLines.isEmpty {
            parts.append(
                """
                new_results AS (
                    INSERT INTO batch_results (batch, seq, lines)
                    VALUES (\(batchID), \(query.bind(writes.resultStart)), \(query.bind(writes.resultLines.joined(separator: "\n"))))
                    ON CONFLICT (batch, seq) DO UPDATE SET lines = excluded.lines
                )
                """)
        }
        if batch != nil, let progress = writes.progress {
            parts.append(
                "run_position AS (UPDATE batches SET progress = \(query.bind(PostgresBatchStore.encode(progress))) WHERE id = \(batchID))")
        }
        return query.query("WITH " + parts.joined(separator: ",\n") + "\nSELECT 1")
    }

    static func record(_ row: PostgresRow) throws -> ObjectRecord {
        let c = row.columns
        return ObjectRecord(
            ref: ObjectRef(try c.value("ref", as: Int64.self)), type: try c.value("type"), title: try c.value("title"), version: try c.value("version"),
            created: try c.date("created"), updated: try c.date("updated"), values: ObjectValueStorage.decode(try c.value("data")),
            deleted: try c.value("deleted", as: Bool.self))
    }
}

extension PostgresBatchStore {
    package func object(_ ref: ObjectRef) async throws -> ObjectRecord? {
        try await database.query("\(unescaped: ObjectSQL.records) WHERE o.ref = \(ref.number)").rows.first.map(ObjectSQL.record)
    }

    /// A page in ref order, read by key (the last ref of the previous page), never by offset.
    /// With types, each type's next refs are read from the (type, ref) index in order, and the page is
    /// the first of those: one filter over all the types made PostgreSQL collect every matching
    /// object and sort them (710 ms a page at 2M objects, against 1.4 ms this way).
    package func objects(types: Set<String>?, title: String?, after: ObjectRef?, limit: Int) async throws -> [ObjectRecord] {
        let page = Self.objectsPage(types: types, title: title, after: after, limit: limit)
        guard types != nil else { return try await database.query(page).rows.map(ObjectSQL.record) }
        return try await database.transaction { connection in
            try await connection.query(Self.orderedIndexReads)
            return try await connection.query(page).rows.map(ObjectSQL.record)
        }
    }

    /// Each type's refs are read from the (type, deleted, ref) index in ref order. Before a table's
    /// first ANALYZE (just after a large import) PostgreSQL guesses so few matches that it collects
    /// them all with a bitmap and sorts them: 7 421 buffers for a page of 100 in ObjectPagingTests,
    /// against 825 read in order. Turned off for the page's transaction only.
    static let orderedIndexReads: PostgresQuery = "SET LOCAL enable_bitmapscan = off"

    static func objectsPage(types: Set<String>?, title: String?, after: ObjectRef?, limit: Int) -> PostgresQuery {
        let key = title.map(ObjectValueStorage.titleSearchKey)
        let start = after?.number ?? 0
        guard let types else {
            return """
                \(unescaped: ObjectSQL.records) WHERE o.ref > \(start) AND NOT o.deleted AND (\(key)::text IS NULL OR strpos(o.titles, \(key)) > 0)
                ORDER BY o.ref LIMIT \(limit)
                """
        }
        return """
            \(unescaped: ObjectSQL.records) WHERE o.ref IN (
                SELECT page.ref FROM unnest(\(Array(types).sorted())::text[]) AS wanted (code) CROSS JOIN LATERAL (
                    SELECT s.ref FROM objects s
                    WHERE s.type = wanted.code AND s.deleted = false AND s.ref > \(start) AND (\(key)::text IS NULL OR strpos(s.titles, \(key)) > 0)
                    ORDER BY s.ref LIMIT \(limit)
                ) page
                ORDER BY page.ref LIMIT \(limit))
            ORDER BY o.ref
            """
    }

    /// The shared buffers (blocks of 8 KiB) PostgreSQL touches to answer one page of objects: what
    /// a page costs, without timing it (a test holds type-filtered paging to a few dozen).
    package func buffersForObjectsPage(types: Set<String>?, after: ObjectRef?, limit: Int) async throws -> Int {
        let page = Self.objectsPage(types: types, title: nil, after: after, limit: limit)
        let plan = try await database.transaction { connection in
            try await connection.query(Self.orderedIndexReads)
            return
                try await connection.query(PostgresQuery(unsafeSQL: "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + page.sql, binds: page.binds))
                .scalar(String.self) ?? ""
        }
        guard let top = try? JSONParser.parse(plan).arrayValue?.first?["Plan"] else { return .max }
        func count(_ key: String) -> Int {
            if case .number(let n)? = top[key] { return Int(n) }
            return 0
        }
        return count("Shared Hit Blocks") + count("Shared Read Blocks")
    }

    /// Scans `object_versions` (as rollback does): an index on the batch would cost every import a
    /// write per version for the sake of an admin's page.
    package func objects(writtenBy batch: BatchID, after: ObjectRef?, limit: Int) async throws -> [ObjectRecord] {
        try await database.query(
            """
            \(unescaped: ObjectSQL.records)
            WHERE o.ref > \(after?.number ?? 0) AND o.ref IN (SELECT ref FROM object_versions WHERE batch = \(batch.rawValue)) ORDER BY o.ref LIMIT \(limit)
            """
        ).rows.map(ObjectSQL.record)
    }

    package func history(of ref: ObjectRef) async throws -> [ObjectVersionRecord] {
        try await database.query("SELECT version, batch, saved, data, deleted FROM object_versions WHERE ref = \(ref.number) ORDER BY version").rows.map {
            row in
            let (version, batch, saved, data, deleted) = try row.decode((Int, String?, Int64, String, Bool).self)
            return ObjectVersionRecord(
                version: version, batch: batch, saved: Date(timeIntervalSince1970: TimeInterval(saved)), values: ObjectValueStorage.decode(data),
                deleted: deleted)
        }
    }

    package func documents(model: String, destination: String, batch: BatchID?) async throws -> [DictionaryDocument] {
        try await database.query(
            """
            SELECT batch, record, data FROM documents
            WHERE model = \(model) AND destination = \(destination) AND (\(batch?.rawValue)::text IS NULL OR batch = \(batch?.rawValue))
            ORDER BY id
            """
        ).rows.map { row in
            let (batch, record, data) = try row.decode((String?, String, String).self)
            return DictionaryDocument(batch: batch, record: record, values: (try? JSONParser.parse(data)) ?? .null)
        }
    }

    package func ensureListObjects(_ objects: [ListObjectDefinition], now: Date) async throws {
        try await database.transaction { connection in
            for object in objects {
                let exists = try await connection.query(
                    "SELECT EXISTS (SELECT 1 FROM objects WHERE behaviour = \(object.behaviour))"
                ).scalar(Bool.self)
                if exists == true { continue }
                guard let ref = try await connection.query("UPDATE counters SET value = value + 1 WHERE name = 'ref' RETURNING value").scalar(Int64.self)
                else { throw StoreDamaged("the ref counter is missing") }
                try await connection.query(ObjectSQL.save(ref: ObjectRef(ref), row: ObjectRow(object.values), version: 1, batch: nil, now: seconds(now)))
            }
        }
    }

    /// Every ref a batch wrote a version of, with its history of (version, batch), after locking
    /// the batch row (`FOR UPDATE` in `lockedState`), so a rollback and its plan agree.
    /// What each version holds is compared by a digest of its values and its deleted flag (see
    /// `RollbackStep`), not by the values themselves.
    private static func versionHistories(_ connection: AsyncConnection, _ id: BatchID) async throws -> [(
        ref: Int64, history: [(version: Int, batch: String?, state: String)]
    )] {
        let rows = try await connection.query(
            """
            SELECT ref, version, batch, md5(data) || CASE WHEN deleted THEN ' deleted' ELSE '' END FROM object_versions
            WHERE ref IN (SELECT DISTINCT ref FROM object_versions WHERE batch = \(id.rawValue)) ORDER BY ref, version
            """
        ).rows
        var result: [(ref: Int64, history: [(version: Int, batch: String?, state: String)])] = []
        for row in rows {
            let (ref, version, batch, state) = try row.decode((Int64, Int, String?, String).self)
            if result.last?.ref != ref { result.append((ref, [])) }
            result[result.count - 1].history.append((version, batch, state))
        }
        return result
    }

    package func rollbackPlan(_ id: BatchID) async throws -> [(ref: ObjectRef, step: RollbackStep)] {
        try await database.transaction { connection in
            guard try await Self.lockedState(connection, id) == BatchState.complete.rawValue else { throw StoreError.wrongState(id, expected: .complete) }
            return try await Self.versionHistories(connection, id).map { entry in
                (ObjectRef(entry.ref), RollbackStep.plan(versions: entry.history, rollingBack: id.rawValue))
            }
        }
    }

    package func rollback(_ id: BatchID, by: String, now: Date) async throws -> RollbackOutcome {
        try await database.transaction { connection in
            guard try await Self.lockedState(connection, id) == BatchState.complete.rawValue else { throw StoreError.wrongState(id, expected: .complete) }
            // Restored versions are labelled with the rollback, so history shows what happened.
            let restorer = BatchID(rawValue: RollbackStep.restorerLabel(rollingBack: id.rawValue))
            var outcome = RollbackOutcome()
            for entry in try await Self.versionHistories(connection, id) {
                let ref = ObjectRef(entry.ref)
                switch RollbackStep.plan(versions: entry.history, rollingBack: id.rawValue) {
                case .conflict:
                    outcome.conflicts.append(ref)
                case .delete:
                    // A deleted version, not a removed row: the object's history shows the rollback.
                    outcome.deleted += 1
                    guard
                        let current = try await connection.query(
                            "SELECT o.version, v.data FROM objects o JOIN object_versions v ON v.ref = o.ref AND v.version = o.version WHERE o.ref = \(entry.ref) AND NOT o.deleted"
                        ).rows.first
                    else { continue }
                    let (currentVersion, currentData) = try current.decode((Int, String).self)
                    let row = ObjectRow(ObjectValueStorage.decode(currentData))
                    try await connection.query(ObjectSQL.save(ref: ref, row: row, version: currentVersion + 1, batch: restorer, now: seconds(now)))
                    try await connection.query(ObjectSQL.markDeleted(ref, version: currentVersion + 1, deleted: true))
                case .restore(let version):
                    outcome.restored += 1
                    guard
                        let restored = try await connection.query(
                            "SELECT data, deleted FROM object_versions WHERE ref = \(entry.ref) AND version = \(version)"
                        ).rows.first,
                        let current = try await connection.query(
                            "SELECT o.version, v.data, o.deleted FROM objects o JOIN object_versions v ON v.ref = o.ref AND v.version = o.version WHERE o.ref = \(entry.ref)"
                        ).rows.first
                    else { continue }
                    let (data, wasDeleted) = try restored.decode((String, Bool).self)
                    let (currentVersion, currentData, isDeleted) = try current.decode((Int, String, Bool).self)
                    let row = ObjectRow(ObjectValueStorage.decode(data))
                    if row.data == currentData && wasDeleted == isDeleted { continue }
                    try await connection.query(ObjectSQL.save(ref: ref, row: row, version: currentVersion + 1, batch: restorer, now: seconds(now)))
                    if wasDeleted || isDeleted {
                        try await connection.query(ObjectSQL.markDeleted(ref, version: currentVersion + 1, deleted: wasDeleted))
                    }
                }
            }
            try await connection.query("DELETE FROM documents WHERE batch = \(id.rawValue)")
            try await Self.restoreFeedMemory(connection, changedBy: id)
            var progress = try await Self.fetchBatch(connection, id)?.progress ?? RunProgress()
            let lines = outcome.logLines(by: by, now: now)
            try await Self.appendLog(connection, id, lines, startingAt: progress.logLines)
            progress.logLines += lines.count
            try await connection.query(
                "UPDATE batches SET state = \(BatchState.rolledBack.rawValue), progress = \(Self.encode(progress)) WHERE id = \(id.rawValue)")
            try await Self.queueWebhookDeliveries(connection, id, state: WebhookFanOut.rolledBack, now: now)
            try await Self.audit(
                connection, id, "rolled back", by, now)
            return outcome
        }
    }

    /// Runs a chunk in one transaction on a connection of its own (see `withBlockingConnection`).
    ///
    /// The lease is checked first, by an UPDATE that locks the batch's row until the commit: while a
    /// chunk is being written no other node can take the batch over (their claim skips locked rows),
    /// and a node that lost its lease before starting the chunk writes nothing. The lease is renewed
    /// again at the end, from the commit's time.
    package func inImportTransaction<T>(batch: BatchID, now: Date, _ body: (any ImportTransaction) throws -> T) throws -> T {
        let asked = ContinuousClock.now
        return try database.withBlockingConnection { connection in
            try connection.query("BEGIN")
            do {
                // A chunk's commit does not wait for the WAL to reach the disk. Nothing is lost to
                // that but time: if the database server crashes before the flush, the chunk is
                // lost whole with the run position saved in it, and the run does it again (see
                // docs/DECISIONS.md). The run's end (`finish`) is committed synchronously.
                try connection.query("SET LOCAL synchronous_commit = off")
                try fence(connection, batch, now: now)
                let transaction = PostgresImportTransaction(connection: connection, batch: batch, now: now)
                let result = try body(transaction)
                try transaction.finish()
                let elapsed = ContinuousClock.now - asked
                try fence(connection, batch, now: now.addingTimeInterval(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
                try connection.query("COMMIT")
                return result
            } catch {
                _ = try? connection.query("ROLLBACK")
                throw error
            }
        }
    }

    private func fence(_ connection: BlockingConnection, _ id: BatchID, now: Date) throws {
        let renewed = try connection.query(
            "UPDATE batches SET lease_expires = \(leaseExpiry(now)) WHERE id = \(id.rawValue) AND state = 'running' AND lease_owner = \(lease.owner)"
        ).affectedRows
        if renewed == 0, try connection.query("SELECT EXISTS (SELECT 1 FROM batches WHERE id = \(id.rawValue))").scalar(Bool.self) == true {
            throw LeaseLost(batch: id)
        }
    }
}

/// One chunk transaction of an import run on PostgreSQL. Only valid inside the closure that made it.
///
/// New objects, documents, log lines and results arrive together through `apply` and go as one
/// multi-row statement per kind: one round trip for hundreds of records. Reads are answered without
/// sending those first where they can be: a new object not sent yet is read from memory, and a
/// lookup by username or behaviour combines the database's answer with the unsent objects'. A
/// lookup also brings back the object's current version, so the load and the save that follow in
/// an update (or an unchanged re-import) need no round trip of their own.
final class PostgresImportTransaction: ImportTransaction {
    let connection: BlockingConnection
    private let batch: BatchID?
    private let now: Int64
    /// The ref counter as this transaction moves it; written back by `finish()`.
    private var refs = RefCounter()
    private var savepoints = 0
    /// Hand-overs not sent yet: consecutive `apply` calls are merged and sent as one statement
    /// (`ObjectSQL.chunk`) before anything else reaches the database, so reads see them.
    private var pending = ChunkWrites()
    /// The unsent new objects by ref, and the lowest unsent ref by username and by behaviour, for
    /// reads; built when a read first needs them (`indexPending`), not as objects arrive: a run that
    /// only creates never reads.
    private(set) var pendingObjects: [Int64: [ObjectValue]] = [:]
    private(set) var pendingUsernames: [String: Int64] = [:]
    private(set) var pendingBehaviours: [String: Int64] = [:]
    /// How many of `pending.newObjects` are in those indexes.
    private var indexed = 0
    private var known = RememberedVersions<String>()
    /// Feed memory written in this chunk, not sent yet (see `PendingFeedWrites`).
    var pendingFeed = PendingFeedWrites()
    /// Inside a savepoint writes go at once, so rolling the savepoint back undoes them.
    private(set) var inSavepoint = false
    /// About a chunk of records: more rows than this are sent without waiting for the next hand-over.
    static let pendingRows = 400

    init(connection: BlockingConnection, batch: BatchID?, now: Date) {
        self.connection = connection
        self.batch = batch
        self.now = seconds(now)
    }

    /// Sends what `apply` and the feed memory have gathered.
    func flush() throws {
        try flushObjectWrites()
        try sendFeedWrites()
    }

    private func flushObjectWrites() throws {
        guard !pending.isEmpty else { return }
        let writes = pending
        pending = ChunkWrites()
        pendingObjects = [:]
        pendingUsernames = [:]
        pendingBehaviours = [:]
        indexed = 0
        try connection.query(ObjectSQL.chunk(writes, batch: batch, now: now))
    }

    /// Sends the unsent new objects before a read that cannot be answered without them (links,
    /// titles). Log and result lines do not affect reads and stay gathered.
    func flushObjects() throws {
        if !pending.newObjects.isEmpty { try flushObjectWrites() }
    }

    /// Brings the indexes of unsent new objects up to date.
    func indexPending() {
        guard indexed < pending.newObjects.count else { return }
        for object in pending.newObjects[indexed...] {
            let ref = object.ref.number
            pendingObjects[ref] = object.values
            if let username = object.encoded.username {
                pendingUsernames[username] = min(pendingUsernames[username] ?? ref, ref)
            }
            if let behaviour = object.encoded.behaviour {
                pendingBehaviours[behaviour] = min(pendingBehaviours[behaviour] ?? ref, ref)
            }
        }
        indexed = pending.newObjects.count
    }

    func atomically<T>(_ body: () throws -> T) throws -> T {
        try flush()
        inSavepoint = true
        defer { inSavepoint = false }
        savepoints += 1
        let name = "record\(savepoints)"
        try connection.query("SAVEPOINT \(unescaped: name)")
        do {
            let result = try body()
            try connection.query("RELEASE SAVEPOINT \(unescaped: name)")
            return result
        } catch {
            // What was saved inside is undone: forget every version this transaction has seen.
            known.forgetAll()
            try connection.query("ROLLBACK TO SAVEPOINT \(unescaped: name)")
            try connection.query("RELEASE SAVEPOINT \(unescaped: name)")
            throw error
        }
    }

    func appendLog(_ lines: [String], startingAt index: Int) throws {
        var writes = ChunkWrites()
        _ = writes.appendLog(lines, startingAt: index)
        try apply(writes)
    }

    func appendResults(_ lines: [String], startingAt index: Int) throws {
        var writes = ChunkWrites()
        _ = writes.appendResults(lines, startingAt: index)
        try apply(writes)
    }

    func apply(_ writes: ChunkWrites) throws {
        if !merge(writes) {
            try flush()
            pending = writes
        }
        if inSavepoint || pending.count >= Self.pendingRows { try flush() }
    }

    /// Adds `writes` to the pending ones; false (nothing added) when their log or result lines do
    /// not follow on.
    private func merge(_ writes: ChunkWrites) -> Bool {
        var merged = pending
        guard merged.appendLog(writes.logLines, startingAt: writes.logStart) || writes.logLines.isEmpty,
            merged.appendResults(writes.resultLines, startingAt: writes.resultStart) || writes.resultLines.isEmpty
        else { return false }
        merged.newObjects += writes.newObjects
        merged.documents += writes.documents
        merged.progress = writes.progress ?? merged.progress
        pending = merged
        return true
    }

    func isCancelRequested() throws -> Bool {
        guard let batch else { return false }
        return try connection.query("SELECT cancel_requested FROM batches WHERE id = \(batch.rawValue)").scalar(Bool.self) ?? false
    }

    func saveProgress(_ progress: RunProgress) throws {
        var writes = ChunkWrites()
        writes.progress = progress
        try apply(writes)
    }

    func object(_ ref: ObjectRef) throws -> StoredObject? {
        indexPending()
        if let values = pendingObjects[ref.number] { return StoredObject(ref: ref, version: 1, values: values) }
        guard try currentVersion(ref, prepared: ObjectSQL.Prepared.liveByRef) != nil,
            let current = known.values(of: ref, decode: ObjectValueStorage.decode)
        else { return nil }
        return StoredObject(ref: ref, version: current.version, values: current.values)
    }

    func oldestObject(linkingTo target: ObjectRef, through attribute: String, types: Set<String>) throws -> StoredObject? {
        try flushObjects()
        guard !types.isEmpty else { return nil }
        let ref = try connection.query(
            """
            SELECT o.ref FROM object_links l JOIN objects o ON o.ref = l.ref
            WHERE l.target = \(target.number) AND l.attribute = \(attribute) AND NOT o.deleted AND o.type = ANY(\(types.sorted()))
            ORDER BY o.created, o.ref LIMIT 1
            """
        ).scalar(Int64.self)
        return try ref.flatMap { try object(ObjectRef($0)) }
    }

    func ref(forBehaviour code: String) throws -> ObjectRef? {
        indexPending()
        return try lookUp(ObjectSQL.Prepared.byBehaviour, code, unsent: pendingBehaviours[code])
    }

    func ref(forUsername username: String) throws -> ObjectRef? {
        indexPending()
        return try lookUp(ObjectSQL.Prepared.byUsername, username, unsent: pendingUsernames[username])
    }

    /// The lowest ref among the stored object the lookup `sql` finds for `key` (whose version it
    /// remembers) and the unsent one.
    private func lookUp(_ sql: String, _ key: String, unsent: Int64?) throws -> ObjectRef? {
        var found = unsent
        if let cells = try connection.execute(prepared: sql, [PostgresData(string: key)]).first?.preparedCells {
            let (ref, version, data) = (try cells[0].decode(Int64.self), try cells[1].decode(Int.self), try cells[2].decode(String.self))
            known.remember(ObjectRef(ref), version: version, data: data)
            found = min(found ?? ref, ref)
        }
        return found.map(ObjectRef.init)
    }

    func titles(ofTypes types: Set<String>, limit: Int) throws -> [(title: String, ref: ObjectRef)]? {
        try flushObjects()
        guard !types.isEmpty else { return [] }
        let typeList = types.sorted()
        let count = try connection.query("SELECT count(*) FROM objects WHERE type = ANY(\(typeList)) AND NOT deleted").scalar(Int.self) ?? 0
        guard count <= limit else { return nil }
        var result: [(title: String, ref: ObjectRef)] = []
        for row in try connection.query("\(unescaped: ObjectSQL.records) WHERE o.type = ANY(\(typeList)) AND NOT o.deleted ORDER BY o.created, o.ref").rows {
            let c = row.columns
            let ref = ObjectRef(try c.value("ref", as: Int64.self))
            for value in ObjectValueStorage.decode(try c.value("data")) where value.attribute == StandardSchema.titleAttribute {
                result.append((value.value.displayText, ref))
            }
        }
        return result
    }

    /// The stored counter, locked to the commit: two nodes' reservations never overlap.
    private func readCounter() throws -> Int64 {
        guard let value = try connection.query("SELECT value FROM counters WHERE name = 'ref' FOR UPDATE").scalar(Int64.self) else {
            throw StoreDamaged("the ref counter is missing")
        }
        return value
    }

    func allocateRef() throws -> ObjectRef { try refs.next(readCounter) }

    func reserveRefs(count: Int) throws -> ClosedRange<Int64> { try refs.reserve(count, readCounter) }

    func releaseRefs(after used: Int64, reservedThrough end: Int64) throws { try refs.release(after: used, reservedThrough: end, readCounter) }

    func finish() throws {
        try flush()
        if let last = refs.last { try connection.query("UPDATE counters SET value = \(last) WHERE name = 'ref'") }
    }

    func delete(ref: ObjectRef, values: [ObjectValue]) throws -> SaveOutcome {
        try flush()
        let query: PostgresQuery = "SELECT version FROM objects WHERE ref = \(ref.number) AND NOT deleted FOR UPDATE"
        guard let version = try connection.query(query).scalar(Int.self) else { return .unchanged }
        try writeVersion(ref: ref, values: values, version: version + 1, deleted: true)
        return .deleted
    }

    /// Writes version `version` of a stored object, deleted or not as told (a leaver's delete).
    private func writeVersion(ref: ObjectRef, values: [ObjectValue], version: Int, deleted: Bool) throws {
        try connection.query(ObjectSQL.save(ref: ref, row: ObjectRow(values), version: version, batch: batch, now: now))
        try connection.query(ObjectSQL.markDeleted(ref, version: version, deleted: deleted))
        known.forget(ref)
    }

    func plannedOutcome(ref: ObjectRef, values: [ObjectValue]) throws -> SaveOutcome {
        indexPending()
        let row = ObjectRow(values)
        if let unsent = pendingObjects[ref.number] { return ObjectRow(unsent).data == row.data ? .unchanged : .updated }
        if known.isUnchanged(ref, by: values) { return .unchanged }
        guard let seen = try currentVersion(ref) else { return .created }
        return seen.data == row.data ? .unchanged : .updated
    }

    func save(ref: ObjectRef, values: [ObjectValue], isNew: Bool) throws -> SaveOutcome {
        // A new object needs no answer: it waits with the other unsent writes (the chunk statement).
        if isNew {
            var writes = ChunkWrites()
            writes.newObjects = [ChunkWrites.NewObject(ref: ref, values: values)]
            try apply(writes)
            return .created
        }
        // An unsent new object being changed: send it, so this version follows it.
        indexPending()
        if pendingObjects[ref.number] != nil { try flush() }
        if known.isUnchanged(ref, by: values) { return .unchanged }
        let row = ObjectRow(values)
        var version = 1
        if let seen = try currentVersion(ref) {
            if seen.data == row.data { return .unchanged }
            version = seen.number + 1
            let saved = try connection.execute(
                prepared: ObjectSQL.Prepared.saveIfCurrent,
                ObjectSQL.Prepared.saveIfCurrentBinds(ref: ref, row: row, version: version, batch: batch, now: now)
            ).first?.preparedCells[0].decode(Int64.self)
            if saved == 1 {
                known.remember(ref, version: version, data: row.data, values: values)
                return .updated
            }
            // Another writer saved the object since it was read: read it again under its lock.
            version = 1
            if let current = try lockedCurrentVersion(ref) {
                let (currentVersion, data) = try current.decode((Int, String).self)
                if data == row.data {
                    known.remember(ref, version: currentVersion, data: data)
                    return .unchanged
                }
                version = currentVersion + 1
            }
        }
        try connection.query(ObjectSQL.save(ref: ref, row: row, version: version, batch: batch, now: now))
        known.remember(ref, version: version, data: row.data, values: values)
        return version == 1 ? .created : .updated
    }

    /// The object's current version and values, its row locked to the commit: a chunk of another
    /// batch (another node) saving the same object waits, then reads this version, rather than both
    /// writing the same next version. When the lock had to wait for such a chunk, the join is
    /// re-checked against the object's new version but not against that version's row, which this
    /// statement cannot see, so nothing comes back: a second statement, with a new snapshot, reads
    /// it (and the lock is then free, or held by this transaction).
    private func lockedCurrentVersion(_ ref: ObjectRef) throws -> PostgresRow? {
        let query: PostgresQuery = "\(unescaped: ObjectSQL.current) WHERE o.ref = \(ref.number) FOR UPDATE OF o"
        if let row = try connection.query(query).rows.first { return row }
        return try connection.query(query).rows.first
    }

    /// The object's current version and values without a lock, as this transaction last saw them:
    /// enough to find a save unchanged (the nightly feed's usual case), which then writes nothing,
    /// not even a row lock. A version seen earlier in the chunk is as good as one read now: the read
    /// takes no lock either way, and a change is checked again under the lock.
    /// `prepared` is `liveByRef` for a read on the engine's behalf (a deleted object is never
    /// remembered: `writeVersion` forgets it).
    private func currentVersion(
        _ ref: ObjectRef, prepared: String = ObjectSQL.Prepared.byRef
    ) throws -> RememberedVersions<String>.Version? {
        if let seen = known[ref] { return seen }
        guard let cells = try connection.execute(prepared: prepared, [PostgresData(int64: ref.number)]).first?.preparedCells else {
            return nil
        }
        let (version, data) = (try cells[0].decode(Int.self), try cells[1].decode(String.self))
        known.remember(ref, version: version, data: data)
        return known[ref]
    }

    func appendDocument(model: String, destination: String, record: String, values: JSONObject) throws {
        var writes = ChunkWrites()
        writes.documents = [ChunkWrites.Document(model: model, destination: destination, record: record, values: values)]
        try apply(writes)
    }
}

/// SQL text with `$n` placeholders and their values, for statements whose shape depends on the data
/// (which parts of a chunk are present).
struct StatementBuilder {
    private var bindings = PostgresBindings()

    /// Binds a value and returns its placeholder.
    mutating func bind<Value: PostgresDynamicTypeEncodable>(_ value: Value) -> String {
        bindings.append(value)
        return "$\(bindings.count)"
    }

    mutating func bind<Value: PostgresDynamicTypeEncodable>(_ value: Value?) -> String {
        bindings.append(value)
        return "$\(bindings.count)"
    }

    func query(_ sql: String) -> PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: bindings) }
}
