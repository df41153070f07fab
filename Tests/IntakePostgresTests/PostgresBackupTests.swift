import Foundation
import IntakeCore
import IntakePostgres
import IntakeStore
import IntakeTesting
import Testing

/// A PostgreSQL database holds everything (batches, objects, keys, and the uploaded files), so
/// `pg_dump` and `pg_restore` are its backup and restore (docs/cookbook.md "Backups"): the round
/// trip, with PostgreSQL's own tools, keeps all of it.
@Suite struct PostgresBackupTests {
    /// A PostgreSQL client tool: on PATH, or in Debian's versioned folder.
    static func tool(_ name: String) throws -> String {
        let folders =
            (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
            + ((try? FileManager().contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).sorted().reversed().map { "/usr/lib/postgresql/\($0)/bin" }
        guard let path = folders.map({ "\($0)/\(name)" }).first(where: FileManager().isExecutableFile(atPath:)) else {
            throw ContractFailure("\(name) is missing: install PostgreSQL's client tools (Debian: apt-get install -y postgresql)")
        }
        return path
    }

    static func run(_ arguments: [String]) async throws {
        let out = FileManager().temporaryDirectory.appendingPathComponent("pg-tool-\(UUID().uuidString)").path
        let status = try spawnAndWait(arguments, stdout: out, stderr: out)
        let printed = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        try? FileManager().removeItem(atPath: out)
        guard status == 0 else { throw ContractFailure("\(arguments[0]) failed (\(status)): \(printed)") }
    }

    @Test func pgDumpAndPgRestoreKeepEverything() async throws {
        let source = try await TestPostgres.newDatabaseURL()
        let database = try TestPostgres.database(url: source, poolSize: 2)
        let store = try await PostgresBatchStore(database: database)
        let blobs = PostgresBlobStorage(database: database)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let upload = try blobs.makeUpload()
        let bytes = Array(#"[{"name":"Ada"}]"#.utf8)
        try bytes.withUnsafeBytes { try upload.write($0) }
        let (digest, size) = try await upload.finish()
        try await store.addControlFile(digest: digest, size: size, comment: "people", uploadedBy: nil, now: now)
        _ = try await store.createAPIKey(name: "nightly", scope: .batch, hash: APIKeyHashing.hash("ik_backup_test"), now: now)
        let batch = BatchID.random()
        try await store.createBatch(id: batch, control: digest, comment: "night", state: .uploading, now: now)
        try await store.startDirectRun(batch, dryRun: false, by: "test", now: now)
        let ref = try store.inImportTransaction(batch: batch, now: now) { tx in
            let ref = try tx.allocateRef()
            _ = try tx.save(ref: ref, values: [ObjectValue(attribute: StandardSchema.titleAttribute, value: .text(.text, "Ada"))], isNew: true)
            return ref
        }
        try await store.finish(batch, state: .complete, progress: RunProgress(), logLines: ["START", "END"], now: now)
        database.close()

        let dump = FileManager().temporaryDirectory.appendingPathComponent("intake-\(UUID().uuidString).dump").path
        defer { try? FileManager().removeItem(atPath: dump) }
        try await Self.run([try Self.tool("pg_dump"), "--format=custom", "--file", dump, source])
        let target = try await TestPostgres.newDatabaseURL()
        try await Self.run([try Self.tool("pg_restore"), "--no-owner", "--dbname", target, dump])

        let restoredDatabase = try TestPostgres.database(url: target, poolSize: 2)
        defer { restoredDatabase.close() }
        let restored = try await PostgresBatchStore(database: restoredDatabase)
        #expect(try PostgresBlobStorage(database: restoredDatabase).contents(of: digest, limit: 1000) == bytes)
        #expect(try await restored.controlFileExists(digest))
        #expect(try await restored.useAPIKey(hash: APIKeyHashing.hash("ik_backup_test"), now: now)?.name == "nightly")
        #expect(try await restored.batch(batch)?.state == .complete)
        #expect(try await restored.log(of: batch) == ["START", "END"])
        #expect(try await restored.object(ref)?.title == "Ada")
    }
}
