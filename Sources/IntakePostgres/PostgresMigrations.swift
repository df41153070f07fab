import Foundation
import IntakeCore
import IntakeStore
import PostgresNIO

/// The PostgreSQL schema, as named migrations applied in order at start-up.
///
/// Several nodes may start at once against one database: each takes a session-level advisory lock
/// before looking at `intake_migrations`, so exactly one applies a migration and the others find it
/// applied. Each migration runs in its own transaction with its record in `intake_migrations`.
///
/// The tables follow the SQLite backend's (see SQLiteMigrations): times are seconds since 1970,
/// an object's current values live only in `object_versions`, and a chunk's results are one row.
enum PostgresMigrations {
    /// Any fixed number shared by every Intake node; it only has to differ from other applications'
    /// advisory locks on the same database.
    static let lockKey: Int64 = 0x696E_7461_6B65  // "intake"

    static let migrations: [(name: String, sql: [String])] = [
        (
            "v1",
            [
                """
                CREATE TABLE control_files (
                    id BIGSERIAL PRIMARY KEY,
                    digest TEXT NOT NULL,
                    size BIGINT NOT NULL,
                    comment TEXT NOT NULL,
                    created BIGINT NOT NULL,
                    uploaded_by TEXT,
                    UNIQUE (digest, comment)
                )
                """,
                "CREATE INDEX control_files_digest ON control_files (digest)",
                // `seq` orders batches created in the same second, as SQLite's rowid does.
                """
                CREATE TABLE batches (
                    id TEXT PRIMARY KEY,
                    seq BIGSERIAL NOT NULL,
                    state TEXT NOT NULL,
                    comment TEXT NOT NULL,
                    control TEXT NOT NULL,
                    dry_run BOOLEAN NOT NULL DEFAULT false,
                    created BIGINT NOT NULL,
                    scheduled BIGINT,
                    started BIGINT,
                    finished BIGINT,
                    scheduled_by TEXT,
                    progress TEXT NOT NULL DEFAULT '{}',
                    cancel_requested BOOLEAN NOT NULL DEFAULT false,
                    lease_owner TEXT,
                    lease_expires BIGINT NOT NULL DEFAULT 0,
                    crashes INTEGER NOT NULL DEFAULT 0,
                    claim_position BIGINT NOT NULL DEFAULT -1,
                    purged BIGINT,
                    copied_from TEXT
                )
                """,
                "CREATE INDEX batches_state ON batches (state, scheduled)",
                "CREATE INDEX batches_control ON batches (control, created)",
                "CREATE INDEX batches_created ON batches (created, seq)",
                """
                CREATE TABLE batch_files (
                    batch TEXT NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    position INTEGER NOT NULL,
                    digest TEXT NOT NULL,
                    size BIGINT NOT NULL,
                    filename TEXT NOT NULL,
                    PRIMARY KEY (batch, name)
                )
                """,
                "CREATE INDEX batch_files_digest ON batch_files (digest)",
                """
                CREATE TABLE batch_log (
                    batch TEXT NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
                    seq INTEGER NOT NULL,
                    line TEXT NOT NULL,
                    PRIMARY KEY (batch, seq)
                )
                """,
                """
                CREATE TABLE batch_results (
                    batch TEXT NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
                    seq INTEGER NOT NULL,
                    lines TEXT NOT NULL,
                    PRIMARY KEY (batch, seq)
                )
                """,
                """
                CREATE TABLE audit (
                    id BIGSERIAL PRIMARY KEY,
                    time BIGINT NOT NULL,
                    batch TEXT,
                    event TEXT NOT NULL,
                    detail TEXT NOT NULL DEFAULT ''
                )
                """,
                "CREATE INDEX audit_batch ON audit (batch, id)",
                """
                CREATE TABLE api_keys (
                    id BIGSERIAL PRIMARY KEY,
                    name TEXT NOT NULL,
                    scope TEXT NOT NULL,
                    hash TEXT NOT NULL UNIQUE,
                    created BIGINT NOT NULL,
                    last_used BIGINT,
                    revoked BOOLEAN NOT NULL DEFAULT false
                )
                """,
                "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
                "CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL)",
                "INSERT INTO counters (name, value) VALUES ('ref', 32767)",
                """
                CREATE TABLE objects (
                    ref BIGINT PRIMARY KEY,
                    type TEXT,
                    title TEXT NOT NULL,
                    titles TEXT NOT NULL DEFAULT '',
                    version INTEGER NOT NULL,
                    created BIGINT NOT NULL,
                    updated BIGINT NOT NULL,
                    batch TEXT,
                    behaviour TEXT,
                    username TEXT
                )
                """,
                "CREATE INDEX objects_type ON objects (type, ref)",
                // With the ref, so `WHERE username = $1 ORDER BY ref LIMIT 1` reads one index entry:
                // on a table filled moments ago (no statistics yet) the planner otherwise walks the
                // primary key in ref order, which made every lookup a scan.
                "CREATE INDEX objects_behaviour ON objects (behaviour, ref) WHERE behaviour IS NOT NULL",
                "CREATE INDEX objects_username ON objects (username, ref) WHERE username IS NOT NULL",
                """
                CREATE TABLE object_versions (
                    ref BIGINT NOT NULL,
                    version INTEGER NOT NULL,
                    batch TEXT,
                    saved BIGINT NOT NULL,
                    data TEXT NOT NULL,
                    PRIMARY KEY (ref, version)
                )
                """,
                """
                CREATE TABLE object_links (
                    ref BIGINT NOT NULL,
                    attribute TEXT NOT NULL,
                    target BIGINT NOT NULL
                )
                """,
                "CREATE INDEX object_links_target ON object_links (target, attribute)",
                "CREATE INDEX object_links_ref ON object_links (ref)",
                """
                CREATE TABLE documents (
                    id BIGSERIAL PRIMARY KEY,
                    model TEXT NOT NULL,
                    destination TEXT NOT NULL,
                    batch TEXT,
                    record TEXT NOT NULL,
                    data TEXT NOT NULL
                )
                """,
                "CREATE INDEX documents_batch ON documents (model, destination, batch)",
                """
                CREATE TABLE admin_accounts (
                    name TEXT PRIMARY KEY,
                    password_hash TEXT NOT NULL,
                    created BIGINT NOT NULL,
                    password_changed BIGINT NOT NULL,
                    disabled BOOLEAN NOT NULL DEFAULT false
                )
                """,
                """
                CREATE TABLE admin_sessions (
                    id_hash TEXT PRIMARY KEY,
                    account TEXT NOT NULL,
                    csrf_token TEXT NOT NULL,
                    created BIGINT NOT NULL,
                    last_seen BIGINT NOT NULL,
                    data TEXT NOT NULL DEFAULT '{}'
                )
                """,
                // Blobs: an upload's bytes go into `blob_chunks` under the upload's own id as they
                // arrive (the digest is known only at the end); finishing it records the digest in
                // `blobs`. Chunks are at most 1 MiB and stored uncompressed (EXTERNAL): uploads are
                // mostly compressed already or read back soon, and pglz would cost a core.
                """
                CREATE TABLE blobs (
                    digest TEXT PRIMARY KEY,
                    upload TEXT NOT NULL UNIQUE,
                    size BIGINT NOT NULL,
                    last_written BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE blob_chunks (
                    upload TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    written BIGINT NOT NULL,
                    data BYTEA NOT NULL,
                    PRIMARY KEY (upload, seq)
                )
                """,
                "ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL"
            ]
        ),
        // The poison-batch guard tells crashes a run reported (`crashes`) from stops without a
        // report (`stops`: a process killed from outside).
        ("v2-batch-stops", ["ALTER TABLE batches ADD COLUMN stops INTEGER NOT NULL DEFAULT 0"]),
        // Feeds, as SQLite's v10-feeds.
        (
            "v3-feeds",
            [
                """
                CREATE TABLE feed_keys (
                    \(feedKeyColumns)
                    PRIMARY KEY (feed, file, key)
                )
                """,
                """
                CREATE TABLE feed_key_history (
                    batch TEXT NOT NULL,
                    \(feedKeyColumns)
                    PRIMARY KEY (batch, feed, file, key)
                )
                """,
                "CREATE INDEX feed_key_history_key ON feed_key_history (feed, file, key)",
                """
                CREATE TABLE feed_seen (
                    batch TEXT NOT NULL,
                    file TEXT COLLATE "C" NOT NULL,
                    key TEXT COLLATE "C" NOT NULL,
                    record BIGINT NOT NULL,
                    PRIMARY KEY (batch, file, key)
                )
                """,
                "ALTER TABLE batches ADD COLUMN feed TEXT",
                "ALTER TABLE batches ADD COLUMN force BOOLEAN NOT NULL DEFAULT false",
                "CREATE INDEX batches_feed ON batches (feed, created) WHERE feed IS NOT NULL"
            ]
        ),
        // Webhooks, as SQLite's v11-webhooks.
        (
            "v4-webhooks",
            [
                """
                CREATE TABLE webhooks (
                    id BIGSERIAL PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    url TEXT NOT NULL,
                    events TEXT NOT NULL,
                    every_batch BOOLEAN NOT NULL,
                    secret TEXT NOT NULL,
                    created BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE webhook_deliveries (
                    seq BIGSERIAL,
                    id TEXT PRIMARY KEY,
                    webhook TEXT NOT NULL,
                    url TEXT NOT NULL,
                    batch TEXT NOT NULL,
                    event TEXT NOT NULL,
                    batch_state TEXT NOT NULL,
                    created BIGINT NOT NULL,
                    state TEXT NOT NULL,
                    next_attempt BIGINT,
                    lease_until BIGINT NOT NULL DEFAULT 0,
                    body TEXT,
                    attempts TEXT NOT NULL DEFAULT ''
                )
                """,
                "CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt) WHERE state = 'pending'",
                "CREATE INDEX webhook_deliveries_batch ON webhook_deliveries (batch, created)",
                "ALTER TABLE batches ADD COLUMN notify TEXT"
            ]
        ),
        // Objects deleted by a feed's leavers, as SQLite's v12-deleted-objects.
        (
            "v5-deleted-objects",
            [
                "ALTER TABLE objects ADD COLUMN deleted BOOLEAN NOT NULL DEFAULT false",
                "ALTER TABLE object_versions ADD COLUMN deleted BOOLEAN NOT NULL DEFAULT false",
                // Every read by type leaves deleted objects out: with the flag in the index, a page
                // of a type is still read from the index alone, in ref order (see
                // `orderedIndexReads`; with the flag filtered on the table, every match was read).
                "DROP INDEX objects_type",
                "CREATE INDEX objects_type ON objects (type, deleted, ref)"
            ]
        ),
        // Facts about the database itself: which Intake last opened it (SchemaVersion).
        ("v6-metadata", ["CREATE TABLE intake_metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL)"]),
        // Push APIs, as SQLite's v14-push-apis.
        (
            "v7-push-apis",
            [
                """
                CREATE TABLE push_apis (
                    name TEXT PRIMARY KEY,
                    description TEXT NOT NULL,
                    enabled BOOLEAN NOT NULL,
                    response TEXT NOT NULL,
                    control TEXT NOT NULL,
                    body_limit BIGINT NOT NULL,
                    created BIGINT NOT NULL,
                    updated BIGINT NOT NULL
                )
                """
            ]
        ),
        // A batch's own error limit, as SQLite's v15-batch-max-errors.
        ("v8-batch-max-errors", ["ALTER TABLE batches ADD COLUMN max_errors BIGINT"]),
        // As SQLite's v16-api-key-expiry.
        ("v9-api-key-expiry", ["ALTER TABLE api_keys ADD COLUMN expires BIGINT"]),
        // As SQLite's v17-admin-roles.
        ("v10-admin-roles", ["ALTER TABLE admin_accounts ADD COLUMN role TEXT NOT NULL DEFAULT 'admin'"]),
        // As SQLite's v18-api-key-restriction.
        ("v11-api-key-restriction", ["ALTER TABLE api_keys ADD COLUMN restriction TEXT"])
    ]

    /// The columns of `feed_keys`, which `feed_key_history` repeats (a history row is a copy of a
    /// key's row). Files and keys compare byte by byte ("C"), as SQLite's do, so that keys are in
    /// the same order on both backends and the primary key's index serves that order.
    static let feedKeyColumns = """
            feed TEXT NOT NULL,
            file TEXT COLLATE "C" NOT NULL,
            key TEXT COLLATE "C" NOT NULL,
            digest TEXT NOT NULL,
            control TEXT NOT NULL,
            schema TEXT NOT NULL,
            objects TEXT NOT NULL,
            must_transform BOOLEAN NOT NULL,
            reads TEXT NOT NULL,
            active BOOLEAN NOT NULL,
            first_seen BIGINT NOT NULL,
            last_changed BIGINT NOT NULL,
            first_batch TEXT NOT NULL,
            last_batch TEXT NOT NULL,
        """

    /// Applies the migrations this database lacks, under the advisory lock.
    static func migrate(_ database: PostgresDatabase) async throws {
        try await database.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(lockKey))")
            do {
                try await connection.query("CREATE TABLE IF NOT EXISTS intake_migrations (name TEXT PRIMARY KEY, applied BIGINT NOT NULL)")
                let applied = Set(
                    try await connection.query("SELECT name FROM intake_migrations")
                        .rows.map { try $0.decode(String.self) })
                let writtenBy =
                    try await connection.query("SELECT to_regclass('intake_metadata') IS NOT NULL").rows.first?.decode(Bool.self) == true
                    ? try await connection.query("SELECT value FROM intake_metadata WHERE key = \(SchemaVersion.writtenByKey)").rows.first?
                        .decode(String.self) : nil
                try SchemaVersion.checkOpenable(applied: applied, known: migrations.map(\.name), writtenBy: writtenBy, place: "database")
                for migration in migrations where !applied.contains(migration.name) {
                    try await connection.query("BEGIN")
                    do {
                        for statement in migration.sql {
                            try await connection.query(PostgresQuery(unsafeSQL: statement))
                        }
                        try await connection.query("INSERT INTO intake_migrations (name, applied) VALUES (\(migration.name), \(seconds(Date())))")
                        try await connection.query("COMMIT")
                    } catch {
                        _ = try? await connection.query("ROLLBACK")
                        throw error
                    }
                }
                if writtenBy != IntakeVersion.current {
                    try await connection.query(
                        """
                        INSERT INTO intake_metadata (key, value) VALUES (\(SchemaVersion.writtenByKey), \(IntakeVersion.current))
                        ON CONFLICT (key) DO UPDATE SET value = excluded.value
                        """)
                }
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(lockKey))")
                throw error
            }
            try await connection.query("SELECT pg_advisory_unlock(\(lockKey))")
        }
    }
}
