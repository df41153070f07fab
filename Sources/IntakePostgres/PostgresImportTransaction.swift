import Foundation
import IntakeCore
import IntakeStore
import PostgresNIO

extension PostgresBatchStore {
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
    /// Feed memory read ahead for the next records (see `FeedMemoryAhead`).
    var feedAhead = FeedMemoryAhead()
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
        for object in writes.newObjects where !feedAhead.entries.isEmpty {
            feedAhead.noteWrite(ref: object.ref.number, username: object.encoded.username, behaviour: object.encoded.behaviour)
        }
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
        let row = ObjectRow(values)
        feedAhead.noteWrite(ref: ref.number, username: row.username, behaviour: row.behaviour)
        try connection.query(ObjectSQL.save(ref: ref, row: row, version: version, batch: batch, now: now))
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
            feedAhead.noteWrite(ref: ref.number, username: row.username, behaviour: row.behaviour)
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
        feedAhead.noteWrite(ref: ref.number, username: row.username, behaviour: row.behaviour)
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
