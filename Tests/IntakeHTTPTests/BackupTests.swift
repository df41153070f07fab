import Foundation
import Testing

/// `intake backup` and `intake restore` (docs/cookbook.md "Backups"): a backup made while the server
/// runs restores to a data directory a server opens with everything in it; copies are private; a
/// damaged backup or a used target is refused with nothing written. SQLite only: a PostgreSQL
/// database is backed up with pg_dump.
@Suite(.serialized) struct BackupTests {
    static func mode(_ path: String) throws -> Int {
        ((try FileManager().attributesOfItem(atPath: path))[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test func aBackupMadeWhileTheServerRunsRestoresEverything() async throws {
        let data = try TestServer.makeDirectory()
        let server = try await ServerProcess.start(data: data)
        defer { server.stopWithoutWaiting() }
        let key = try #require(server.apiKey)
        let connection = ["--server", "http://127.0.0.1:\(server.port)", "--key", key]
        let push = try await ClientCommandTests.intake(
            ["push"] + connection + [
                "--control", "\(ClientCommandTests.examples)/control.json", "--file", "data0=\(try ClientCommandTests.cleanData().path)", "--wait"
            ])
        #expect(push.status == 0, "\(push)")

        let backup = FileManager().temporaryDirectory.appendingPathComponent("backup-\(UUID().uuidString)").path
        let made = try await ClientCommandTests.intake(["backup", "--data", data.path, "--to", backup])
        #expect(
            made.status == 0 && made.stdout.hasPrefix("Backed up \(data.path) to \(backup): the database (") && made.stdout.contains("and 2 stored files"),
            "\(made)")
        #expect(try Self.mode(backup) == 0o700 && Self.mode(backup + "/intake.sqlite") == 0o600)
        let blobs = try FileManager().subpathsOfDirectory(atPath: backup + "/blobs").filter { $0.count > 3 }
        #expect(blobs.count == 2)
        for blob in blobs { #expect(try Self.mode(backup + "/blobs/" + blob) == 0o600) }
        try await server.terminate()

        let restored = FileManager().temporaryDirectory.appendingPathComponent("restored-\(UUID().uuidString)").path
        let restore = try await ClientCommandTests.intake(["restore", "--from", backup, "--data", restored])
        #expect(restore.status == 0 && restore.stdout.hasPrefix("Restored \(backup) to \(restored): "), "\(restore)")
        #expect(try Self.mode(restored) == 0o700 && Self.mode(restored + "/intake.sqlite") == 0o600)
        // The restored directory serves what was imported, to the key made before the backup.
        let again = try await ServerProcess.start(data: URL(fileURLWithPath: restored))
        defer { again.stopWithoutWaiting() }
        let objects = try await Curl.run(["--user", "haplo:\(key)", "http://127.0.0.1:\(again.port)/api/v1/objects"])
        #expect(objects.status == 200 && objects.body.contains("Ada Lovelace"), "\(objects.body)")
        try await again.terminate()

        // A used target is refused; so is a damaged backup, before anything is written.
        let used = try await ClientCommandTests.intake(["restore", "--from", backup, "--data", restored])
        #expect(used.status != 0 && used.stderr.contains("\(restored) is not empty: give a new or empty folder"), "\(used)")
        let blob = URL(fileURLWithPath: backup + "/blobs/" + blobs[0])
        var bytes = try Data(contentsOf: blob)
        bytes[0] ^= 0xFF
        try bytes.write(to: blob)
        let fresh = FileManager().temporaryDirectory.appendingPathComponent("restored-\(UUID().uuidString)").path
        let damaged = try await ClientCommandTests.intake(["restore", "--from", backup, "--data", fresh])
        #expect(damaged.status != 0 && damaged.stderr.contains("The backup at \(backup) is damaged, so nothing was restored"), "\(damaged)")
        #expect(!FileManager().fileExists(atPath: fresh))
        let noData = try await ClientCommandTests.intake(["backup", "--data", fresh, "--to", fresh + "-backup"])
        #expect(noData.status != 0 && noData.stderr.contains("No data directory at \(fresh)"), "\(noData)")
    }
}
