import Foundation
import GRDB
import IntakeCore
@testable import IntakeSQLite
import IntakeStore
import Testing

/// The job queue's owners and leases: two stores on one database file stand for two processes sharing
/// a data directory. A batch is run by one owner at a time, and a writer that lost its lease commits
/// nothing more.
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
        try await store.createBatch(id: id, control: Digest(hex: String(repeating: "a", count: 64))!, comment: "b",
                                    state: .uploading, now: start)
        try await store.schedule(id, dryRun: false, by: "test", now: start)
        return id
    }

    private func commitChunk(_ store: SQLiteBatchStore, _ id: BatchID, recordsRead: Int, at now: Date) throws {
        try store.inImportTransaction(batch: id, now: now) { tx in
            _ = try tx.save(ref: try tx.allocateRef(), values: [ObjectValue(attribute: StandardSchema.titleAttribute, value: .text(.text, "x"))], isNew: true)
            var progress = RunProgress()
            progress.recordsRead = recordsRead
            try tx.saveProgress(progress)
        }
    }

    private func objectCount() throws -> Int {
        try DatabaseQueue(path: path).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM objects") ?? -1 }
    }

    @Test func aRunningBatchIsNotClaimedTwiceWhileItsLeaseHolds() async throws {
        let a = try store("a"), b = try store("b")
        let id = try await scheduledBatch(in: a)
        #expect(try await a.claimNextBatch(now: start)?.id == id)
        #expect(try await b.claimNextBatch(now: start.addingTimeInterval(29)) == nil)
        try await a.renewLease(id, now: start.addingTimeInterval(25))
        #expect(try await b.claimNextBatch(now: start.addingTimeInterval(50)) == nil)
        try commitChunk(a, id, recordsRead: 1, at: start.addingTimeInterval(51))
        #expect(try objectCount() == 1)
    }

    @Test func aWriterWhoseLeaseWasTakenOverCommitsNothingMore() async throws {
        let a = try store("a"), b = try store("b")
        let id = try await scheduledBatch(in: a)
        _ = try await a.claimNextBatch(now: start)
        try commitChunk(a, id, recordsRead: 1, at: start)
        // a stalls past its lease; b takes over.
        let later = start.addingTimeInterval(31)
        #expect(try await b.claimNextBatch(now: later)?.id == id)
        #expect(throws: LeaseLost.self) { try commitChunk(a, id, recordsRead: 2, at: later) }
        await #expect(throws: LeaseLost.self) { try await a.renewLease(id, now: later) }
        await #expect(throws: LeaseLost.self) {
            try await a.finish(id, state: .complete, progress: RunProgress(), logLines: ["END"], now: later)
        }
        #expect(try objectCount() == 1)  // a's second chunk was rolled back whole
        try commitChunk(b, id, recordsRead: 2, at: later)
        #expect(try objectCount() == 2)
        try await b.finish(id, state: .complete, progress: RunProgress(), logLines: [], now: later)
        let finished = try await a.batch(id)
        #expect(finished?.state == .complete)
        let audit = try await DatabaseQueue(path: path).read { db in try String.fetchAll(db, sql: "SELECT event FROM audit") }
        #expect(audit.contains("taken over"))
    }

    @Test func aReleasedBatchIsResumedAtOnceAndNotCountedAsACrash() async throws {
        let a = try store("a", maxCrashes: 1), b = try store("b", maxCrashes: 1)
        let id = try await scheduledBatch(in: a)
        _ = try await a.claimNextBatch(now: start)
        try await a.releaseLease(id)
        let resumed = try await b.claimNextBatch(now: start)
        #expect(resumed?.id == id)
        #expect(resumed?.state == .running)
    }

    @Test func aRunThatDiesWithoutProgressTwiceEndsInError() async throws {
        let a = try store("a"), b = try store("b"), c = try store("c")
        let id = try await scheduledBatch(in: a)
        _ = try await a.claimNextBatch(now: start)
        try commitChunk(a, id, recordsRead: 10, at: start)
        // a dies after some progress; b takes over and dies before committing anything.
        #expect(try await b.claimNextBatch(now: start.addingTimeInterval(31))?.id == id)
        // c finds the second crash in a row at record 10 and ends the batch.
        #expect(try await c.claimNextBatch(now: start.addingTimeInterval(62)) == nil)
        let batch = try #require(try await c.batch(id))
        #expect(batch.state == .error)
        #expect(batch.progress.errors == 1)
        let log = try await c.log(of: id)
        #expect(log.count == 2)
        #expect(log.first?.hasPrefix("EXCEPTION: Error during import: the run of this batch ended the process 2 times in a row") == true)
        #expect(log.last?.hasPrefix("END: ") == true)
    }

    @Test func progressBetweenCrashesKeepsTheBatchRunning() async throws {
        let a = try store("a"), b = try store("b"), c = try store("c")
        let id = try await scheduledBatch(in: a)
        _ = try await a.claimNextBatch(now: start)
        #expect(try await b.claimNextBatch(now: start.addingTimeInterval(31))?.id == id)
        try commitChunk(b, id, recordsRead: 5, at: start.addingTimeInterval(31))
        #expect(try await c.claimNextBatch(now: start.addingTimeInterval(62))?.id == id)
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
