import Foundation
import GRDB
import IntakeCore
import IntakeStore

/// The embedded store: one SQLite database in WAL mode.
package final class SQLiteBatchStore: BatchStore {
    let writer: any DatabaseWriter
    /// This store's identity in the job queue.
    package let lease: JobLease
    /// Nil for a database in memory, which has no log to copy.
    let checkpointer: WALCheckpointer?
    /// Gaps in a run's writing for other processes on the data directory.
    let writerGaps = WriterGaps()

    /// Opens (and migrates) the database file at `path`, in WAL mode.
    /// - Parameter busyTimeout: how long a statement waits for another process's write lock before the
    ///   store gives up with `StoreUnavailable` (the API answers 503 rather than hang).
    package convenience init(path: String, lease: JobLease = JobLease(), busyTimeout: TimeInterval = 10) throws {
        var configuration = Configuration()
        configuration.busyMode = LockWait.busyMode(timeout: busyTimeout)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // 32 MiB of page cache: big imports otherwise re-read index pages from the OS on every insert.
            try db.execute(sql: "PRAGMA cache_size = -32768")
            // Checkpoints run off the commit path (`WALCheckpointer`), every 32 MiB of WAL; SQLite's
            // own, inside a commit, only if that falls behind.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(WALCheckpointer.safetyNetPages)")
            // Statement journals (each record's savepoint) and temporary indexes stay in memory:
            // on disk, every page a record touched was first copied to a temporary file.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        try self.init(
            writer: DatabasePool(path: path, configuration: configuration), lease: lease,
            checkpointer: WALCheckpointer(databasePath: path))
    }

    /// An in-memory database, for tests.
    package static func inMemory() throws -> SQLiteBatchStore {
        try SQLiteBatchStore(writer: DatabaseQueue())
    }

    package init(writer: any DatabaseWriter, lease: JobLease = JobLease(), checkpointer: WALCheckpointer? = nil) throws {
        self.writer = writer
        self.lease = lease
        self.checkpointer = checkpointer
        // Checked with a read first: migrating takes the write lock even when there is nothing to
        // do, and a server started beside a long `intake run` would wait for it behind chunk after
        // chunk (SQLite's lock is not fair) and could give up.
        let migrator = SQLiteMigrations.migrator()
        let (applied, writtenBy) = try writer.read { db in
            let applied = try migrator.appliedIdentifiers(db)
            let writtenBy =
                try db.tableExists("metadata")
                ? String.fetchOne(db, sql: "SELECT value FROM metadata WHERE key = ?", arguments: [SchemaVersion.writtenByKey]) : nil
            return (applied, writtenBy)
        }
        try SchemaVersion.checkOpenable(applied: applied, known: migrator.migrations, writtenBy: writtenBy, place: "data directory")
        if applied.count < migrator.migrations.count || writtenBy != IntakeVersion.current {
            try migrator.migrate(writer)
            try writer.write { db in
                // Checked again under the write lock: a newer Intake may have opened it meanwhile.
                try SchemaVersion.checkOpenable(
                    applied: migrator.appliedIdentifiers(db), known: migrator.migrations, writtenBy: writtenBy, place: "data directory")
                try db.execute(
                    sql: "INSERT INTO metadata (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    arguments: [SchemaVersion.writtenByKey, IntakeVersion.current])
            }
        }
    }

    /// A write transaction; a lock held too long by another process, or a full disk, becomes
    /// `StoreUnavailable`.
    func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            defer { checkpointer?.committed() }
            return try await writer.write(updates)
        } catch let error as DatabaseError {
            throw Self.translate(error)
        }
    }

    /// The errors a retry gets over, as `StoreUnavailable`; others as they are.
    static func translate(_ error: DatabaseError) -> any Error {
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED: StoreUnavailable.locked
        case .SQLITE_FULL: StoreUnavailable.outOfSpace
        // A write the disk refused (a file-size limit, a quota): as a full disk, a retry gets over it
        // once there is room.
        case .SQLITE_IOERR where error.extendedResultCode == .SQLITE_IOERR_WRITE:
            StoreUnavailable(reason: "the database could not write to its disk (a full disk, a quota or a file-size limit)", isOutOfSpace: true)
        default: error
        }
    }

    func read<T: Sendable>(_ value: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await writer.read(value)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
            throw StoreUnavailable.locked
        }
    }

    /// Runs SQLite's `quick_check`: nil when the database is sound, else what SQLite found (first lines).
    package func integrityProblems() async throws -> String? {
        let lines = try await writer.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check(5)") }
        return lines == ["ok"] ? nil : lines.joined(separator: "; ")
    }

    static func seconds(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970.rounded(.down)) }

    package func ping() async throws {
        _ = try await read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    // MARK: Control files

    package func addControlFile(digest: Digest, size: Int64, comment: String, uploadedBy: String?, now: Date) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO control_files (digest, size, comment, created, uploaded_by) VALUES (?, ?, ?, ?, ?)
                    """, arguments: [digest.hex, size, comment, Self.seconds(now), uploadedBy])
        }
    }

    package func controlFileExists(_ digest: Digest) async throws -> Bool {
        try await read { db in
            try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM control_files WHERE digest = ?)",
                arguments: [digest.hex]) ?? false
        }
    }

    /// Whether `sql` (a `SELECT 1 FROM …`) finds a row.
    static func exists(_ db: Database, _ sql: String, _ arguments: StatementArguments) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (\(sql))", arguments: arguments) ?? false
    }

    /// `instr(lower(…))` rather than LIKE, so `%` and `_` in what is searched for mean themselves.
    package func controlFiles(comment: String?, limit: Int, offset: Int) async throws -> [ControlFileRecord] {
        try await read { db in
            try ControlFileRow.fetchAll(
                db,
                sql: """
                    SELECT * FROM control_files WHERE (? IS NULL OR instr(lower(comment), lower(?)) > 0)
                    ORDER BY created DESC, id DESC LIMIT ? OFFSET ?
                    """, arguments: [comment, comment, limit, offset]
            ).map { try $0.record() }
        }
    }

    package func batchCounts(controls: [Digest]) async throws -> [Digest: Int] {
        try await read { db in
            var counts: [Digest: Int] = [:]
            for digest in controls {
                counts[digest] = try Int.fetchOne(db, sql: "SELECT count(*) FROM batches WHERE control = ?", arguments: [digest.hex]) ?? 0
            }
            return counts
        }
    }

    package func controlFiles(digest: Digest) async throws -> [ControlFileRecord] {
        try await read { db in
            try ControlFileRow.fetchAll(
                db, sql: "SELECT * FROM control_files WHERE digest = ? ORDER BY created DESC, id DESC", arguments: [digest.hex]
            ).map { try $0.record() }
        }
    }

    package func controlFileCount(comment: String?) async throws -> Int {
        try await read { db in
            try Int.fetchOne(
                db, sql: "SELECT count(*) FROM control_files WHERE (? IS NULL OR instr(lower(comment), lower(?)) > 0)",
                arguments: [comment, comment]) ?? 0
        }
    }

    package func controlFile(id: Int64) async throws -> ControlFileRecord? {
        try await read { db in
            try ControlFileRow.fetchOne(db, sql: "SELECT * FROM control_files WHERE id = ?", arguments: [id])?.record()
        }
    }

    package func controlFile(digest: Digest, comment: String) async throws -> ControlFileRecord? {
        try await read { db in
            try ControlFileRow.fetchOne(
                db, sql: "SELECT * FROM control_files WHERE digest = ? AND comment = ?", arguments: [digest.hex, comment]
            )?.record()
        }
    }

    // MARK: Admin sessions and the audit trail

    package func createAdminSession(_ session: AdminSessionRecord) async throws {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO admin_sessions (id_hash, account, csrf_token, created, last_seen, data) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [
                    session.idHash, session.account, session.csrfToken, Self.seconds(session.created), Self.seconds(session.lastSeen),
                    session.data
                ])
        }
    }

    package func adminSession(idHash: String) async throws -> AdminSessionRecord? {
        try await read { db in
            try AdminSessionRow.fetchOne(db, sql: "SELECT * FROM admin_sessions WHERE id_hash = ?", arguments: [idHash])?.record()
        }
    }

    package func updateAdminSession(idHash: String, lastSeen: Date, data: String) async throws {
        try await write { db in
            try db.execute(
                sql: "UPDATE admin_sessions SET last_seen = ?, data = ? WHERE id_hash = ?",
                arguments: [Self.seconds(lastSeen), data, idHash])
        }
    }

    package func deleteAdminSession(idHash: String) async throws {
        try await write { db in try db.execute(sql: "DELETE FROM admin_sessions WHERE id_hash = ?", arguments: [idHash]) }
    }

    package func deleteAdminSessions(idleBefore: Date, createdBefore: Date) async throws -> Int {
        try await write { db in
            try db.execute(
                sql: "DELETE FROM admin_sessions WHERE last_seen < ? OR created < ?",
                arguments: [Self.seconds(idleBefore), Self.seconds(createdBefore)])
            return db.changesCount
        }
    }

    package func recordAudit(event: String, batch: BatchID?, detail: String, now: Date) async throws {
        try await write { db in try Self.audit(db, batch, event, detail, now) }
    }

    package func auditEntries(batch: BatchID, limit: Int) async throws -> [AuditEntry] {
        try await read { db in
            try AuditRow.fetchAll(db, sql: "SELECT * FROM audit WHERE batch = ? ORDER BY id DESC LIMIT ?", arguments: [batch.rawValue, limit])
                .map { $0.record() }
        }
    }

    package func auditEntries(limit: Int) async throws -> [AuditEntry] {
        try await read { db in
            try AuditRow.fetchAll(db, sql: "SELECT * FROM audit ORDER BY id DESC LIMIT ?", arguments: [limit]).map { $0.record() }
        }
    }

    // MARK: Settings

    package func setting(_ key: String) async throws -> String? {
        try await read { db in try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = ?", arguments: [key]) }
    }

    package func setSetting(_ key: String, _ value: String) async throws {
        try await write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", arguments: [key, value])
        }
    }

    // MARK: API keys

    package func createAdminAccount(name: String, passwordHash: String, role: AdminRole, now: Date) async throws {
        try await write { db in
            guard try !Self.exists(db, "SELECT 1 FROM admin_accounts WHERE name = ?", [name]) else {
                throw StoreError.accountExists(name)
            }
            try db.execute(
                sql: "INSERT INTO admin_accounts (name, password_hash, created, password_changed, role) VALUES (?, ?, ?, ?, ?)",
                arguments: [name, passwordHash, Self.seconds(now), Self.seconds(now), role.rawValue])
        }
    }

    package func setAdminRole(name: String, role: AdminRole) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "UPDATE admin_accounts SET role = ? WHERE name = ?", arguments: [role.rawValue, name])
            return db.changesCount > 0
        }
    }

    package func setAdminPassword(name: String, passwordHash: String, now: Date) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: "UPDATE admin_accounts SET password_hash = ?, password_changed = ? WHERE name = ?",
                arguments: [passwordHash, Self.seconds(now), name])
            return db.changesCount > 0
        }
    }

    package func setAdminAccountDisabled(name: String, disabled: Bool) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "UPDATE admin_accounts SET disabled = ? WHERE name = ?", arguments: [disabled, name])
            let found = db.changesCount > 0
            if disabled { try db.execute(sql: "DELETE FROM admin_sessions WHERE account = ?", arguments: [name]) }
            return found
        }
    }

    package func deleteAdminAccount(name: String) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM admin_accounts WHERE name = ?", arguments: [name])
            let found = db.changesCount > 0
            try db.execute(sql: "DELETE FROM admin_sessions WHERE account = ?", arguments: [name])
            return found
        }
    }

    package func adminAccount(name: String) async throws -> AdminAccountRecord? {
        try await read { db in
            try AdminAccountRow.fetchOne(db, sql: "SELECT * FROM admin_accounts WHERE name = ?", arguments: [name])?.record()
        }
    }

    package func adminAccounts() async throws -> [AdminAccountRecord] {
        try await read { db in try AdminAccountRow.fetchAll(db, sql: "SELECT * FROM admin_accounts ORDER BY name").map { $0.record() } }
    }

    package func createAPIKey(
        name: String, scope: APIScope, hash: String, expires: Date?, restriction: APIKeyRestriction?, now: Date
    ) async throws -> Int64 {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO api_keys (name, scope, hash, created, expires, restriction) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [name, scope.rawValue, hash, Self.seconds(now), expires.map(Self.seconds), restriction?.text])
            return db.lastInsertedRowID
        }
    }

    package func apiKeys() async throws -> [APIKeyRecord] {
        try await read { db in
            try APIKeyRow.fetchAll(db, sql: "SELECT * FROM api_keys ORDER BY id").map { $0.record() }
        }
    }

    package func revokeAPIKey(id: Int64) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "UPDATE api_keys SET revoked = 1 WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    package func useAPIKey(hash: String, now: Date) async throws -> APIKeyRecord? {
        // Every active key's hash is compared in constant time, rather than looked up by an index whose
        // timing depends on the presented value. Deployments have a handful of keys.
        let found = try await read { db in
            var match: APIKeyRecord?
            for row in try APIKeyRow.fetchAll(db, sql: "SELECT * FROM api_keys WHERE revoked = 0") {
                if APIKeyHashing.constantTimeEquals(row.hash, hash) { match = row.record() }
            }
            return match
        }
        guard let found, !found.isExpired(at: now) else { return nil }
        // Last-used is informational; record it at most once a minute to keep requests read-only,
        // and never fail a request for it (a full disk or a held lock must not stop reads).
        if found.lastUsed.map({ now.timeIntervalSince($0) > 60 }) ?? true {
            try? await write { db in
                try db.execute(sql: "UPDATE api_keys SET last_used = ? WHERE id = ?", arguments: [Self.seconds(now), found.id])
            }
        }
        return found
    }
}
