import Foundation
import GRDB
import IntakeCore
import IntakeStore

extension SQLiteBatchStore {
    package func inImportTransaction<T>(batch: BatchID, now: Date, _ body: (any ImportTransaction) throws -> T) throws -> T {
        let asked = ContinuousClock.now
        do {
            return try importTransaction(batch: batch, now: now, asked: asked, body)
        } catch let error as DatabaseError {
            throw Self.translate(error)
        }
    }

    private func importTransaction<T>(
        batch: BatchID, now: Date, asked: ContinuousClock.Instant, _ body: (any ImportTransaction) throws -> T
    ) throws -> T {
        if checkpointer != nil { writerGaps.pauseIfDue() }
        defer { checkpointer?.committed() }
        return try writer.write { db in
            let transaction = SQLiteImportTransaction(db: db, batch: batch, now: now)
            defer { transaction.endFeedWalk() }
            let result = try body(transaction)
            try transaction.finish()
            // The fence: a process whose lease was taken over commits nothing more of this batch. The
            // lease is renewed from the commit's time: a chunk transaction can last long.
            try self.renewLease(db, batch, now: now.addingTimeInterval(Self.seconds(since: asked)))
            return result
        }
    }
}

/// One write transaction of an import run. Only valid inside the closure that made it.
///
/// A lookup by username or behaviour reads the object's current version with it, and versions read
/// or written are remembered for the rest of the transaction (which holds the write lock, so nothing
/// else changes them): the load and the save's comparison that follow a lookup, as in every record
/// of a nightly re-import, need no query of their own.
final class SQLiteImportTransaction: ImportTransaction {
    let db: Database
    private let batch: BatchID?
    private let now: Int64
    private var refs = RefCounter()
    private var known = RememberedVersions<[UInt8]>()
    /// The object a feed's skip check last found by username or behaviour, or the last one written,
    /// with its version: the feed's next question is most often about that object.
    var versionLookedUp: (ref: Int64, version: Int64)?
    /// See `feedKey(feed:file:key:)`.
    var feedWalk: FeedKeyWalk?
    /// See `noteFeedKeySeen`.
    var seenMarks = PendingSeenMarks()

    init(db: Database, batch: BatchID?, now: Date) {
        self.db = db
        self.batch = batch
        self.now = SQLiteBatchStore.seconds(now)
    }

    /// Each record commits inside a savepoint, so a failure half-way through its saves leaves
    /// nothing of it. The three statements are prepared once per connection and run through the C
    /// API: GRDB's `inSavepoint` costs several microseconds per record.
    func atomically<T>(_ body: () throws -> T) throws -> T {
        try statements.savepoint.run()
        do {
            let result = try body()
            try statements.release.run()
            return result
        } catch {
            // What the record saved is undone: forget every version seen.
            known.forgetAll()
            versionLookedUp = nil
            endFeedWalk()
            try statements.rollbackToSavepoint.run()
            try statements.release.run()
            throw error
        }
    }

    func appendLog(_ lines: [String], startingAt index: Int) throws {
        guard let batch else { return }
        try SQLiteBatchStore.appendLog(db, batch, lines, startingAt: index)
    }

    func appendResults(_ lines: [String], startingAt index: Int) throws {
        guard let batch else { return }
        try SQLiteBatchStore.appendResults(db, batch, lines, startingAt: index)
    }

    /// Row by row: each statement is prepared once per connection and costs no round trip.
    func apply(_ writes: ChunkWrites) throws { try applyRowByRow(writes) }

    func saveNew(_ object: ChunkWrites.NewObject) throws {
        _ = try write(ref: object.ref, values: object.values, columns: object.encoded, currentVersion: nil)
    }

    func isCancelRequested() throws -> Bool {
        guard let batch else { return false }
        return try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT cancel_requested FROM batches WHERE id = ?"),
            arguments: [batch.rawValue]) ?? false
    }

    func saveProgress(_ progress: RunProgress) throws {
        guard let batch else { return }
        try db.execute(
            sql: "UPDATE batches SET progress = ? WHERE id = ?",
            arguments: [SQLiteBatchStore.encode(progress), batch.rawValue])
    }

    func object(_ ref: ObjectRef) throws -> StoredObject? {
        if let seen = known.values(of: ref, decode: ObjectValueStorage.decode(utf8:)) {
            return StoredObject(ref: ref, version: seen.version, values: seen.values)
        }
        let statement = try statements.liveVersion
        statement.bind(1, ref.number)
        guard let row = try statement.first({ row in (version: Int(row.int64(0)), data: row.bytes(1)) }) else { return nil }
        let values = ObjectValueStorage.decode(utf8: row.data)
        known.remember(ref, version: row.version, data: row.data, values: values)
        return StoredObject(ref: ref, version: row.version, values: values)
    }

    func oldestObject(linkingTo target: ObjectRef, through attribute: String, types: Set<String>) throws -> StoredObject? {
        guard !types.isEmpty else { return nil }
        let sql = """
            SELECT o.ref FROM object_links l JOIN objects o ON o.ref = l.ref
            WHERE l.target = ? AND l.attribute = ? AND o.deleted = 0 AND o.type IN (\(types.map { _ in "?" }.joined(separator: ",")))
            ORDER BY o.created, o.ref LIMIT 1
            """
        var arguments: StatementArguments = [target.number, attribute]
        for t in types.sorted() { arguments += [t] }
        guard let ref = try Int64.fetchOne(db, sql: sql, arguments: arguments) else { return nil }
        return try object(ObjectRef(ref))
    }

    func ref(forBehaviour code: String) throws -> ObjectRef? { try lookUp(statements.lookupByBehaviour, code) }

    func ref(forUsername username: String) throws -> ObjectRef? { try lookUp(statements.lookupByUsername, username) }

    /// The ref a lookup finds; its current version is remembered.
    private func lookUp(_ statement: BoundStatement, _ key: String) throws -> ObjectRef? {
        statement.bind(1, key)
        guard let found = try statement.first({ row in (ref: row.int64(0), version: row.int64(1), data: row.bytes(2)) }) else { return nil }
        known.remember(ObjectRef(found.ref), version: Int(found.version), data: found.data)
        return ObjectRef(found.ref)
    }

    func titles(ofTypes types: Set<String>, limit: Int) throws -> [(title: String, ref: ObjectRef)]? {
        guard !types.isEmpty else { return [] }
        let placeholders = types.map { _ in "?" }.joined(separator: ",")
        var arguments: StatementArguments = []
        for t in types.sorted() { arguments += [t] }
        // Counted no further than the limit: the type index does not hold the deleted flag, so each
        // object counted is read.
        let count =
            try Int.fetchOne(
                db, sql: "SELECT count(*) FROM (SELECT 1 FROM objects WHERE type IN (\(placeholders)) AND deleted = 0 LIMIT ?)",
                arguments: arguments + [limit + 1]) ?? 0
        guard count <= limit else { return nil }
        var result: [(title: String, ref: ObjectRef)] = []
        for row in try Row.fetchAll(
            db,
            sql:
                "SELECT o.ref, v.data FROM objects o JOIN object_versions v ON v.ref = o.ref AND v.version = o.version WHERE o.type IN (\(placeholders)) AND o.deleted = 0 ORDER BY o.created, o.ref",
            arguments: arguments)
        {
            let ref = ObjectRef(row[0])
            for value in ObjectValueStorage.decode(row[1]) where value.attribute == StandardSchema.titleAttribute {
                result.append((value.value.displayText, ref))
            }
        }
        return result
    }

    /// Refs are counted in memory (`RefCounter`) and the counter is written once, by `finish()`, in
    /// the same transaction: the write lock makes this safe, and a rolled-back chunk gives its refs back.
    private func readCounter() throws -> Int64 {
        guard let value = try Int64.fetchOne(db, sql: "SELECT value FROM counters WHERE name = 'ref'") else {
            throw DatabaseError(message: "ref counter missing")
        }
        return value
    }

    func allocateRef() throws -> ObjectRef { try refs.next(readCounter) }

    func reserveRefs(count: Int) throws -> ClosedRange<Int64> { try refs.reserve(count, readCounter) }

    func releaseRefs(after used: Int64, reservedThrough end: Int64) throws { try refs.release(after: used, reservedThrough: end, readCounter) }

    func finish() throws {
        try writeSeenMarks()
        if let last = refs.last {
            try db.execute(sql: "UPDATE counters SET value = ? WHERE name = 'ref'", arguments: [last])
        }
    }

    func save(ref: ObjectRef, values: [ObjectValue], isNew: Bool) throws -> SaveOutcome {
        if !isNew && known.isUnchanged(ref, by: values) { return .unchanged }
        let data = ObjectValueStorage.encodedBytes(values)
        let statements = try self.statements
        // A new object cannot be stored yet: its ref was allocated in this run.
        var currentVersion: Int64?
        if !isNew, let seen = known[ref] {
            if seen.data == data { return .unchanged }
            currentVersion = Int64(seen.number)
        } else if !isNew {
            statements.currentVersion.bind(1, ref.number)
            let current = try statements.currentVersion.first { row in
                (version: row.int64(0), unchanged: row.text(1, equals: data))
            }
            if let current {
                if current.unchanged { return .unchanged }
                currentVersion = current.version
            }
        }
        return try write(ref: ref, values: values, columns: EncodedObject(values, data: data), currentVersion: currentVersion)
    }

    func delete(ref: ObjectRef, values: [ObjectValue]) throws -> SaveOutcome {
        guard try Bool.fetchOne(db, sql: "SELECT deleted = 0 FROM objects WHERE ref = ?", arguments: [ref.number]) == true else { return .unchanged }
        try writeVersion(ref: ref, values: values, deleted: true)
        return .deleted
    }

    /// Writes the next version of a stored object whatever it holds, deleted or not as told (a
    /// leaver's delete; a rollback that undoes one). Rare, so plain statements.
    func writeVersion(ref: ObjectRef, values: [ObjectValue], deleted: Bool) throws {
        guard let current = try Int64.fetchOne(db, sql: "SELECT version FROM objects WHERE ref = ?", arguments: [ref.number]) else { return }
        let data = ObjectValueStorage.encodedBytes(values)
        _ = try write(ref: ref, values: values, columns: EncodedObject(values, data: data), currentVersion: current)
        try db.execute(sql: "UPDATE objects SET deleted = ? WHERE ref = ?", arguments: [deleted, ref.number])
        try db.execute(sql: "UPDATE object_versions SET deleted = ? WHERE ref = ? AND version = ?", arguments: [deleted, ref.number, current + 1])
        known.forget(ref)
    }

    func plannedOutcome(ref: ObjectRef, values: [ObjectValue]) throws -> SaveOutcome {
        if known.isUnchanged(ref, by: values) { return .unchanged }
        let data = ObjectValueStorage.encodedBytes(values)
        if let seen = known[ref] { return seen.data == data ? .unchanged : .updated }
        let statements = try self.statements
        statements.currentVersion.bind(1, ref.number)
        guard let unchanged = try statements.currentVersion.first({ row in row.text(1, equals: data) }) else { return .created }
        return unchanged ? .unchanged : .updated
    }

    /// Writes a version of an object: the first (`currentVersion` nil) or the one after it.
    private func write(ref: ObjectRef, values: [ObjectValue], columns: EncodedObject, currentVersion: Int64?) throws -> SaveOutcome {
        let statements = try self.statements
        let version: Int64
        let outcome: SaveOutcome
        let write: BoundStatement
        if let currentVersion {
            version = currentVersion + 1
            write = statements.updateObject
            outcome = .updated
            statements.deleteLinks.bind(1, ref.number)
            try statements.deleteLinks.run()
        } else {
            version = 1
            write = statements.insertObject
            outcome = .created
        }
        // Both statements take the same parameters in the same order.
        write.bind(1, ref.number)
        write.bind(2, columns.type)
        write.bind(3, columns.title)
        write.bind(4, version)
        write.bind(5, now)
        write.bind(6, batch?.rawValue)
        write.bind(7, columns.behaviour)
        write.bind(8, columns.username)
        write.bind(9, columns.titles)
        try write.run()
        let insertVersion = statements.insertVersion
        insertVersion.bind(1, ref.number)
        insertVersion.bind(2, version)
        insertVersion.bind(3, batch?.rawValue)
        insertVersion.bind(4, now)
        insertVersion.bind(5, utf8: columns.data)
        try insertVersion.run()
        for value in values {
            if case .ref(let target) = value.value {
                statements.insertLink.bind(1, ref.number)
                statements.insertLink.bind(2, value.attribute)
                statements.insertLink.bind(3, target.number)
                try statements.insertLink.run()
            }
        }
        // New objects are not remembered (most are never read in the chunk that makes them); a
        // lookup that finds one remembers it then.
        if currentVersion != nil { known.remember(ref, version: Int(version), data: columns.data, values: values) }
        versionLookedUp = (ref.number, version)
        return outcome
    }

    /// The statements of the per-record path, fetched from the connection's cache once per chunk.
    private var statements: RecordStatements {
        get throws {
            if let prepared { return prepared }
            let made = try RecordStatements(db)
            prepared = made
            return made
        }
    }
    private var prepared: RecordStatements?

    /// A feed batch's statements, likewise.
    var feedStatements: FeedStatements {
        get throws {
            if let preparedFeed { return preparedFeed }
            let made = try FeedStatements(db)
            preparedFeed = made
            return made
        }
    }
    private var preparedFeed: FeedStatements?

    func appendDocument(model: String, destination: String, record: String, values: JSONObject) throws {
        try db.cachedStatement(sql: "INSERT INTO documents (model, destination, batch, record, data) VALUES (?, ?, ?, ?, ?)")
            .execute(arguments: [model, destination, batch?.rawValue, record, JSONValue.object(values).compactJSON])
    }
}

private struct RecordStatements {
    let savepoint, release, rollbackToSavepoint: BoundStatement
    let currentVersion, liveVersion, insertObject, updateObject, deleteLinks, insertVersion, insertLink: BoundStatement
    let lookupByUsername, lookupByBehaviour: BoundStatement

    init(_ db: Database) throws {
        savepoint = try BoundStatement(db, "SAVEPOINT record")
        release = try BoundStatement(db, "RELEASE record")
        rollbackToSavepoint = try BoundStatement(db, "ROLLBACK TO record")
        currentVersion = try BoundStatement(
            db, "SELECT o.version, v.data FROM objects o JOIN object_versions v ON v.ref = o.ref AND v.version = o.version WHERE o.ref = ?")
        liveVersion = try BoundStatement(
            db,
            "SELECT o.version, v.data FROM objects o JOIN object_versions v ON v.ref = o.ref AND v.version = o.version WHERE o.ref = ? AND o.deleted = 0"
        )
        insertObject = try BoundStatement(
            db,
            """
            INSERT INTO objects (ref, type, title, version, created, updated, batch, behaviour, username, titles)
            VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?9)
            """)
        updateObject = try BoundStatement(
            db,
            """
            UPDATE objects SET type = ?2, title = ?3, version = ?4, updated = ?5, batch = ?6, behaviour = ?7, username = ?8,
                titles = ?9
            WHERE ref = ?1
            """)
        deleteLinks = try BoundStatement(db, "DELETE FROM object_links WHERE ref = ?")
        insertVersion = try BoundStatement(db, "INSERT INTO object_versions (ref, version, batch, saved, data) VALUES (?, ?, ?, ?, ?)")
        insertLink = try BoundStatement(db, "INSERT INTO object_links (ref, attribute, target) VALUES (?, ?, ?)")
        let current = "SELECT o.ref, o.version, v.data FROM objects o JOIN object_versions v ON v.ref = o.ref AND v.version = o.version"
        lookupByUsername = try BoundStatement(db, "\(current) WHERE o.username = ? AND o.deleted = 0 ORDER BY o.ref LIMIT 1")
        lookupByBehaviour = try BoundStatement(db, "\(current) WHERE o.behaviour = ? AND o.deleted = 0 ORDER BY o.ref LIMIT 1")
    }
}
