import Foundation
import GRDB
import IntakeCore
import IntakeStore
import Testing

@testable import IntakeSQLite

/// A data directory records which Intake last opened it; one written by a newer Intake (a migration
/// this build does not know) is refused in one line, before anything in it changes.
@Suite struct SchemaVersionTests {
    @Test func aDataDirectoryRecordsWhichIntakeOpenedIt() throws {
        let path = try Self.newDatabasePath()
        _ = try SQLiteBatchStore(path: path)
        let writtenBy = try DatabaseQueue(path: path).read { db in
            try String.fetchOne(db, sql: "SELECT value FROM metadata WHERE key = 'written-by'")
        }
        #expect(writtenBy == IntakeVersion.current)
    }

    @Test func aDataDirectoryOfANewerIntakeIsRefusedUntouched() throws {
        let path = try Self.newDatabasePath()
        _ = try SQLiteBatchStore(path: path)
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v40-from-the-future')")
            try db.execute(sql: "UPDATE metadata SET value = '9.1.0' WHERE key = 'written-by'")
        }
        let before = try Self.digest(path)
        let known = SchemaVersion.schema(ofMigrations: SQLiteMigrations.migrator().migrations)
        #expect(throws: SchemaTooNew(place: "data directory", writtenBy: "9.1.0", storedSchema: 40, knownSchema: known)) {
            try SQLiteBatchStore(path: path)
        }
        #expect(try Self.digest(path) == before)
        #expect(
            "\(SchemaTooNew(place: "data directory", writtenBy: "9.1.0", storedSchema: 40, knownSchema: 13))"
                == "This data directory was written by Intake 9.1.0 (schema v40); this is Intake \(IntakeVersion.current), "
                + "which knows schema v13. Upgrade Intake, or restore a backup made before the upgrade.")
    }

    @Test func schemaNumbersComeFromMigrationNames() {
        #expect(SchemaVersion.number(ofMigration: "v12-deleted-objects") == 12)
        #expect(SchemaVersion.number(ofMigration: "v1") == 1)
        #expect(SchemaVersion.number(ofMigration: "initial") == nil)
        #expect(SchemaVersion.schema(ofMigrations: ["v1", "v3-leases", "v2-titles"]) == 3)
    }

    static func newDatabasePath() throws -> String {
        let directory = FileManager().temporaryDirectory.appendingPathComponent("intake-schema-\(UUID().uuidString)")
        try FileManager().createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent("intake.sqlite").path
    }

    /// What an opening could change: the schema, the migrations applied and the metadata. (The
    /// files' bytes are no measure: SQLite folds the write-ahead log into the database when the last
    /// connection closes.)
    static func digest(_ path: String) throws -> [String] {
        try DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_master ORDER BY name")
                + String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier")
                + String.fetchAll(db, sql: "SELECT key || '=' || value FROM metadata ORDER BY key")
        }
    }
}
