import Foundation
import GRDB
import IntakeCore
import IntakeStore
import Testing

@testable import IntakeSQLite

/// The SQLite store's own lease behaviour, beyond the store contract.
@Suite struct JobLeaseTests {
    let directory: URL
    let path: String
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    init() throws {
        directory = FileManager().temporaryDirectory.appendingPathComponent("intake-lease-\(UUID().uuidString)")
        try FileManager().createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("intake.sqlite").path
    }

    private func store(_ name: String, maxCrashes: Int = 2) throws -> SQLiteBatchStore {
        try SQLiteBatchStore(path: path, lease: JobLease(owner: "otherhost 1 \(name)", duration: 30, maxCrashes: maxCrashes))
    }

    private func scheduledBatch(in store: SQLiteBatchStore) async throws -> BatchID {
        let id = BatchID.random()
        try await store.addControlFile(digest: Digest(hex: String(repeating: "a", count: 64))!, size: 1, comment: "c", now: start)
        try await store.createBatch(
            id: id, control: Digest(hex: String(repeating: "a", count: 64))!, comment: "b",
            state: .uploading, now: start)
        try await store.schedule(id, dryRun: false, by: "test", now: start)
        return id
    }

    // The lease rules every backend must follow are in the store contract (StoreContractTests);
    // these are the SQLite store's own: the audit trail and the liveness check of local owners.

    @Test func aTakeoverIsAudited() async throws {
        let a = try store("a"), b = try store("b")
        let id = try await scheduledBatch(in: a)
        _ = try await a.claimNextBatch(now: start)
        #expect(try await b.claimNextBatch(now: start.addingTimeInterval(31))?.id == id)
        let audit = try await DatabaseQueue(path: path).read { db in try String.fetchAll(db, sql: "SELECT detail FROM audit WHERE event = 'taken over'") }
        #expect(audit == ["from otherhost 1 a by otherhost 1 b at record 0"])
    }

    /// A long chunk transaction (the first one of a big file waits for its well-formedness check)
    /// renews the lease from when it commits, not from when it began.
    @Test func aLongTransactionRenewsTheLeaseFromItsCommit() async throws {
        let a = try SQLiteBatchStore(path: path, lease: JobLease(owner: "otherhost 1 a", duration: 5))
        let b = try SQLiteBatchStore(path: path, lease: JobLease(owner: "otherhost 1 b", duration: 5))
        let id = try await scheduledBatch(in: a)
        let began = Date()
        _ = try await a.claimNextBatch(now: began)
        try a.inImportTransaction(batch: id, now: began) { _ in Thread.sleep(forTimeInterval: 6) }
        // Eight seconds after the transaction began: past a lease renewed from its start (5 s),
        // within one renewed from its commit (6 s or more, plus 5). A fixed time rather than the
        // clock, so a busy machine cannot stretch the gap between the commit and this claim.
        #expect(try await b.claimNextBatch(now: began.addingTimeInterval(8)) == nil)
    }

    @Test func theLeaseOfADeadProcessOnThisHostIsTakenOverAtOnce() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        let deadOwner = "\(JobLease.hostName) \(process.processIdentifier) dead"
        let dead = try SQLiteBatchStore(path: path, lease: JobLease(owner: deadOwner))
        let id = try await scheduledBatch(in: dead)
        _ = try await dead.claimNextBatch(now: start)
        #expect(try await store("b").claimNextBatch(now: start.addingTimeInterval(1))?.id == id)
    }
}
