import Foundation
import IntakeCore
import IntakeStore
import PostgresNIO

/// The networked store: every role of `BatchStore` in one PostgreSQL database, so several identical
/// nodes can serve requests and run batches side by side. Its behaviour is the SQLite backend's,
/// checked by the same contract (IntakeTesting's `StoreContract`); where PostgreSQL offers more
/// (row locks, `SKIP LOCKED`, multi-row inserts), the comments say so.
package final class PostgresBatchStore: BatchStore {
    package let database: PostgresDatabase
    /// This store's identity in the job queue.
    package let lease: JobLease

    /// Opens the store and applies missing migrations (safe while other nodes start too).
    package init(database: PostgresDatabase, lease: JobLease = JobLease()) async throws {
        self.database = database
        self.lease = lease
        try await PostgresMigrations.migrate(database)
    }

    package func ping() async throws {
        try await database.query("SELECT 1")
    }

    /// Which node holds a running batch's lease (`host pid nonce`), for operators and tests.
    package func leaseOwner(of id: BatchID) async throws -> String? {
        try await database.query("SELECT lease_owner FROM batches WHERE id = \(id.rawValue) AND state = 'running'").scalar(String?.self) ?? nil
    }

    /// What the exactly-once checks count for one batch: the objects it wrote last, their distinct
    /// usernames, the versions it wrote, and the highest version among its objects.
    package func objectCounts(writtenBy id: BatchID) async throws -> (objects: Int, usernames: Int, versions: Int, maxVersion: Int) {
        let row = try await database.query(
            """
            SELECT (SELECT count(*) FROM objects WHERE batch = \(id.rawValue)),
                   (SELECT count(DISTINCT username) FROM objects WHERE batch = \(id.rawValue)),
                   (SELECT count(*) FROM object_versions WHERE batch = \(id.rawValue)),
                   (SELECT COALESCE(max(version), 0) FROM objects WHERE batch = \(id.rawValue))
            """
        ).rows.first
        guard let row else { return (0, 0, 0, 0) }
        return try row.decode((Int, Int, Int, Int).self)
    }

    // MARK: Control files

    package func addControlFile(digest: Digest, size: Int64, comment: String, uploadedBy: String?, now: Date) async throws {
        try await database.query(
            """
            INSERT INTO control_files (digest, size, comment, created, uploaded_by) VALUES (\(digest.hex), \(size), \(comment), \(seconds(now)), \(uploadedBy))
            ON CONFLICT (digest, comment) DO NOTHING
            """)
    }

    package func controlFileExists(_ digest: Digest) async throws -> Bool {
        try await database.query("SELECT EXISTS (SELECT 1 FROM control_files WHERE digest = \(digest.hex))").scalar(Bool.self) ?? false
    }

    private static func controlFile(_ row: PostgresRow) throws -> ControlFileRecord {
        let c = row.columns
        return ControlFileRecord(
            id: try c.value("id"), digest: Digest(hex: try c.value("digest"))!, size: try c.value("size"), comment: try c.value("comment"),
            created: try c.date("created"), uploadedBy: try c.value("uploaded_by"))
    }

    /// `strpos(lower(…))` rather than LIKE, so `%` and `_` in what is searched for mean themselves.
    package func controlFiles(comment: String?, limit: Int, offset: Int) async throws -> [ControlFileRecord] {
        try await database.query(
            """
            SELECT * FROM control_files WHERE (\(comment)::text IS NULL OR strpos(lower(comment), lower(\(comment))) > 0)
            ORDER BY created DESC, id DESC LIMIT \(limit) OFFSET \(offset)
            """
        ).rows.map(Self.controlFile)
    }

    package func controlFileCount(comment: String?) async throws -> Int {
        try await database.query(
            "SELECT count(*) FROM control_files WHERE (\(comment)::text IS NULL OR strpos(lower(comment), lower(\(comment))) > 0)"
        ).scalar(Int.self) ?? 0
    }

    package func batchCounts(controls: [Digest]) async throws -> [Digest: Int] {
        var counts = Dictionary(uniqueKeysWithValues: controls.map { ($0, 0) })
        let rows = try await database.query(
            "SELECT control, count(*) FROM batches WHERE control = ANY(\(controls.map(\.hex))) GROUP BY control"
        ).rows
        for row in rows {
            let (control, count) = try row.decode((String, Int).self)
            if let digest = Digest(hex: control) { counts[digest] = count }
        }
        return counts
    }

    package func controlFile(id: Int64) async throws -> ControlFileRecord? {
        try await database.query("SELECT * FROM control_files WHERE id = \(id)").rows.first.map(Self.controlFile)
    }

    package func controlFiles(digest: Digest) async throws -> [ControlFileRecord] {
        try await database.query("SELECT * FROM control_files WHERE digest = \(digest.hex) ORDER BY created DESC, id DESC").rows.map(
            Self.controlFile)
    }

    package func controlFile(digest: Digest, comment: String) async throws -> ControlFileRecord? {
        try await database.query("SELECT * FROM control_files WHERE digest = \(digest.hex) AND comment = \(comment)").rows.first.map(
            Self.controlFile)
    }

    // MARK: Admin sessions and the audit trail

    package func createAdminSession(_ session: AdminSessionRecord) async throws {
        try await database.query(
            """
            INSERT INTO admin_sessions (id_hash, account, csrf_token, created, last_seen, data)
            VALUES (\(session.idHash), \(session.account), \(session.csrfToken), \(seconds(session.created)), \(seconds(session.lastSeen)), \(session.data))
            """)
    }

    package func adminSession(idHash: String) async throws -> AdminSessionRecord? {
        try await database.query("SELECT * FROM admin_sessions WHERE id_hash = \(idHash)").rows.first.map { row in
            let c = row.columns
            return AdminSessionRecord(
                idHash: try c.value("id_hash"), account: try c.value("account"), csrfToken: try c.value("csrf_token"),
                created: try c.date("created"), lastSeen: try c.date("last_seen"), data: try c.value("data"))
        }
    }

    package func updateAdminSession(idHash: String, lastSeen: Date, data: String) async throws {
        try await database.query("UPDATE admin_sessions SET last_seen = \(seconds(lastSeen)), data = \(data) WHERE id_hash = \(idHash)")
    }

    package func deleteAdminSession(idHash: String) async throws {
        try await database.query("DELETE FROM admin_sessions WHERE id_hash = \(idHash)")
    }

    package func deleteAdminSessions(idleBefore: Date, createdBefore: Date) async throws -> Int {
        try await database.query(
            "DELETE FROM admin_sessions WHERE last_seen < \(seconds(idleBefore)) OR created < \(seconds(createdBefore))"
        ).affectedRows
    }

    package func recordAudit(event: String, batch: BatchID?, detail: String, now: Date) async throws {
        try await database.withConnection { connection in try await Self.audit(connection, batch, event, detail, now) }
    }

    static func audit(_ connection: AsyncConnection, _ batch: BatchID?, _ event: String, _ detail: String, _ now: Date) async throws {
        try await connection.query(
            "INSERT INTO audit (time, batch, event, detail) VALUES (\(seconds(now)), \(batch?.rawValue), \(event), \(detail))")
    }

    private static func auditEntry(_ row: PostgresRow) throws -> AuditEntry {
        let c = row.columns
        return AuditEntry(
            time: try c.date("time"), batch: try c.value("batch", as: String?.self).map(BatchID.init(rawValue:)), event: try c.value("event"),
            detail: try c.value("detail"))
    }

    package func auditEntries(limit: Int) async throws -> [AuditEntry] {
        try await database.query("SELECT * FROM audit ORDER BY id DESC LIMIT \(limit)").rows.map(Self.auditEntry)
    }

    package func auditEntries(batch: BatchID, limit: Int) async throws -> [AuditEntry] {
        try await database.query("SELECT * FROM audit WHERE batch = \(batch.rawValue) ORDER BY id DESC LIMIT \(limit)").rows.map(Self.auditEntry)
    }

    // MARK: Settings

    package func setting(_ key: String) async throws -> String? {
        try await database.query("SELECT value FROM settings WHERE key = \(key)").scalar(String.self)
    }

    package func setSetting(_ key: String, _ value: String) async throws {
        try await database.query(
            "INSERT INTO settings (key, value) VALUES (\(key), \(value)) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
    }

    // MARK: Admin accounts

    package func createAdminAccount(name: String, passwordHash: String, role: AdminRole, now: Date) async throws {
        let inserted = try await database.query(
            """
            INSERT INTO admin_accounts (name, password_hash, created, password_changed, role)
            VALUES (\(name), \(passwordHash), \(seconds(now)), \(seconds(now)), \(role.rawValue))
            ON CONFLICT (name) DO NOTHING
            """
        ).affectedRows
        if inserted == 0 { throw StoreError.accountExists(name) }
    }

    package func setAdminPassword(name: String, passwordHash: String, now: Date) async throws -> Bool {
        try await database.query(
            "UPDATE admin_accounts SET password_hash = \(passwordHash), password_changed = \(seconds(now)) WHERE name = \(name)"
        ).affectedRows > 0
    }

    private static func adminAccount(_ row: PostgresRow) throws -> AdminAccountRecord {
        let c = row.columns
        return AdminAccountRecord(
            name: try c.value("name"), passwordHash: try c.value("password_hash"), created: try c.date("created"),
            passwordChanged: try c.date("password_changed"), disabled: try c.value("disabled"),
            role: AdminRole(rawValue: try c.value("role")) ?? .viewer)
    }

    package func setAdminRole(name: String, role: AdminRole) async throws -> Bool {
        try await database.query("UPDATE admin_accounts SET role = \(role.rawValue) WHERE name = \(name)").affectedRows > 0
    }

    package func setAdminAccountDisabled(name: String, disabled: Bool) async throws -> Bool {
        try await database.transaction { connection in
            let found = try await connection.query("UPDATE admin_accounts SET disabled = \(disabled) WHERE name = \(name)").affectedRows > 0
            if disabled { try await connection.query("DELETE FROM admin_sessions WHERE account = \(name)") }
            return found
        }
    }

    package func deleteAdminAccount(name: String) async throws -> Bool {
        try await database.transaction { connection in
            let found = try await connection.query("DELETE FROM admin_accounts WHERE name = \(name)").affectedRows > 0
            try await connection.query("DELETE FROM admin_sessions WHERE account = \(name)")
            return found
        }
    }

    package func adminAccount(name: String) async throws -> AdminAccountRecord? {
        try await database.query("SELECT * FROM admin_accounts WHERE name = \(name)").rows.first.map(Self.adminAccount)
    }

    package func adminAccounts() async throws -> [AdminAccountRecord] {
        try await database.query("SELECT * FROM admin_accounts ORDER BY name").rows.map(Self.adminAccount)
    }

    // MARK: API keys

    package func createAPIKey(
        name: String, scope: APIScope, hash: String, expires: Date?, restriction: APIKeyRestriction?, now: Date
    ) async throws -> Int64 {
        try await database.query(
            """
            INSERT INTO api_keys (name, scope, hash, created, expires, restriction)
            VALUES (\(name), \(scope.rawValue), \(hash), \(seconds(now)), \(expires.map(seconds)), \(restriction?.text)) RETURNING id
            """
        ).scalar(Int64.self) ?? 0
    }

    private static func apiKey(_ row: PostgresRow) throws -> APIKeyRecord {
        let c = row.columns
        return APIKeyRecord(
            id: try c.value("id"), name: try c.value("name"), scope: APIScope(rawValue: try c.value("scope")) ?? .batch,
            created: try c.date("created"), lastUsed: try c.optionalDate("last_used"), revoked: try c.value("revoked"),
            expires: try c.optionalDate("expires"),
            restriction: try c.value("restriction", as: String?.self).flatMap(APIKeyRestriction.init(text:)))
    }

    package func apiKeys() async throws -> [APIKeyRecord] {
        try await database.query("SELECT * FROM api_keys ORDER BY id").rows.map(Self.apiKey)
    }

    package func revokeAPIKey(id: Int64) async throws -> Bool {
        try await database.query("UPDATE api_keys SET revoked = true WHERE id = \(id)").affectedRows > 0
    }

    package func useAPIKey(hash: String, now: Date) async throws -> APIKeyRecord? {
        // Every active key's hash is compared in constant time, rather than looked up by an index whose
        // timing depends on the presented value. Deployments have a handful of keys.
        var match: APIKeyRecord?
        for row in try await database.query("SELECT * FROM api_keys WHERE NOT revoked").rows {
            if APIKeyHashing.constantTimeEquals(try row.columns.value("hash", as: String.self), hash) { match = try Self.apiKey(row) }
        }
        guard let found = match, !found.isExpired(at: now) else { return nil }
        // Last-used is informational; record it at most once a minute to keep requests read-only,
        // and never fail a request for it.
        if found.lastUsed.map({ now.timeIntervalSince($0) > 60 }) ?? true {
            _ = try? await database.query("UPDATE api_keys SET last_used = \(seconds(now)) WHERE id = \(found.id)")
        }
        return found
    }
}
