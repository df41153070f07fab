import Foundation
import IntakeCore
import IntakeStore
import IntakeTesting
import PostgresNIO
import Testing

@testable import IntakePostgres

/// As on SQLite: the database records which Intake opened it, and one written by a newer Intake is
/// refused before anything changes.
@Suite struct PostgresSchemaVersionTests {
    @Test func aDatabaseOfANewerIntakeIsRefusedUntouched() async throws {
        let url = try await TestPostgres.newDatabaseURL()
        let database = try TestPostgres.database(url: url, poolSize: 1)
        defer { database.close() }
        _ = try await PostgresBatchStore(database: database)
        let writtenBy = try await database.query("SELECT value FROM intake_metadata WHERE key = 'written-by'").rows.first?.decode(String.self)
        #expect(writtenBy == IntakeVersion.current)
        try await database.query("INSERT INTO intake_migrations (name, applied) VALUES ('v30-from-the-future', 0)")
        try await database.query("UPDATE intake_metadata SET value = '9.1.0' WHERE key = 'written-by'")
        let known = SchemaVersion.schema(ofMigrations: PostgresMigrations.migrations.map(\.name))
        await #expect(throws: SchemaTooNew(place: "database", writtenBy: "9.1.0", storedSchema: 30, knownSchema: known)) {
            try await PostgresBatchStore(database: database)
        }
        let after = try await database.query("SELECT value FROM intake_metadata WHERE key = 'written-by'").rows.first?.decode(String.self)
        #expect(after == "9.1.0")
    }
}
