import GRDB
import IntakeStore

/// The database schema. Constraints live here ("trust SQLite more than yourself").
/// An object's current values live only in `object_versions` (the row of `objects.version`), so each
/// save writes its values once.
enum SQLiteMigrations {
    static func migrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE control_files (
                        id INTEGER PRIMARY KEY,
                        digest TEXT NOT NULL,
                        size INTEGER NOT NULL,
                        comment TEXT NOT NULL,
                        created INTEGER NOT NULL,
                        UNIQUE (digest, comment)
                    );
                    CREATE TABLE batches (
                        id TEXT PRIMARY KEY,
                        state TEXT NOT NULL,
                        comment TEXT NOT NULL,
                        control TEXT NOT NULL,
                        dry_run INTEGER NOT NULL DEFAULT 0,
                        created INTEGER NOT NULL,
                        scheduled INTEGER,
                        started INTEGER,
                        finished INTEGER,
                        scheduled_by TEXT,
                        progress TEXT NOT NULL DEFAULT '{}',
                        cancel_requested INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE INDEX batches_state ON batches (state, scheduled);
                    CREATE TABLE batch_files (
                        batch TEXT NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        position INTEGER NOT NULL,
                        digest TEXT NOT NULL,
                        size INTEGER NOT NULL,
                        filename TEXT NOT NULL,
                        PRIMARY KEY (batch, name)
                    );
                    CREATE TABLE batch_log (
                        batch TEXT NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
                        seq INTEGER NOT NULL,
                        line TEXT NOT NULL,
                        PRIMARY KEY (batch, seq)
                    );
                    CREATE TABLE audit (
                        id INTEGER PRIMARY KEY,
                        time INTEGER NOT NULL,
                        batch TEXT,
                        event TEXT NOT NULL,
                        detail TEXT NOT NULL DEFAULT ''
                    );
                    CREATE TABLE api_keys (
                        id INTEGER PRIMARY KEY,
                        name TEXT NOT NULL,
                        scope TEXT NOT NULL,
                        hash TEXT NOT NULL UNIQUE,
                        created INTEGER NOT NULL,
                        last_used INTEGER,
                        revoked INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                    CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
                    INSERT INTO counters (name, value) VALUES ('ref', 32767);
                    CREATE TABLE objects (
                        ref INTEGER PRIMARY KEY,
                        type TEXT,
                        title TEXT NOT NULL,
                        version INTEGER NOT NULL,
                        created INTEGER NOT NULL,
                        updated INTEGER NOT NULL,
                        batch TEXT,
                        behaviour TEXT,
                        username TEXT
                    );
                    CREATE INDEX objects_type ON objects (type, ref);
                    CREATE INDEX objects_title ON objects (title);
                    CREATE INDEX objects_behaviour ON objects (behaviour) WHERE behaviour IS NOT NULL;
                    CREATE INDEX objects_username ON objects (username) WHERE username IS NOT NULL;
                    CREATE TABLE object_versions (
                        ref INTEGER NOT NULL,
                        version INTEGER NOT NULL,
                        batch TEXT,
                        saved INTEGER NOT NULL,
                        data TEXT NOT NULL,
                        PRIMARY KEY (ref, version)
                    );
                    CREATE TABLE object_links (
                        ref INTEGER NOT NULL,
                        attribute TEXT NOT NULL,
                        target INTEGER NOT NULL
                    );
                    CREATE INDEX object_links_target ON object_links (target, attribute);
                    CREATE INDEX object_links_ref ON object_links (ref);
                    CREATE TABLE documents (
                        id INTEGER PRIMARY KEY,
                        model TEXT NOT NULL,
                        destination TEXT NOT NULL,
                        batch TEXT,
                        record TEXT NOT NULL,
                        data TEXT NOT NULL
                    );
                    CREATE INDEX documents_batch ON documents (model, destination, batch);
                    CREATE TABLE batch_results (
                        batch TEXT NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
                        seq INTEGER NOT NULL,
                        lines TEXT NOT NULL,
                        PRIMARY KEY (batch, seq)
                    );
                    """)
        }
        // Titles for `?title=` ("matches any title exactly", docs/schema.md) live in one column, each
        // between unit separators, and the filter scans. An index on titles made imports of a million
        // people twice as slow: random inserts dirty a different index page for nearly every record,
        // and every chunk rewrites those pages to the WAL.
        migrator.registerMigration("v2-titles") { db in
            try db.execute(
                sql: """
                    ALTER TABLE objects ADD COLUMN titles TEXT NOT NULL DEFAULT '';
                    DROP INDEX objects_title;
                    """)
            let rows = try Row.fetchAll(db, sql: "SELECT o.ref, v.data FROM objects o JOIN object_versions v ON v.ref = o.ref AND v.version = o.version")
            for row in rows {
                let values = ObjectValueStorage.decode(row[1])
                try db.execute(
                    sql: "UPDATE objects SET titles = ? WHERE ref = ?",
                    arguments: [ObjectValueStorage.titles(values), row[0] as Int64])
            }
        }
        // Owners and leases for running batches (see JobLease), and the poison-batch guard's count.
        migrator.registerMigration("v3-leases") { db in
            try db.execute(
                sql: """
                    ALTER TABLE batches ADD COLUMN lease_owner TEXT;
                    ALTER TABLE batches ADD COLUMN lease_expires INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE batches ADD COLUMN crashes INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE batches ADD COLUMN claim_position INTEGER NOT NULL DEFAULT -1;
                    """)
        }
        // `intake purge`: when a batch's log, results and files were removed.
        migrator.registerMigration("v4-purge") { db in
            try db.execute(
                sql: """
                    ALTER TABLE batches ADD COLUMN purged INTEGER;
                    CREATE INDEX batch_files_digest ON batch_files (digest);
                    CREATE INDEX control_files_digest ON control_files (digest);
                    """)
        }
        // Admin UI accounts (bcrypt hashes).
        migrator.registerMigration("v5-admin-accounts") { db in
            try db.execute(
                sql: """
                    CREATE TABLE admin_accounts (
                        name TEXT PRIMARY KEY,
                        password_hash TEXT NOT NULL,
                        created INTEGER NOT NULL,
                        password_changed INTEGER NOT NULL
                    );
                    """)
        }
        // Admin UI sessions (hashed identifiers) and the origin of copied batches.
        migrator.registerMigration("v6-admin-sessions") { db in
            try db.execute(
                sql: """
                    CREATE TABLE admin_sessions (
                        id_hash TEXT PRIMARY KEY,
                        account TEXT NOT NULL,
                        csrf_token TEXT NOT NULL,
                        created INTEGER NOT NULL,
                        last_seen INTEGER NOT NULL,
                        data TEXT NOT NULL DEFAULT '{}'
                    );
                    ALTER TABLE batches ADD COLUMN copied_from TEXT;
                    CREATE INDEX batches_control ON batches (control, created);
                    """)
        }
        // Who uploaded a control file, for the admin UI.
        migrator.registerMigration("v7-control-file-uploader") { db in
            try db.execute(sql: "ALTER TABLE control_files ADD COLUMN uploaded_by TEXT")
        }
        // Admin accounts can be disabled (intake admin disable).
        migrator.registerMigration("v8-admin-account-disabled") { db in
            try db.execute(sql: "ALTER TABLE admin_accounts ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0")
        }
        // The poison-batch guard tells crashes a run reported (`crashes`) from stops without a report
        // (`stops`: a process killed from outside).
        migrator.registerMigration("v9-batch-stops") { db in
            try db.execute(sql: "ALTER TABLE batches ADD COLUMN stops INTEGER NOT NULL DEFAULT 0")
        }
        // Feeds (docs/feeds.md): what each feed remembers per (file, key); the memory a batch
        // replaced (a copy of its row before the batch first changed it), for rollback and a key's
        // history; the keys a running batch has seen (for duplicates and leavers, dropped when it
        // ends); the feed a batch belongs to, and whether it transforms every record.
        migrator.registerMigration("v10-feeds") { db in
            // The same columns in both tables: a history row is a copy of a key's row.
            let feedKeyColumns = """
                        feed TEXT NOT NULL,
                        file TEXT NOT NULL,
                        key TEXT NOT NULL,
                        digest TEXT NOT NULL,
                        control TEXT NOT NULL,
                        schema TEXT NOT NULL,
                        objects TEXT NOT NULL,
                        must_transform INTEGER NOT NULL,
                        reads TEXT NOT NULL,
                        active INTEGER NOT NULL,
                        first_seen INTEGER NOT NULL,
                        last_changed INTEGER NOT NULL,
                        first_batch TEXT NOT NULL,
                        last_batch TEXT NOT NULL,
                """
            try db.execute(
                sql: """
                    CREATE TABLE feed_keys (
                        \(feedKeyColumns)
                        PRIMARY KEY (feed, file, key)
                    ) WITHOUT ROWID;
                    CREATE TABLE feed_key_history (
                        batch TEXT NOT NULL,
                        \(feedKeyColumns)
                        PRIMARY KEY (batch, feed, file, key)
                    ) WITHOUT ROWID;
                    CREATE INDEX feed_key_history_key ON feed_key_history (feed, file, key);
                    CREATE TABLE feed_seen (
                        batch TEXT NOT NULL,
                        file TEXT NOT NULL,
                        key TEXT NOT NULL,
                        record INTEGER NOT NULL,
                        PRIMARY KEY (batch, file, key)
                    ) WITHOUT ROWID;
                    ALTER TABLE batches ADD COLUMN feed TEXT;
                    ALTER TABLE batches ADD COLUMN force INTEGER NOT NULL DEFAULT 0;
                    CREATE INDEX batches_feed ON batches (feed, created) WHERE feed IS NOT NULL;
                    """)
        }
        // Webhooks (docs/feeds.md "Webhooks"): who is told; each event for each webhook, stored
        // in the transaction that gave the batch its state, with its attempts; the `notify` names
        // of a feed batch's control file.
        migrator.registerMigration("v11-webhooks") { db in
            try db.execute(
                sql: """
                    CREATE TABLE webhooks (
                        id INTEGER PRIMARY KEY,
                        name TEXT NOT NULL UNIQUE,
                        url TEXT NOT NULL,
                        events TEXT NOT NULL,
                        every_batch INTEGER NOT NULL,
                        secret TEXT NOT NULL,
                        created INTEGER NOT NULL
                    );
                    CREATE TABLE webhook_deliveries (
                        id TEXT PRIMARY KEY,
                        webhook TEXT NOT NULL,
                        url TEXT NOT NULL,
                        batch TEXT NOT NULL,
                        event TEXT NOT NULL,
                        batch_state TEXT NOT NULL,
                        created INTEGER NOT NULL,
                        state TEXT NOT NULL,
                        next_attempt INTEGER,
                        lease_until INTEGER NOT NULL DEFAULT 0,
                        body TEXT,
                        attempts TEXT NOT NULL DEFAULT ''
                    );
                    CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt) WHERE state = 'pending';
                    CREATE INDEX webhook_deliveries_batch ON webhook_deliveries (batch, created);
                    ALTER TABLE batches ADD COLUMN notify TEXT;
                    """)
        }
        // Objects deleted by a feed's leavers (docs/feeds.md): the flag on the object is what lists
        // and lookups leave out; the flag on a version says the object was deleted as of it, so a
        // rollback restores the state with the values.
        migrator.registerMigration("v12-deleted-objects") { db in
            try db.execute(
                sql: """
                    ALTER TABLE objects ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE object_versions ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
                    """)
        }
        // Facts about the data directory itself: which Intake last opened it (SchemaVersion), so an
        // older Intake can say which version it would need.
        migrator.registerMigration("v13-metadata") { db in
            try db.execute(sql: "CREATE TABLE metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        }
        // Push APIs (docs/push-apis.md): named endpoints that run a control file over a request body.
        migrator.registerMigration("v14-push-apis") { db in
            try db.execute(
                sql: """
                    CREATE TABLE push_apis (
                        name TEXT PRIMARY KEY,
                        description TEXT NOT NULL,
                        enabled INTEGER NOT NULL,
                        response TEXT NOT NULL,
                        control TEXT NOT NULL,
                        body_limit INTEGER NOT NULL,
                        created INTEGER NOT NULL,
                        updated INTEGER NOT NULL
                    )
                    """)
        }
        // A batch's own error limit, given on schedule (`maxErrors=N`, docs/api.md).
        migrator.registerMigration("v15-batch-max-errors") { db in
            try db.execute(sql: "ALTER TABLE batches ADD COLUMN max_errors INTEGER")
        }
        // API keys that stop working on a date (`intake apikey create --expires`).
        migrator.registerMigration("v16-api-key-expiry") { db in
            try db.execute(sql: "ALTER TABLE api_keys ADD COLUMN expires INTEGER")
        }
        // Admin roles (docs/admin-ui.md "Roles"): the accounts made before them keep every right.
        migrator.registerMigration("v17-admin-roles") { db in
            try db.execute(sql: "ALTER TABLE admin_accounts ADD COLUMN role TEXT NOT NULL DEFAULT 'admin'")
        }
        // Keys narrowed to one push API or one feed (`intake apikey create --push-api / --feed`).
        migrator.registerMigration("v18-api-key-restriction") { db in
            try db.execute(sql: "ALTER TABLE api_keys ADD COLUMN restriction TEXT")
        }
        // A feed's skip check asks, for each unchanged record, which object a username or behaviour
        // finds and at which version: the lookup indexes hold both, so it reads no object row (a
        // third less time for that lookup, docs/DECISIONS.md "Feeds"). The engine's lookups use
        // them as before (the first live object by ref).
        migrator.registerMigration("v19-covering-lookup-indexes") { db in
            try db.execute(
                sql: """
                    DROP INDEX objects_username;
                    CREATE INDEX objects_username ON objects (username, deleted, ref, version) WHERE username IS NOT NULL;
                    DROP INDEX objects_behaviour;
                    CREATE INDEX objects_behaviour ON objects (behaviour, deleted, ref, version) WHERE behaviour IS NOT NULL;
                    """)
        }
        return migrator
    }
}
