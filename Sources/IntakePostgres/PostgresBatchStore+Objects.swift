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

    init(_ values: [ObjectValue]) {
        let (title, titles) = ObjectValueStorage.titleColumns(values)
        // PostgreSQL text cannot hold NUL; titles are for display and search only (the values
        // themselves are stored as JSON, where NUL is escaped).
        self.title = title.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}")
        self.titles = titles.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}")
        type = ObjectValueStorage.type(values)
        behaviour = ObjectValueStorage.firstText(values, StandardSchema.behaviourAttribute)
        username = ObjectValueStorage.firstText(values, StandardSchema.usernameAttribute)
        data = String(decoding: ObjectValueStorage.encodedBytes(values), as: UTF8.self)
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
    static let records = "SELECT o.*, v.data FROM objects o JOIN object_versions v ON v.ref = o.ref AND v.version = o.version"

    static func current(_ ref: ObjectRef) -> PostgresQuery { "\(unescaped: current) WHERE o.ref = \(ref.number)" }

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

    /// Many new objects (version 1) in one statement: arrays of columns, unnested. Nullable columns
    /// travel as text arrays with a flag array beside them (postgres-nio has no arrays of optionals).
    static func insertNew(_ objects: [ChunkWrites.NewObject], batch: BatchID?, now: Int64) -> PostgresQuery {
        var refs: [Int64] = []
        var types: [String] = [], typeNull: [Bool] = []
        var titles: [String] = [], titleLists: [String] = []
        var behaviours: [String] = [], behaviourNull: [Bool] = []
        var usernames: [String] = [], usernameNull: [Bool] = []
        var data: [String] = []
        var linkRefs: [Int64] = [], linkAttributes: [String] = [], linkTargets: [Int64] = []
        refs.reserveCapacity(objects.count)
        data.reserveCapacity(objects.count)
        for object in objects {
            let row = ObjectRow(object.values)
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
        return """
            WITH object AS (
                INSERT INTO objects (ref, type, title, titles, version, created, updated, batch, behaviour, username)
                SELECT ref, CASE WHEN type_null THEN NULL ELSE type END, title, titles, 1, \(now), \(now), \(batch?.rawValue),
                    CASE WHEN behaviour_null THEN NULL ELSE behaviour END, CASE WHEN username_null THEN NULL ELSE username END
                FROM unnest(\(refs), \(types), \(typeNull), \(titles), \(titleLists), \(behaviours), \(behaviourNull), \(usernames), \(usernameNull))
                    AS o (ref, type, type_null, title, titles, behaviour, behaviour_null, username, username_null)
            ), version AS (
                INSERT INTO object_versions (ref, version, batch, saved, data)
                SELECT ref, 1, \(batch?.rawValue), \(now), data FROM unnest(\(refs), \(data)) AS v (ref, data)
            )
            INSERT INTO object_links (ref, attribute, target)
            SELECT ref, attribute, target FROM unnest(\(linkRefs), \(linkAttributes), \(linkTargets)) AS l (ref, attribute, target)
            """
    }

    static func insertDocuments(_ documents: [ChunkWrites.Document], batch: BatchID?) -> PostgresQuery {
        """
        INSERT INTO documents (model, destination, batch, record, data)
        SELECT model, destination, \(batch?.rawValue), record, data
        FROM unnest(\(documents.map(\.model)), \(documents.map(\.destination)), \(documents.map(\.record)), \(documents.map { JSONValue.object($0.values).compactJSON }))
            WITH ORDINALITY AS d (model, destination, record, data, position)
        ORDER BY position
        """
    }

    static func record(_ row: PostgresRow) throws -> ObjectRecord {
        let c = row.columns
        return ObjectRecord(
            ref: ObjectRef(try c.value("ref", as: Int64.self)), type: try c.value("type"), title: try c.value("title"), version: try c.value("version"),
            created: try c.date("created"), updated: try c.date("updated"), values: ObjectValueStorage.decode(try c.value("data")))
    }
}

extension PostgresBatchStore {
    package func object(_ ref: ObjectRef) async throws -> ObjectRecord? {
        try await database.query("\(unescaped: ObjectSQL.records) WHERE o.ref = \(ref.number)").rows.first.map(ObjectSQL.record)
    }

    package func objects(types: Set<String>?, title: String?, after: ObjectRef?, limit: Int) async throws -> [ObjectRecord] {
        let typeList = types.map { Array($0).sorted() }
        let key = title.map(ObjectValueStorage.titleSearchKey)
        return try await database.query(
            """
            \(unescaped: ObjectSQL.records) WHERE o.ref > \(after?.number ?? 0)
                AND (\(typeList == nil) OR o.type = ANY(\(typeList ?? [])))
                AND (\(key)::text IS NULL OR strpos(o.titles, \(key)) > 0)
            ORDER BY o.ref LIMIT \(limit)
            """
        ).rows.map(ObjectSQL.record)
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
        try await database.query("SELECT version, batch, saved, data FROM object_versions WHERE ref = \(ref.number) ORDER BY version").rows.map { row in
            let (version, batch, saved, data) = try row.decode((Int, String?, Int64, String).self)
            return ObjectVersionRecord(
                version: version, batch: batch, saved: Date(timeIntervalSince1970: TimeInterval(saved)), values: ObjectValueStorage.decode(data))
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
                else { throw StoreUnavailable(reason: "the ref counter is missing") }
                try await connection.query(ObjectSQL.save(ref: ObjectRef(ref), row: ObjectRow(object.values), version: 1, batch: nil, now: seconds(now)))
            }
        }
    }

    /// Every ref a batch wrote a version of, with its history of (version, batch), after locking
    /// the batch row (`FOR UPDATE` in `lockedState`), so a rollback and its plan agree.
    private static func versionHistories(_ connection: AsyncConnection, _ id: BatchID) async throws -> [(
        ref: Int64, history: [(version: Int, batch: String?)]
    )] {
        let rows = try await connection.query(
            """
            SELECT ref, version, batch FROM object_versions
            WHERE ref IN (SELECT DISTINCT ref FROM object_versions WHERE batch = \(id.rawValue)) ORDER BY ref, version
            """
        ).rows
        var result: [(ref: Int64, history: [(version: Int, batch: String?)])] = []
        for row in rows {
            let (ref, version, batch) = try row.decode((Int64, Int, String?).self)
            if result.last?.ref != ref { result.append((ref, [])) }
            result[result.count - 1].history.append((version, batch))
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

    package func rollback(_ id: BatchID, now: Date) async throws -> [ObjectRef] {
        try await database.transaction { connection in
            guard try await Self.lockedState(connection, id) == BatchState.complete.rawValue else { throw StoreError.wrongState(id, expected: .complete) }
            // Restored versions are labelled with the rollback, so history shows what happened.
            let restorer = BatchID(rawValue: "rollback of \(id.rawValue)")
            var conflicts: [ObjectRef] = []
            for entry in try await Self.versionHistories(connection, id) {
                let ref = ObjectRef(entry.ref)
                switch RollbackStep.plan(versions: entry.history, rollingBack: id.rawValue) {
                case .conflict:
                    conflicts.append(ref)
                case .delete:
                    try await connection.query("DELETE FROM objects WHERE ref = \(entry.ref)")
                    try await connection.query("DELETE FROM object_links WHERE ref = \(entry.ref)")
                case .restore(let version):
                    guard
                        let data = try await connection.query(
                            "SELECT data FROM object_versions WHERE ref = \(entry.ref) AND version = \(version)"
                        ).scalar(String.self),
                        let current = try await connection.query(ObjectSQL.current(ref)).rows.first
                    else { continue }
                    let (currentVersion, currentData) = try current.decode((Int, String).self)
                    let row = ObjectRow(ObjectValueStorage.decode(data))
                    if row.data == currentData { continue }
                    try await connection.query(ObjectSQL.save(ref: ref, row: row, version: currentVersion + 1, batch: restorer, now: seconds(now)))
                }
            }
            try await connection.query("DELETE FROM documents WHERE batch = \(id.rawValue)")
            try await Self.audit(connection, id, "rolled back", conflicts.map(\.text).joined(separator: " "), now)
            return conflicts
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
/// multi-row statement per kind: one round trip for hundreds of records. Loads and saves of existing
/// objects are a round trip each (the engine waits for their answers).
final class PostgresImportTransaction: ImportTransaction {
    private let connection: BlockingConnection
    private let batch: BatchID?
    private let now: Int64
    /// The ref counter as this transaction moved it; written back by `finish()`. The counter's row is
    /// locked from the first read to the commit, so two nodes' reservations never overlap.
    private var lastRef: Int64?
    private var savepoints = 0

    init(connection: BlockingConnection, batch: BatchID?, now: Date) {
        self.connection = connection
        self.batch = batch
        self.now = seconds(now)
    }

    func atomically<T>(_ body: () throws -> T) throws -> T {
        savepoints += 1
        let name = "record\(savepoints)"
        try connection.query("SAVEPOINT \(unescaped: name)")
        do {
            let result = try body()
            try connection.query("RELEASE SAVEPOINT \(unescaped: name)")
            return result
        } catch {
            try connection.query("ROLLBACK TO SAVEPOINT \(unescaped: name)")
            try connection.query("RELEASE SAVEPOINT \(unescaped: name)")
            throw error
        }
    }

    func appendLog(_ lines: [String], startingAt index: Int) throws {
        guard let batch, !lines.isEmpty else { return }
        try connection.query(PostgresBatchStore.logInsert(batch, lines, startingAt: index))
    }

    func appendResults(_ lines: [String], startingAt index: Int) throws {
        guard let batch, !lines.isEmpty else { return }
        try connection.query(PostgresBatchStore.resultInsert(batch, lines, startingAt: index))
    }

    func apply(_ writes: ChunkWrites) throws {
        if !writes.newObjects.isEmpty { try connection.query(ObjectSQL.insertNew(writes.newObjects, batch: batch, now: now)) }
        if !writes.documents.isEmpty { try connection.query(ObjectSQL.insertDocuments(writes.documents, batch: batch)) }
        try appendLog(writes.logLines, startingAt: writes.logStart)
        try appendResults(writes.resultLines, startingAt: writes.resultStart)
        if let progress = writes.progress { try saveProgress(progress) }
    }

    func isCancelRequested() throws -> Bool {
        guard let batch else { return false }
        return try connection.query("SELECT cancel_requested FROM batches WHERE id = \(batch.rawValue)").scalar(Bool.self) ?? false
    }

    func saveProgress(_ progress: RunProgress) throws {
        guard let batch else { return }
        try connection.query("UPDATE batches SET progress = \(PostgresBatchStore.encode(progress)) WHERE id = \(batch.rawValue)")
    }

    func object(_ ref: ObjectRef) throws -> StoredObject? {
        guard let row = try connection.query(ObjectSQL.current(ref)).rows.first else { return nil }
        let (version, data) = try row.decode((Int, String).self)
        return StoredObject(ref: ref, version: version, values: ObjectValueStorage.decode(data))
    }

    func oldestObject(linkingTo target: ObjectRef, through attribute: String, types: Set<String>) throws -> StoredObject? {
        guard !types.isEmpty else { return nil }
        let ref = try connection.query(
            """
            SELECT o.ref FROM object_links l JOIN objects o ON o.ref = l.ref
            WHERE l.target = \(target.number) AND l.attribute = \(attribute) AND o.type = ANY(\(types.sorted()))
            ORDER BY o.created, o.ref LIMIT 1
            """
        ).scalar(Int64.self)
        return try ref.flatMap { try object(ObjectRef($0)) }
    }

    func ref(forBehaviour code: String) throws -> ObjectRef? {
        try connection.query("SELECT ref FROM objects WHERE behaviour = \(code) ORDER BY ref LIMIT 1").scalar(Int64.self).map(ObjectRef.init)
    }

    func ref(forUsername username: String) throws -> ObjectRef? {
        try connection.query("SELECT ref FROM objects WHERE username = \(username) ORDER BY ref LIMIT 1").scalar(Int64.self).map(ObjectRef.init)
    }

    func titles(ofTypes types: Set<String>, limit: Int) throws -> [(title: String, ref: ObjectRef)]? {
        guard !types.isEmpty else { return [] }
        let typeList = types.sorted()
        let count = try connection.query("SELECT count(*) FROM objects WHERE type = ANY(\(typeList))").scalar(Int.self) ?? 0
        guard count <= limit else { return nil }
        var result: [(title: String, ref: ObjectRef)] = []
        for row in try connection.query("\(unescaped: ObjectSQL.records) WHERE o.type = ANY(\(typeList)) ORDER BY o.created, o.ref").rows {
            let c = row.columns
            let ref = ObjectRef(try c.value("ref", as: Int64.self))
            for value in ObjectValueStorage.decode(try c.value("data")) where value.attribute == StandardSchema.titleAttribute {
                result.append((value.value.displayText, ref))
            }
        }
        return result
    }

    private func currentCounter() throws -> Int64 {
        if let lastRef { return lastRef }
        guard let value = try connection.query("SELECT value FROM counters WHERE name = 'ref' FOR UPDATE").scalar(Int64.self) else {
            throw StoreUnavailable(reason: "the ref counter is missing")
        }
        lastRef = value
        return value
    }

    func allocateRef() throws -> ObjectRef {
        lastRef = try currentCounter() + 1
        return ObjectRef(lastRef!)
    }

    func reserveRefs(count: Int) throws -> ClosedRange<Int64> {
        let first = try currentCounter() + 1
        lastRef = first + Int64(count) - 1
        return first...lastRef!
    }

    func releaseRefs(after used: Int64, reservedThrough end: Int64) throws {
        if try currentCounter() == end { lastRef = used }
    }

    func finish() throws {
        if let lastRef { try connection.query("UPDATE counters SET value = \(lastRef) WHERE name = 'ref'") }
    }

    func save(ref: ObjectRef, values: [ObjectValue], isNew: Bool) throws -> SaveOutcome {
        let row = ObjectRow(values)
        var version = 1
        if !isNew, let current = try connection.query(ObjectSQL.current(ref)).rows.first {
            let (currentVersion, data) = try current.decode((Int, String).self)
            if data == row.data { return .unchanged }
            version = currentVersion + 1
        }
        try connection.query(ObjectSQL.save(ref: ref, row: row, version: version, batch: batch, now: now))
        return version == 1 ? .created : .updated
    }

    func appendDocument(model: String, destination: String, record: String, values: JSONObject) throws {
        try connection.query(
            ObjectSQL.insertDocuments([ChunkWrites.Document(model: model, destination: destination, record: record, values: values)], batch: batch))
    }
}
