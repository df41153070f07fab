import Foundation
import GRDB
import IntakeCore
import IntakeStore
import IntakeTesting
import Testing

@testable import IntakeSQLite

extension UpgradeTests {
    /// The schema this build writes: the highest SQLite migration.
    static var knownSchema: Int { SchemaVersion.schema(ofMigrations: SQLiteMigrations.migrator().migrations) }
}

/// Data written by every earlier release opens in this one and keeps everything.
///
/// The fixtures under `Tests/upgrade/fixtures/VERSION` were written by each release's own binary
/// (`Tests/upgrade/make-fixtures`): the same control file, a first import of three people, a second
/// that updates one, adds one and logs an error, and a dry run; an API key, and an admin account and
/// a session where the release had them. Each is copied, opened by the current `intake serve` (which
/// migrates it), read back through the API and the admin UI, then imported into and rolled back.
@Suite struct UpgradeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = root.appendingPathComponent("Tests/upgrade/fixtures")
    static let data = root.appendingPathComponent("Tests/upgrade/data")

    /// Every release named in Tests/upgrade/releases: each must have its fixture.
    static let releases: [String] = {
        let text = (try? String(contentsOf: root.appendingPathComponent("Tests/upgrade/releases"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { $0.split(separator: " ").first.map(String.init) }
    }()

    @Test func everyReleaseHasAFixture() {
        #expect(Self.releases.count >= 5)
        for version in Self.releases {
            #expect(FileManager().fileExists(atPath: Self.fixtures.appendingPathComponent("\(version)/data/intake.sqlite").path), "\(version)")
        }
    }

    @Test(arguments: releases) func aDataDirectoryOfAnEarlierReleaseKeepsEverything(version: String) async throws {
        let fixture = Self.fixtures.appendingPathComponent(version)
        let directory = try TestServer.makeDirectory().appendingPathComponent("data")
        try FileManager().copyItem(at: fixture.appendingPathComponent("data"), to: directory)
        let server = try await ServerProcess.start(data: directory, arguments: ["--database", ""])
        defer { server.stopWithoutWaiting() }
        try await Self.checkEverythingIsKept(version: version, fixture: fixture, port: server.port)
        try await server.terminate()
    }

    /// 0.7.0 was the first release with PostgreSQL; its database is kept as a plain dump.
    @Test func aPostgreSQLDatabaseOfAnEarlierReleaseKeepsEverything() async throws {
        let versions = Self.releases.filter { FileManager().fileExists(atPath: Self.fixtures.appendingPathComponent("\($0)/postgres").path) }
        #expect(versions.contains("0.7.0"))
        for version in versions {
            let fixture = Self.fixtures.appendingPathComponent("\(version)/postgres")
            let url = try await TestPostgres.newDatabaseURL()
            _ = try await Process.output(
                "/usr/bin/env", ["psql", "--quiet", "--set", "ON_ERROR_STOP=1", "--dbname", url, "--file", fixture.appendingPathComponent("database.sql").path])
            let server = try await ServerProcess.start(data: try TestServer.makeDirectory(), arguments: ["--database", url])
            defer { server.stopWithoutWaiting() }
            try await Self.checkEverythingIsKept(version: version, fixture: fixture, port: server.port)
            try await server.terminate()
        }
    }

    /// What an operator sees when an older Intake is started on a data directory a newer one wrote:
    /// one line saying what to do, exit status 1, the server not started and the store as it was.
    @Test func aDataDirectoryOfANewerIntakeIsRefusedInOneLine() async throws {
        let directory = try TestServer.makeDirectory().appendingPathComponent("data")
        let created = try await ClientCommandTests.intake(["apikey", "list", "--data", directory.path, "--database", ""])
        #expect(created.status == 0, "\(created.stderr)")
        let database = directory.appendingPathComponent("intake.sqlite").path
        let schema = try await DatabaseQueue(path: database).write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
            try db.execute(sql: "UPDATE metadata SET value = '9.0.0' WHERE key = 'written-by'")
            return try String.fetchAll(db, sql: "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
        }
        let outcome = try await ClientCommandTests.intake(["serve", "--data", directory.path, "--database", "", "--port", "0"])
        #expect(outcome.status == 1)
        let expected =
            "This data directory was written by Intake 9.0.0 (schema v99); this is Intake \(IntakeVersion.current), which knows schema v\(Self.knownSchema). "
            + "Upgrade Intake, or restore a backup made before the upgrade."
        #expect(outcome.stderr.split(separator: "\n").map(String.init) == ["Error: \(expected)"], "\(outcome.stderr)")
        #expect(!outcome.stdout.contains("listening"))
        let after = try await DatabaseQueue(path: database).read { db in
            (
                try String.fetchAll(db, sql: "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name"),
                try String.fetchOne(db, sql: "SELECT value FROM metadata WHERE key = 'written-by'")
            )
        }
        #expect(after.0 == schema && after.1 == "9.0.0", "nothing changed")
    }

    static func checkEverythingIsKept(version: String, fixture: URL, port: Int) async throws {
        let key = try String(contentsOf: fixture.appendingPathComponent("api-key"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let endpoint = RemoteServer(port: port, apiKey: key)
        let client = BatchClient(endpoint)

        // Batches, their logs and results; the key still authenticates.
        let listing = try await client.get("/api/v1/batches?limit=10")
        #expect(listing.status == 200, "\(version): the fixture's API key: \(listing.body)")
        let batches = try JSONParser.parse(listing.body)["batches"]?.arrayValue ?? []
        let states = Dictionary(uniqueKeysWithValues: batches.compactMap { batch in batch["comment"]?.stringValue.map { ($0, batch) } })
        #expect(states["Night 1"]?["state"]?.stringValue == "complete", "\(version)")
        #expect(states["Night 3, dry run"]?["state"]?.stringValue == "dry-run", "\(version)")
        let night2 = try #require(states["Night 2"]?["identifier"]?.stringValue, "\(version): \(listing.body)")
        #expect(states["Night 2"]?["state"]?.stringValue == "complete")
        let log = try await client.get("/api/haplo-data-import-batch/log?batch=\(night2)").body
        #expect(log.contains("Invalid email address for input field email: not-an-email (record 3)"), "\(version): \(log)")
        let results = try await client.results(night2)
        #expect(results.map { $0["status"]?.stringValue ?? "" } == ["unchanged", "applied", "unchanged", "applied"], "\(version)")

        // Objects and their history.
        let people = try JSONParser.parse(try await client.get("/api/v1/objects?type=std:type:person&subtypes=true").body)["objects"]?.arrayValue ?? []
        #expect(people.count == 4, "\(version)")
        let ann = try #require(try await Self.person("Ann Smith", client), "\(version)")
        let history = try JSONParser.parse(try await client.get("/api/v1/objects/\(ann)/history").body)["versions"]?.arrayValue ?? []
        #expect(history.count == 2, "\(version): Ann's two versions")

        // Admin accounts sign in; an old session is either still good or expired, never an error.
        if let password = try? String(contentsOf: fixture.appendingPathComponent("admin-password"), encoding: .utf8) {
            let signIn = try await Curl.run([
                "-H", "Origin: \(endpoint.base)", "--data-urlencode", "username=fixture",
                "--data-urlencode", "password=\(password.trimmingCharacters(in: .whitespacesAndNewlines))", "\(endpoint.base)/admin/login"
            ])
            #expect(signIn.status == 303 && signIn.headers.contains("intake_session="), "\(version): \(signIn.status) \(signIn.body)")
        }
        if let session = try? String(contentsOf: fixture.appendingPathComponent("admin-session"), encoding: .utf8) {
            let page = try await Curl.run(["-H", "Cookie: intake_session=\(session.trimmingCharacters(in: .whitespacesAndNewlines))", "\(endpoint.base)/admin"])
            #expect([200, 303].contains(page.status), "\(version): \(page.status)")
        }

        // A new night imports over the old data, and rolls back.
        let joe = try #require(try await Self.person("Joe Bloggs", client))
        let batch = try await client.prepareBatch(
            control: data.appendingPathComponent("control.json"), files: [("people", data.appendingPathComponent("night-3.json"))])
        _ = try await client.schedule(batch: batch)
        let status = try await client.waitForBatch(batch)
        #expect(status["state"]?.stringValue == "complete", "\(version): \(status)")
        #expect(try await Self.jobTitle(joe, client) == "Senior Lecturer")
        let rollback = try await client.post("rollback", ["batch": batch])
        #expect(rollback.status == 200, "\(version): \(rollback.body)")
        #expect(try await Self.jobTitle(joe, client) == "Lecturer", "\(version)")
        let after = try JSONParser.parse(try await client.get("/api/haplo-data-import-batch/status?batch=\(batch)").body)
        #expect(after["state"]?.stringValue == "rolled-back")
    }

    static func person(_ title: String, _ client: BatchClient) async throws -> String? {
        let query = title.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? title
        let found = try JSONParser.parse(try await client.get("/api/v1/objects?type=std:type:person&subtypes=true&title=\(query)").body)
        return found["objects"]?.arrayValue?.first?["ref"]?.stringValue
    }

    static func jobTitle(_ ref: String, _ client: BatchClient) async throws -> String? {
        let object = try JSONParser.parse(try await client.get("/api/v1/objects/\(ref)").body)
        return object["attributes"]?["std:attribute:job-title"]?.arrayValue?.first?["text"]?.stringValue
    }
}
