// IntakeTesting: what every storage backend must do, as checks that any test target can run against
// its store. Imports IntakeStore and IntakeCore only. The SQLite backend runs it in
// Tests/IntakeSQLiteTests/StoreContractTests.swift.
import Foundation
import IntakeCore
import IntakeStore

/// Opens stores of the backend under test. Stores made by one fixture share one database, each
/// with its own lease owner: they stand for processes (or nodes) sharing the work.
package protocol StoreFixture: Sendable {
    func makeStore(lease: JobLease) async throws -> any BatchStore
}

/// A contract check that did not hold.
package struct ContractFailure: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}

/// The store contract: every requirement of the role protocols that callers rely on, checked through
/// the protocols alone.
package enum StoreContract {
    package struct Case: Sendable, CustomStringConvertible {
        package let name: String
        package let check: @Sendable (any StoreFixture) async throws -> Void
        package var description: String { name }
    }

    package static let cases: [Case] = [
        Case(name: "control files are recorded by digest", check: controlFiles),
        Case(name: "a batch goes from uploading to scheduled, and files keep their first position", check: batchLifecycle),
        Case(name: "files and scheduling are refused unless uploading", check: wrongStates),
        Case(name: "a running batch is not claimed twice while its lease holds", check: leaseHolds),
        Case(name: "a writer whose lease was taken over commits nothing more", check: takenOverWriterIsFenced),
        Case(name: "a released batch is resumed at once, not counted as a crash", check: releasedBatchResumes),
        Case(name: "a run that crashes its process twice without progress ends in error", check: poisonBatch),
        Case(name: "processes stopped from outside are not crashes, until they are too many", check: stopsWithoutAReportAreNotCrashes),
        Case(name: "progress between crashes keeps the batch running", check: progressResetsCrashes),
        Case(name: "a takeover after committed work is in the batch's log, and the run resumes after it", check: takeoverIsLogged),
        Case(name: "result pages start inside chunks and cross them; log pages", check: paging),
        Case(name: "cancel: scheduled at once, running flagged, finished refused", check: cancelRules),
        Case(name: "copy makes an uploading batch with the same files", check: copy),
        Case(name: "API keys: create, use, revoke", check: apiKeys),
        Case(name: "ref reservations of two writers never overlap; unused ends come back only if last", check: refReservations),
        Case(name: "a chunk's collected writes are applied in one go, or not at all", check: chunkWrites),
        Case(name: "an import transaction reads its own writes; a rolled-back record's save is forgotten", check: readsOwnWrites),
        Case(name: "purge: finished batches lose log and results, digests in use are known", check: purge),
        Case(name: "admin accounts: create once, change the password, list", check: adminAccounts),
        Case(name: "admin sessions: create, update, expire, delete; audit entries", check: adminSessions),
        Case(name: "control-file records list newest first and are found by id and by digest and comment", check: controlFileRecords),
        Case(name: "a ready batch with files is scheduled only from ready, and its ready copy remembers its origin", check: readyBatches),
        Case(name: "a rollback writes history, logs who did it and leaves the batch rolled back, once", check: rollbackState),
        Case(name: "push APIs: create once, read, list by name, update, remove", check: pushAPIs)
    ]

    static let start = Date(timeIntervalSince1970: 1_800_000_000)
    static let controlDigest = Digest(hex: String(repeating: "c", count: 64))!

    static func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw ContractFailure(message()) }
    }

    static func expectThrows<E: Error>(_ type: E.Type, _ message: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch is E {
            return
        }
        throw ContractFailure(message)
    }

    static func stores(_ fixture: any StoreFixture, _ names: String..., maxCrashes: Int = 2, maxStops: Int = 10) async throws -> [any BatchStore] {
        var stores: [any BatchStore] = []
        for name in names {
            stores.append(try await fixture.makeStore(lease: JobLease(owner: "otherhost 1 \(name)", duration: 30, maxCrashes: maxCrashes, maxStops: maxStops)))
        }
        return stores
    }

    static func uploadingBatch(in store: any BatchStore, files: Int = 0) async throws -> BatchID {
        try await store.addControlFile(digest: controlDigest, size: 1, comment: "c", now: start)
        let id = BatchID.random()
        try await store.createBatch(id: id, control: controlDigest, comment: "b", state: .uploading, now: start)
        for i in 0..<files {
            try await store.addFile(BatchFile(name: "f\(i)", digest: controlDigest, size: Int64(i), filename: "f\(i).json"), to: id)
        }
        return id
    }

    static func scheduledBatch(in store: any BatchStore) async throws -> BatchID {
        let id = try await uploadingBatch(in: store)
        try await store.schedule(id, dryRun: false, by: "contract", now: start)
        return id
    }

    /// One chunk: an object and the run's position.
    static func commitChunk(_ store: any BatchStore, _ id: BatchID, recordsRead: Int, at now: Date) throws {
        try store.inImportTransaction(batch: id, now: now) { tx in
            _ = try tx.save(
                ref: try tx.allocateRef(), values: [ObjectValue(attribute: StandardSchema.titleAttribute, value: .text(.text, "x"))],
                isNew: true)
            var progress = RunProgress()
            progress.recordsRead = recordsRead
            try tx.saveProgress(progress)
        }
    }

    static func objectCount(_ store: any BatchStore) async throws -> Int {
        try await store.objects(types: nil, title: nil, after: nil, limit: 10_000).count
    }

    // MARK: Cases

    static func controlFiles(_ fixture: any StoreFixture) async throws {
        let store = try await stores(fixture, "a")[0]
        try expect(try await !store.controlFileExists(controlDigest), "an unknown digest exists")
        try await store.addControlFile(digest: controlDigest, size: 10, comment: "c", now: start)
        try await store.addControlFile(digest: controlDigest, size: 10, comment: "c", now: start)
        try expect(try await store.controlFileExists(controlDigest), "a recorded control file is missing")
    }

    static func batchLifecycle(_ fixture: any StoreFixture) async throws {
        let store = try await stores(fixture, "a")[0]
        let id = try await uploadingBatch(in: store, files: 2)
        try await store.addFile(BatchFile(name: "f0", digest: controlDigest, size: 99, filename: "again.json"), to: id)
        let batch = try await store.batch(id)
        try expect(batch?.state == .uploading, "a new batch is not uploading")
        try expect(batch?.files.map(\.name) == ["f0", "f1"], "a replaced file lost its position: \(String(describing: batch?.files))")
        try expect(batch?.files.first?.size == 99, "a replaced file was not replaced")
        try await store.schedule(id, dryRun: true, by: "contract", now: start)
        let scheduled = try await store.batch(id)
        try expect(scheduled?.state == .scheduled && scheduled?.dryRun == true, "scheduling did not take")
        try expect(try await store.batchCount(state: .scheduled) == 1, "the scheduled batch is not counted")
        try expect(try await store.batches(state: .scheduled, limit: 10).map(\.id) == [id], "the scheduled batch is not listed")
        try expect(try await store.batch(BatchID(rawValue: "nope")) == nil, "an unknown batch was found")
    }

    static func wrongStates(_ fixture: any StoreFixture) async throws {
        let store = try await stores(fixture, "a")[0]
        let id = try await scheduledBatch(in: store)
        try await expectThrows(StoreError.self, "a file was added to a scheduled batch") {
            try await store.addFile(BatchFile(name: "late", digest: controlDigest, size: 1, filename: "late"), to: id)
        }
        try await expectThrows(StoreError.self, "a scheduled batch was scheduled again") {
            try await store.schedule(id, dryRun: false, by: "contract", now: start)
        }
    }

    static func leaseHolds(_ fixture: any StoreFixture) async throws {
        let s = try await stores(fixture, "a", "b")
        let id = try await scheduledBatch(in: s[0])
        try expect(try await s[0].claimNextBatch(now: start)?.id == id, "the scheduled batch was not claimed")
        try expect(try await s[1].claimNextBatch(now: start.addingTimeInterval(29)) == nil, "a held lease was taken over")
        try await s[0].renewLease(id, now: start.addingTimeInterval(25))
        try expect(try await s[1].claimNextBatch(now: start.addingTimeInterval(50)) == nil, "a renewed lease was taken over")
        try commitChunk(s[0], id, recordsRead: 1, at: start.addingTimeInterval(51))
        try expect(try await objectCount(s[0]) == 1, "the owner's chunk was not committed")
    }

    static func takenOverWriterIsFenced(_ fixture: any StoreFixture) async throws {
        let s = try await stores(fixture, "a", "b")
        let id = try await scheduledBatch(in: s[0])
        _ = try await s[0].claimNextBatch(now: start)
        try commitChunk(s[0], id, recordsRead: 1, at: start)
        let later = start.addingTimeInterval(31)
        try expect(try await s[1].claimNextBatch(now: later)?.id == id, "an expired lease was not taken over")
        try await expectThrows(LeaseLost.self, "a writer without its lease committed") {
            try commitChunk(s[0], id, recordsRead: 2, at: later)
        }
        try await expectThrows(LeaseLost.self, "a lost lease was renewed") { try await s[0].renewLease(id, now: later) }
        try await expectThrows(LeaseLost.self, "a run without its lease finished the batch") {
            try await s[0].finish(id, state: .complete, progress: RunProgress(), logLines: ["END"], now: later)
        }
        try expect(try await objectCount(s[0]) == 1, "the fenced chunk left objects behind")
        try commitChunk(s[1], id, recordsRead: 2, at: later)
        try await s[1].finish(id, state: .complete, progress: RunProgress(), logLines: [], now: later)
        try expect(try await s[0].batch(id)?.state == .complete, "the new owner could not finish")
        try expect(try await objectCount(s[0]) == 2, "the new owner's chunk is missing")
    }

    static func releasedBatchResumes(_ fixture: any StoreFixture) async throws {
        let s = try await stores(fixture, "a", "b", maxCrashes: 1)
        let id = try await scheduledBatch(in: s[0])
        _ = try await s[0].claimNextBatch(now: start)
        try await s[0].releaseLease(id)
        let resumed = try await s[1].claimNextBatch(now: start)
        try expect(resumed?.id == id && resumed?.state == .running, "a released batch was not resumed at once")
    }

    static func poisonBatch(_ fixture: any StoreFixture) async throws {
        let s = try await stores(fixture, "a", "b", "c")
        let id = try await scheduledBatch(in: s[0])
        _ = try await s[0].claimNextBatch(now: start)
        try commitChunk(s[0], id, recordsRead: 10, at: start)
        try await s[0].reportCrash(id, now: start.addingTimeInterval(1))
        try expect(try await s[1].claimNextBatch(now: start.addingTimeInterval(31))?.id == id, "a crashed run was not taken over")
        try await s[1].reportCrash(id, now: start.addingTimeInterval(40))
        try expect(try await s[2].claimNextBatch(now: start.addingTimeInterval(62)) == nil, "a poisonous batch was claimed again")
        let batch = try await s[2].batch(id)
        try expect(batch?.state == .error && batch?.progress.errors == 1, "a poisonous batch did not end in error")
        let log = try await s[2].log(of: id)
        try expect(
            log.count == 2 && log[0].hasPrefix("EXCEPTION: Error during import: the run of this batch ended the process 2 times in a row")
                && log[1].hasPrefix("END: "), "the poison log lines are wrong: \(log)")
        // A report about a batch that is no longer running changes nothing.
        try await s[0].reportCrash(id, now: start.addingTimeInterval(70))
        try expect(try await s[2].log(of: id).count == 2, "a report changed a finished batch")
    }

    static func stopsWithoutAReportAreNotCrashes(_ fixture: any StoreFixture) async throws {
        let s = try await stores(fixture, "a", "b", "c", maxStops: 3)
        let id = try await scheduledBatch(in: s[0])
        _ = try await s[0].claimNextBatch(now: start)
        // Processes killed from outside twice in a row, none committing a record: more than
        // `maxCrashes` (2) but not a poison batch, since no process reported a crash.
        for k in 1...2 {
            let resumed = try await s[k].claimNextBatch(now: start.addingTimeInterval(Double(31 * k)))
            try expect(resumed?.id == id && resumed?.state == .running, "a batch whose process was killed \(k) times was not resumed")
        }
        // The third stop in a row reaches `maxStops`.
        try expect(try await s[0].claimNextBatch(now: start.addingTimeInterval(93)) == nil, "a batch stopped three times was claimed again")
        let log = try await s[0].log(of: id)
        try expect(
            log.first?.hasPrefix("EXCEPTION: Error during import: the process running this batch was stopped from outside 3 times in a row") == true,
            "the stop log line is wrong: \(log)")
    }

    static func progressResetsCrashes(_ fixture: any StoreFixture) async throws {
        let s = try await stores(fixture, "a", "b", "c")
        let id = try await scheduledBatch(in: s[0])
        _ = try await s[0].claimNextBatch(now: start)
        try await s[0].reportCrash(id, now: start.addingTimeInterval(1))
        _ = try await s[1].claimNextBatch(now: start.addingTimeInterval(31))
        try commitChunk(s[1], id, recordsRead: 5, at: start.addingTimeInterval(31))
        try await s[1].reportCrash(id, now: start.addingTimeInterval(40))
        try expect(try await s[2].claimNextBatch(now: start.addingTimeInterval(62))?.id == id, "progress did not reset the crash count")
    }

    static func takeoverIsLogged(_ fixture: any StoreFixture) async throws {
        let s = try await stores(fixture, "a", "b")
        let id = try await scheduledBatch(in: s[0])
        _ = try await s[0].claimNextBatch(now: start)
        try s[0].inImportTransaction(batch: id, now: start) { tx in
            try tx.appendLog(["START: x"], startingAt: 0)
            var progress = RunProgress()
            progress.recordsRead = 7
            progress.logLines = 1
            try tx.saveProgress(progress)
        }
        let taken = try await s[1].claimNextBatch(now: start.addingTimeInterval(31))
        try expect(
            taken?.id == id && taken?.progress.logLines == 2, "the taken-over batch does not count the takeover line: \(String(describing: taken?.progress))")
        let log = try await s[1].log(of: id)
        try expect(
            log.count == 2 && log[1].hasPrefix("TAKEN OVER: ") && log[1].contains("otherhost 1 a") && log[1].hasSuffix("resumes after record 7"),
            "the takeover is not in the log: \(log)")
        try expect(try await s[1].batch(id)?.progress.logLines == 2, "the stored progress does not count the takeover line")
    }

    static func paging(_ fixture: any StoreFixture) async throws {
        let store = try await stores(fixture, "a")[0]
        let id = try await uploadingBatch(in: store)
        try await store.startDirectRun(id, dryRun: false, by: "contract", now: start)
        var written = 0
        for size in [3, 1, 4] {
            try store.inImportTransaction(batch: id, now: start) { tx in
                try tx.appendResults((written..<written + size).map { "r\($0)" }, startingAt: written)
            }
            written += size
        }
        try expect(try await store.resultLines(of: id, from: 0, limit: 2).prefix(2) == ["r0", "r1"], "the first page is wrong")
        try expect(try await store.resultLines(of: id, from: 2, limit: 2).prefix(2) == ["r2", "r3"], "a page across chunks is wrong")
        try expect(try await store.resultLines(of: id, from: 4, limit: 100) == ["r4", "r5", "r6", "r7"], "the last page is wrong")
        try expect(try await store.resultLines(of: id, from: 8, limit: 100).isEmpty, "a page past the end is not empty")
        try store.inImportTransaction(batch: id, now: start) { tx in
            try tx.appendLog((0..<2500).map { "line \($0)" }, startingAt: 0)
        }
        try expect(try await store.logLines(of: id, skipping: 1000, limit: 2) == ["line 1000", "line 1001"], "a log page is wrong")
        try expect(try await store.log(of: id).count == 2500, "the log is not whole")
        var results: [String] = []
        for try await page in store.resultPages(of: id, from: 1, pageSize: 2) { results += page }
        try expect(results == (1..<8).map { "r\($0)" }, "the result pages from r1 are not r1…r7: \(results)")
        var log: [String] = []
        for try await page in store.logPages(of: id, from: 1500, pageSize: 300) { log += page }
        try expect(log == (1500..<2500).map { "line \($0)" }, "the log pages from line 1500 are not the last 1000 lines")
    }

    static func cancelRules(_ fixture: any StoreFixture) async throws {
        let store = try await stores(fixture, "a")[0]
        let scheduled = try await scheduledBatch(in: store)
        try expect(try await store.cancel(scheduled, now: start), "a scheduled batch could not be cancelled")
        try expect(try await store.batch(scheduled)?.state == .cancelled, "a cancelled scheduled batch is not cancelled")
        try expect(try await !store.cancel(scheduled, now: start), "a finished batch was cancelled again")
        let running = try await scheduledBatch(in: store)
        _ = try await store.claimNextBatch(now: start)
        try expect(try await store.cancel(running, now: start), "a running batch could not be cancelled")
        try expect(try await store.batch(running)?.state == .running, "a running batch stopped before its run saw the cancel")
        try expect(try await store.isCancelRequested(running), "the cancel flag is not set")
    }

    static func copy(_ fixture: any StoreFixture) async throws {
        let store = try await stores(fixture, "a")[0]
        let id = try await uploadingBatch(in: store, files: 2)
        let copy = BatchID.random()
        try await store.copy(id, as: copy, now: start)
        let copied = try await store.batch(copy)
        try expect(copied?.state == .uploading && copied?.comment == "b (copy)", "the copy's state or comment is wrong")
        try expect(copied?.files.map(\.name) == ["f0", "f1"], "the copy's files are wrong")
    }

    static func apiKeys(_ fixture: any StoreFixture) async throws {
        let store = try await stores(fixture, "a")[0]
        let id = try await store.createAPIKey(name: "k", scope: .read, hash: "h1", now: start)
        try expect(try await store.useAPIKey(hash: "h1", now: start)?.id == id, "a live key was not found")
        try expect(try await store.useAPIKey(hash: "h2", now: start) == nil, "an unknown key was found")
        try expect(try await store.revokeAPIKey(id: id), "a key could not be revoked")
        try expect(try await store.useAPIKey(hash: "h1", now: start) == nil, "a revoked key still works")
        try expect(try await store.apiKeys().first?.revoked == true, "the key list does not show the revocation")
        let expiring = try await store.createAPIKey(name: "e", scope: .push, hash: "h3", expires: start.addingTimeInterval(60), now: start)
        try expect(try await store.useAPIKey(hash: "h3", now: start.addingTimeInterval(59))?.id == expiring, "a key was refused before it expired")
        try expect(try await store.useAPIKey(hash: "h3", now: start.addingTimeInterval(60)) == nil, "an expired key still works")
        let listed = try await store.apiKeys().last
        try expect(listed?.expires == start.addingTimeInterval(60) && listed?.scope == .push, "the key list does not show the expiry")
    }

    static func refReservations(_ fixture: any StoreFixture) async throws {
        let s = try await stores(fixture, "a", "b")
        let none = BatchID(rawValue: "no-batch")
        func reserve(_ store: any BatchStore, _ count: Int) throws -> ClosedRange<Int64> {
            try store.inImportTransaction(batch: none, now: start) { tx in try tx.reserveRefs(count: count) }
        }
        func release(_ store: any BatchStore, after used: Int64, through end: Int64) throws {
            try store.inImportTransaction(batch: none, now: start) { tx in try tx.releaseRefs(after: used, reservedThrough: end) }
        }
        let first = try reserve(s[0], 10)
        let second = try reserve(s[1], 10)
        try expect(first.count == 10 && second.lowerBound == first.upperBound + 1, "reservations overlap or leave a gap: \(first) \(second)")
        try release(s[0], after: first.lowerBound + 2, through: first.upperBound)
        let third = try reserve(s[0], 1)
        try expect(third.lowerBound == second.upperBound + 1, "a release gave back refs that a later reservation had: \(third)")
        try release(s[0], after: third.lowerBound - 1, through: third.upperBound)
        let fourth = try reserve(s[1], 1)
        try expect(fourth == third, "the unused end of the last reservation did not come back: \(fourth)")
    }

    static func chunkWrites(_ fixture: any StoreFixture) async throws {
        let store = try await stores(fixture, "a")[0]
        let id = try await uploadingBatch(in: store)
        try await store.startDirectRun(id, dryRun: false, by: "contract", now: start)
        func writes(_ count: Int, from first: Int64, lines: Int) -> ChunkWrites {
            var writes = ChunkWrites()
            for i in 0..<Int64(count) {
                writes.newObjects.append(
                    .init(
                        ref: ObjectRef(first + i),
                        values: [
                            ObjectValue(attribute: StandardSchema.titleAttribute, value: .text(.text, "chunk object \(first + i)"))
                        ]))
            }
            writes.documents.append(.init(model: "m", destination: "d", record: "r\(first)", values: JSONObject()))
            _ = writes.appendLog(["log \(lines)"], startingAt: lines)
            _ = writes.appendResults((0..<count).map { "result \(lines + $0)" }, startingAt: lines)
            var progress = RunProgress()
            progress.recordsRead = lines + count
            writes.progress = progress
            return writes
        }
        let refs = try store.inImportTransaction(batch: id, now: start) { tx in try tx.reserveRefs(count: 3) }
        try store.inImportTransaction(batch: id, now: start) { tx in try tx.apply(writes(3, from: refs.lowerBound, lines: 0)) }
        // A transaction that fails after applying leaves nothing of what it applied.
        let more = try store.inImportTransaction(batch: id, now: start) { tx in try tx.reserveRefs(count: 2) }
        struct Failed: Error {}
        do {
            try store.inImportTransaction(batch: id, now: start) { tx in
                try tx.apply(writes(2, from: more.lowerBound, lines: 3))
                throw Failed()
            }
        } catch is Failed {}
        let titles = try await store.objects(types: nil, title: nil, after: nil, limit: 100).map(\.title)
        try expect(titles == (0..<3).map { "chunk object \(refs.lowerBound + Int64($0))" }, "the applied objects are wrong: \(titles)")
        try expect(
            try await store.documents(model: "m", destination: "d", batch: id).map(\.record) == ["r\(refs.lowerBound)"],
            "the applied documents are wrong")
        try expect(try await store.log(of: id) == ["log 0"], "the applied log is wrong")
        try expect(try await store.results(of: id) == ["result 0", "result 1", "result 2"], "the applied results are wrong")
        try expect(try await store.batch(id)?.progress.recordsRead == 3, "the applied progress is wrong")
    }

    /// What a store may keep in memory during a chunk (writes not sent yet, versions it has read)
    /// must answer reads as the database would.
    static func readsOwnWrites(_ fixture: any StoreFixture) async throws {
        let store = try await stores(fixture, "a")[0]
        let id = try await uploadingBatch(in: store)
        try await store.startDirectRun(id, dryRun: false, by: "contract", now: start)
        func values(_ title: String, username: String? = nil, behaviour: String? = nil, type: String = "t", link: ObjectRef? = nil) -> [ObjectValue] {
            var values = [
                ObjectValue(attribute: StandardSchema.typeAttribute, value: .objectType(type)),
                ObjectValue(attribute: StandardSchema.titleAttribute, value: .text(.text, title))
            ]
            if let username { values.append(ObjectValue(attribute: StandardSchema.usernameAttribute, value: .text(.text, username))) }
            if let behaviour { values.append(ObjectValue(attribute: StandardSchema.behaviourAttribute, value: .text(.text, behaviour))) }
            if let link { values.append(ObjectValue(attribute: "test:link", value: .ref(link))) }
            return values
        }
        let refs = try store.inImportTransaction(batch: id, now: start) { tx in try tx.reserveRefs(count: 4) }
        let (r1, r2, r3, r4) = (ObjectRef(refs.lowerBound), ObjectRef(refs.lowerBound + 1), ObjectRef(refs.lowerBound + 2), ObjectRef(refs.upperBound))
        // A committed object with a username and behaviour that a lower, newer object will share.
        try store.inImportTransaction(batch: id, now: start) { tx in
            try expect(try tx.save(ref: r3, values: values("three", username: "shared", behaviour: "b"), isNew: true) == .created, "r3 not created")
        }
        struct RecordFailed: Error {}
        try store.inImportTransaction(batch: id, now: start) { tx in
            try expect(try tx.save(ref: r1, values: values("one", username: "u1"), isNew: true) == .created, "r1 not created")
            try expect(try tx.ref(forUsername: "u1") == r1, "a new object is not found by its username in its own transaction")
            try expect(try tx.object(r1)?.version == 1, "a new object does not read back as version 1")
            try expect(try tx.save(ref: r2, values: values("two", username: "shared", behaviour: "b"), isNew: true) == .created, "r2 not created")
            try expect(try tx.ref(forUsername: "shared") == r2, "the lowest ref does not win over a committed object with the same username")
            try expect(try tx.ref(forBehaviour: "b") == r2, "the lowest ref does not win over a committed object with the same behaviour")
            try expect(try tx.ref(forUsername: "nobody") == nil, "a username nobody has was found")
            try expect(try tx.save(ref: r1, values: values("one", username: "u1"), isNew: false) == .unchanged, "an unchanged save of a new object")
            try expect(try tx.save(ref: r1, values: values("one again", username: "u1"), isNew: false) == .updated, "a changed save")
            try expect(try tx.object(r1)?.version == 2, "the update does not read back as version 2")
            do {
                try tx.atomically {
                    try expect(try tx.save(ref: r1, values: values("one, rolled back", username: "u1"), isNew: false) == .updated, "a save in a record")
                    throw RecordFailed()
                }
            } catch is RecordFailed {}
            let afterRollback = try tx.object(r1)
            try expect(afterRollback?.version == 2, "a rolled-back record's version is still read: \(String(describing: afterRollback?.version))")
            try expect(
                try tx.save(ref: r1, values: values("one again", username: "u1"), isNew: false) == .unchanged,
                "after a rollback, the same values are not unchanged")
            try expect(try tx.save(ref: r4, values: values("four", type: "linker", link: r1), isNew: true) == .created, "r4 not created")
            try expect(try tx.oldestObject(linkingTo: r1, through: "test:link", types: ["linker"])?.ref == r4, "a new object's link is not found")
            let titles = try tx.titles(ofTypes: ["linker"], limit: 10)?.map(\.title)
            try expect(titles == ["four"], "a new object's title is not listed: \(String(describing: titles))")
            try expect(try tx.titles(ofTypes: ["linker"], limit: 0) == nil, "more objects than the limit do not answer nil")
        }
        // The next transaction reads what the last one committed.
        try store.inImportTransaction(batch: id, now: start) { tx in
            try expect(try tx.ref(forUsername: "u1") == r1, "r1 not found by username after the commit")
            try expect(try tx.save(ref: r1, values: values("one again", username: "u1"), isNew: false) == .unchanged, "r1 not unchanged after the commit")
            try expect(try tx.save(ref: r1, values: values("one, third", username: "u1 renamed"), isNew: false) == .updated, "r1 not updated")
            try expect(try tx.ref(forUsername: "u1") == nil, "the old username still finds the object")
            try expect(try tx.ref(forUsername: "u1 renamed") == r1, "the new username does not find the object")
        }
        let history = try await store.history(of: r1).map(\.version)
        try expect(history.sorted() == [1, 2, 3], "the versions of r1 are wrong: \(history)")
        // A deleted object (a feed leaver's delete) is found by nothing the engine asks: not
        // loaded, looked up, linked to or listed by title; the read API still reads it by ref.
        try store.inImportTransaction(batch: id, now: start) { tx in
            let four = values("four", type: "linker", link: r1)
            try expect(try tx.delete(ref: r4, values: four) == .deleted, "r4 not deleted")
            try expect(try tx.delete(ref: r4, values: four) == .unchanged, "a deleted object is deleted again")
            try expect(try tx.object(r4) == nil, "a deleted object is loaded")
            try expect(try tx.oldestObject(linkingTo: r1, through: "test:link", types: ["linker"]) == nil, "a deleted object's link is found")
            try expect(try tx.titles(ofTypes: ["linker"], limit: 10)?.isEmpty == true, "a deleted object's title is listed")
            try expect(try tx.delete(ref: r2, values: values("two", username: "shared", behaviour: "b")) == .deleted, "r2 not deleted")
            try expect(try tx.ref(forUsername: "shared") == r3, "a deleted object is found by username")
            try expect(try tx.ref(forBehaviour: "b") == r3, "a deleted object is found by behaviour")
        }
        let deleted = try await store.object(r4)
        try expect(deleted?.deleted == true && deleted?.version == 2, "a deleted object does not read as deleted version 2")
        try expect(try await store.object(r1)?.deleted == false, "an object reads as deleted")
        try expect(try await store.objects(types: ["linker"], title: nil, after: nil, limit: 10).isEmpty, "a deleted object is listed")
        try expect(try await store.objects(types: nil, title: "two", after: nil, limit: 10).isEmpty, "a deleted object is found by title")
    }

    static func purge(_ fixture: any StoreFixture) async throws {
        let store = try await stores(fixture, "a")[0]
        let finished = try await uploadingBatch(in: store, files: 2)
        let purgedDigest = Digest(of: Array("a file of a batch that will be purged".utf8))
        try await store.addFile(BatchFile(name: "own", digest: purgedDigest, size: 1, filename: "own.json"), to: finished)
        try await store.startDirectRun(finished, dryRun: false, by: "contract", now: start)
        try store.inImportTransaction(batch: finished, now: start) { tx in
            try tx.appendLog(["START", "END"], startingAt: 0)
            try tx.appendResults(["r0", "r1", "r2"], startingAt: 0)
        }
        var progress = RunProgress()
        progress.logLines = 2
        progress.resultLines = 3
        try await store.finish(finished, state: .complete, progress: progress, logLines: [], now: start.addingTimeInterval(10))
        let unfinished = try await uploadingBatch(in: store, files: 1)
        let liveDigest = Digest(of: Array("a file of a live batch".utf8))
        try await store.addFile(BatchFile(name: "live", digest: liveDigest, size: 1, filename: "live.json"), to: unfinished)

        let later = start.addingTimeInterval(3600)
        try expect(try await store.purgeableBatches(finishedBefore: start, limit: 10).isEmpty, "a batch that finished after the cutoff is purgeable")
        let purgeable = try await store.purgeableBatches(finishedBefore: later, limit: 10).map(\.id)
        try expect(purgeable == [finished], "only the finished batch is purgeable: \(purgeable)")
        try expect(try await store.isDigestInUse(liveDigest, ignoring: []), "a file of a live batch is not in use")
        try expect(try await !store.isDigestInUse(liveDigest, ignoring: [unfinished]), "an ignored batch's file is in use")
        try expect(try await store.isDigestInUse(purgedDigest, ignoring: []), "a finished batch's file is not in use before the purge")
        try await expectThrows(StoreError.self, "an unfinished batch was purged") {
            _ = try await store.purgeRecords(of: unfinished, now: later)
        }
        let removed = try await store.purgeRecords(of: finished, now: later)
        try expect(removed.logLines == 2 && removed.resultLines == 3, "wrong counts: \(removed)")
        try expect(try await store.log(of: finished).isEmpty, "log lines left")
        try expect(try await store.results(of: finished).isEmpty, "results left")
        try expect(try await !store.isDigestInUse(purgedDigest, ignoring: []), "a purged batch's file is still in use")
        let after = try requireBatch(await store.batch(finished))
        try expect(after.purged == later && after.state == .complete && after.files.count == 3, "the batch's record changed: \(after)")
        try expect(try await store.purgeableBatches(finishedBefore: later, limit: 10).isEmpty, "a purged batch is purgeable again")
        // The fixture's files all share the control file's digest, which stays in use by the control file.
        try expect(try await store.isDigestInUse(controlDigest, ignoring: [unfinished]), "a control file's digest is not in use")
        let loose = Digest(of: Array("nobody's".utf8))
        try expect(try await !store.isDigestInUse(loose, ignoring: []), "an unknown digest is in use")
    }

    static func requireBatch(_ batch: Batch?) throws -> Batch {
        guard let batch else { throw ContractFailure("the batch is missing") }
        return batch
    }

    static func adminAccounts(_ fixture: any StoreFixture) async throws {
        let store = try await stores(fixture, "a")[0]
        try await store.createAdminAccount(name: "ada", passwordHash: "h1", now: start)
        try await expectThrows(StoreError.self, "a taken name was accepted") {
            try await store.createAdminAccount(name: "ada", passwordHash: "h2", now: start)
        }
        try expect(try await store.setAdminPassword(name: "ada", passwordHash: "h3", now: start.addingTimeInterval(5)), "no password set")
        try expect(try await !store.setAdminPassword(name: "bob", passwordHash: "h4", now: start), "an unknown account got a password")
        let ada = try await store.adminAccount(name: "ada")
        try expect(
            ada?.passwordHash == "h3" && ada?.passwordChanged == start.addingTimeInterval(5) && ada?.created == start,
            "wrong account: \(String(describing: ada))")
        try await store.createAdminAccount(name: "Ada", passwordHash: "h5", now: start)
        try expect(try await store.adminAccounts().map(\.name) == ["Ada", "ada"], "names are not kept as given, or not sorted")
        try expect(try await store.adminAccount(name: "nobody") == nil, "an unknown account was found")
    }

    static func adminSessions(_ fixture: any StoreFixture) async throws {
        let store = try await stores(fixture, "a")[0]
        try await store.createAdminAccount(name: "eve", passwordHash: "h", now: start)
        try await store.createAdminSession(AdminSessionRecord(idHash: "h-eve", account: "eve", csrfToken: "t", created: start, lastSeen: start))
        try expect(try await store.setAdminAccountDisabled(name: "eve", disabled: true), "no account disabled")
        try expect(try await store.adminAccount(name: "eve")?.disabled == true, "not disabled")
        try expect(try await store.adminSession(idHash: "h-eve") == nil, "a disabled account kept its session")
        try expect(try await store.setAdminAccountDisabled(name: "eve", disabled: false), "not enabled")
        try expect(try await store.adminAccount(name: "eve")?.disabled == false, "still disabled")
        try expect(try await !store.setAdminAccountDisabled(name: "nobody", disabled: true), "an unknown account was disabled")
        try expect(try await store.deleteAdminAccount(name: "eve"), "not deleted")
        try expect(try await store.adminAccount(name: "eve") == nil, "still there after delete")
        try expect(try await !store.deleteAdminAccount(name: "eve"), "deleted twice")
        let old = AdminSessionRecord(idHash: "h-old", account: "ada", csrfToken: "t1", created: start, lastSeen: start)
        let fresh = AdminSessionRecord(
            idHash: "h-new", account: "bob", csrfToken: "t2", created: start.addingTimeInterval(100), lastSeen: start.addingTimeInterval(100))
        try await store.createAdminSession(old)
        try await store.createAdminSession(fresh)
        try expect(try await store.adminSession(idHash: "h-old") == old, "the session did not come back as stored")
        try await store.updateAdminSession(idHash: "h-new", lastSeen: start.addingTimeInterval(200), data: #"{"flash":"x"}"#)
        let updated = try await store.adminSession(idHash: "h-new")
        try expect(
            updated?.lastSeen == start.addingTimeInterval(200) && updated?.data == #"{"flash":"x"}"# && updated?.csrfToken == "t2",
            "the update did not hold: \(String(describing: updated))")
        let removed = try await store.deleteAdminSessions(idleBefore: start.addingTimeInterval(50), createdBefore: start.addingTimeInterval(-1))
        try expect(removed == 1, "expected the idle session to go, removed \(removed)")
        try expect(try await store.adminSession(idHash: "h-old") == nil, "an idle session survived")
        try await store.deleteAdminSession(idHash: "h-new")
        try expect(try await store.adminSession(idHash: "h-new") == nil, "a deleted session survived")
        try await store.recordAudit(event: "sign-in", batch: nil, detail: "ada from 127.0.0.1", now: start)
        try await store.recordAudit(event: "sign-in failed", batch: nil, detail: "bob from 127.0.0.1", now: start.addingTimeInterval(1))
        let batch = BatchID.random()
        try await store.recordAudit(event: "rolled back", batch: batch, detail: "", now: start.addingTimeInterval(2))
        let forBatch = try await store.auditEntries(batch: batch, limit: 10)
        try expect(forBatch.map(\.event) == ["rolled back"] && forBatch[0].batch == batch, "audit entries of a batch: \(forBatch)")
        let entries = try await store.auditEntries(limit: 1)
        try expect(
            try await store.auditEntries(limit: 2).map(\.event) == ["rolled back", "sign-in failed"], "audit entries: \(entries)")
    }

    static func controlFileRecords(_ fixture: any StoreFixture) async throws {
        let store = try await stores(fixture, "a")[0]
        let other = Digest(hex: String(repeating: "d", count: 64))!
        try await store.addControlFile(digest: controlDigest, size: 10, comment: "first", now: start)
        try await store.addControlFile(digest: other, size: 20, comment: "second", uploadedBy: "ada", now: start.addingTimeInterval(1))
        try await store.addControlFile(digest: controlDigest, size: 10, comment: "first", now: start.addingTimeInterval(2))
        try expect(try await store.controlFileCount() == 2, "the same digest and comment made a second record")
        let list = try await store.controlFiles(limit: 10, offset: 0)
        try expect(list.map(\.comment) == ["second", "first"], "not newest first: \(list)")
        try expect(try await store.controlFiles(limit: 1, offset: 1).map(\.comment) == ["first"], "offset ignored")
        try expect(try await store.controlFiles(comment: "SEC", limit: 10, offset: 0).map(\.comment) == ["second"], "comment search")
        try expect(try await store.controlFileCount(comment: "ir") == 1, "comment count")
        let found = try await store.controlFile(digest: other, comment: "second")
        try expect(
            found?.size == 20 && found?.created == start.addingTimeInterval(1) && found?.uploadedBy == "ada",
            "lookup by digest and comment: \(String(describing: found))")
        try expect(try await store.controlFile(id: found!.id) == found, "lookup by id differs")
        try expect(try await store.controlFile(digest: other, comment: "first") == nil, "a missing comment was found")
        try await store.addControlFile(digest: controlDigest, size: 10, comment: "again", now: start.addingTimeInterval(3))
        let same = try await store.controlFiles(digest: controlDigest).map(\.comment)
        try expect(same == ["again", "first"], "records of one digest: \(same)")
    }

    static func readyBatches(_ fixture: any StoreFixture) async throws {
        let store = try await stores(fixture, "a")[0]
        try await store.addControlFile(digest: controlDigest, size: 1, comment: "c", now: start)
        let files = [
            BatchFile(name: "b", digest: controlDigest, size: 1, filename: "b.json"),
            BatchFile(name: "a", digest: controlDigest, size: 2, filename: "a.tsv")
        ]
        let id = BatchID.random()
        try await store.createBatch(id: id, control: controlDigest, comment: "ready one", state: .ready, files: files, now: start)
        try expect(try await store.batch(id)?.files == files, "files not kept in the given order")
        try await expectThrows(StoreError.self, "a ready batch was scheduled as if uploading") {
            try await store.schedule(id, dryRun: true, by: "api", now: start)
        }
        let copyID = BatchID.random()
        try await store.copy(id, as: copyID, state: .ready, now: start)
        let copy = try await store.batch(copyID)
        try expect(
            copy?.state == .ready && copy?.copiedFrom == id && copy?.files == files && copy?.comment == "ready one (copy)",
            "wrong ready copy: \(String(describing: copy))")
        let replaced = [BatchFile(name: "c", digest: controlDigest, size: 3, filename: "c.xml"), files[0]]
        try await store.replaceFiles(of: copyID, with: replaced)
        try expect(try await store.batch(copyID)?.files == replaced, "files not replaced in order")
        try await store.schedule(id, from: .ready, dryRun: true, by: "admin ada", now: start)
        try await expectThrows(StoreError.self, "the files of a scheduled batch were replaced") {
            try await store.replaceFiles(of: id, with: replaced)
        }
        let scheduled = try await store.batch(id)
        try expect(scheduled?.state == .scheduled && scheduled?.dryRun == true && scheduled?.scheduledBy == "admin ada", "not scheduled")
        let all = try await store.batchCount(state: nil)
        let ready = try await store.batchCount(state: .ready)
        try expect(all == 2 && ready == 1, "counts are wrong: \(all) in all, \(ready) ready")
        try expect(Set(try await store.batches(control: controlDigest, limit: 10).map(\.id)) == [id, copyID], "batches by control file")
        try expect(try await store.batchCounts(controls: [controlDigest]) == [controlDigest: 2], "batch counts per control file")
        let filters: [(BatchFilter, [BatchID])] = [
            (BatchFilter(states: [.ready, .scheduled]), [copyID, id]), (BatchFilter(states: [.ready]), [copyID]),
            (BatchFilter(comment: "READY ONE ("), [copyID]), (BatchFilter(comment: "%"), []),
            (BatchFilter(controlPrefix: "CCCC"), [copyID, id]), (BatchFilter(controlPrefix: "cd"), [])
        ]
        for (filter, expected) in filters {
            let found = try await store.batches(matching: filter, limit: 10, offset: 0).map(\.id)
            try expect(Set(found) == Set(expected), "\(filter) found \(found)")
            try expect(try await store.batchCount(matching: filter) == expected.count, "count of \(filter)")
        }
    }

    static func rollbackState(_ fixture: any StoreFixture) async throws {
        let store = try await fixture.makeStore(lease: JobLease(owner: "a"))
        func title(_ text: String) -> [ObjectValue] { [ObjectValue(attribute: StandardSchema.titleAttribute, value: .text(.text, text))] }
        func completeBatch(_ body: (any ImportTransaction) throws -> Void) async throws -> BatchID {
            let id = try await uploadingBatch(in: store)
            try await store.startDirectRun(id, dryRun: false, by: "contract", now: start)
            try store.inImportTransaction(batch: id, now: start) { tx in try body(tx) }
            try await store.finish(id, state: .complete, progress: RunProgress(), logLines: ["START", "END"], now: start)
            return id
        }
        var kept = ObjectRef(0), added = ObjectRef(0)
        _ = try await completeBatch { tx in
            kept = try tx.allocateRef()
            _ = try tx.save(ref: kept, values: title("one"), isNew: true)
        }
        let changing = try await completeBatch { tx in
            _ = try tx.save(ref: kept, values: title("two"), isNew: false)
            added = try tx.allocateRef()
            _ = try tx.save(ref: added, values: title("added"), isNew: true)
        }
        let plan = try await store.rollbackPlan(changing).map { "\($0.ref.text) \($0.step)" }
        try expect(plan == ["\(kept.text) restore(version: 1)", "\(added.text) delete"], "the plan: \(plan)")
        let later = start.addingTimeInterval(60)
        let outcome = try await store.rollback(changing, by: "contract admin", now: later)
        try expect(outcome == RollbackOutcome(deleted: 1, restored: 1, conflicts: []), "the outcome: \(outcome)")
        try expect(try await store.batch(changing)?.state == .rolledBack, "the batch is not rolled back")
        let log = try await store.log(of: changing)
        try expect(
            log == [
                "START", "END",
                "ROLLED BACK: \(Timestamp.string(later)) by contract admin: 1 object deleted, 1 restored, 0 left alone because later changes touched them"
            ],
            "the log: \(log)")
        let restored = try await store.object(kept)
        try expect(restored?.version == 3 && restored?.title == "one" && restored?.deleted == false, "the restored object: \(String(describing: restored))")
        let history = try await store.history(of: added)
        try expect(
            history.map(\.batch) == [changing.rawValue, RollbackStep.restorerLabel(rollingBack: changing.rawValue)]
                && history.map(\.deleted) == [false, true] && history.last?.batchID == changing.rawValue,
            "the deleted object's history: \(history)")
        try expect(try await store.object(added)?.deleted == true, "the created object is not deleted")
        try expect(
            try await store.auditEntries(batch: changing, limit: 10).contains { $0.event == "rolled back" && $0.detail == "contract admin" },
            "no audit entry")
        try await expectThrows(StoreError.self, "a second rollback was accepted") { _ = try await store.rollback(changing, by: "again", now: later) }
        try await expectThrows(StoreError.self, "a rolled-back batch has a rollback plan") { _ = try await store.rollbackPlan(changing) }
        let objects = try await store.objects(types: nil, title: nil, after: nil, limit: 10).map(\.ref)
        try expect(objects == [kept], "a deleted object is listed: \(objects)")
    }
}
