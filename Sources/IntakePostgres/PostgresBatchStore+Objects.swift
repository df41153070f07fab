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
    /// object and sort them (docs/DECISIONS.md, "Measurements behind the code").
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
}
