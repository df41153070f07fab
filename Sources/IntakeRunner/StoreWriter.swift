import Foundation
import IntakeCore
import IntakeStore

/// Runs a batch's chunk transactions on a thread of its own, behind the engine.
///
/// Storing a record costs about as much as transforming it, so a run that only creates objects is
/// twice as fast when the two overlap on two cores. The engine's writes are queued and applied in
/// order by this thread, each chunk in one transaction as before; reads (loads, lookups) are sent
/// through the same queue and waited for, so they see every earlier write. When a chunk fails, its
/// transaction rolls back whole, everything queued after it is dropped, and the next call from the
/// run loop throws `StoreWriterFailure` with the progress of the last chunk that was stored.
final class StoreWriter: @unchecked Sendable {
    typealias Work = (any ImportTransaction) throws -> Void

    private enum Operation {
        case begin(carriedLines: [String])
        case write(Work)
        /// Runs with nil when the writer has failed.
        case read((_ transaction: (any ImportTransaction)?) -> Void)
        case commit(RunProgress)
        /// The run loop failed half-way through a chunk: roll it back.
        case abandon
        case stop
    }

    private let store: any BatchStore
    private let batch: BatchID
    private let now: () -> Date
    private let condition = NSCondition()
    private var queue: [Operation] = []
    private var head = 0
    private var failure: StoreWriterFailure?
    private var idle = true
    private var stopped = false
    private var cancelSeen = false
    private var committedProgress: RunProgress
    private let finishedSignal = DispatchSemaphore(value: 0)

    /// Bounds how far the engine runs ahead: about two chunks of records.
    static let maximumQueued = 8192

    /// Until it passes, nothing is committed: chunks are merged into the first transaction.
    private var gate: WellFormednessCheck?

    init(store: any BatchStore, batch: BatchID, now: @escaping () -> Date, progress: RunProgress,
         gate: WellFormednessCheck? = nil) {
        self.store = store
        self.batch = batch
        self.now = now
        self.committedProgress = progress
        self.gate = gate
        gate?.notify(condition)
        let thread = Thread { [self] in loop() }
        thread.name = "intake-store-writer"
        thread.stackSize = 8 << 20
        thread.start()
    }

    // MARK: The run loop's side

    func begin(carrying lines: [String]) throws { try enqueue(.begin(carriedLines: lines)) }
    func write(_ work: @escaping Work) throws { try enqueue(.write(work)) }
    func commit(_ progress: RunProgress) throws { try enqueue(.commit(progress)) }

    /// Rolls back the open chunk (and any merged into it), ends the thread, and returns where the
    /// run stands: the progress and pending lines of the last stored chunk.
    func abandon() -> (progress: RunProgress, carriedLines: [String]?) {
        try? enqueue(.abandon)
        do {
            try finish()
        } catch let failure as StoreWriterFailure {
            return (failure.committedProgress, failure.carriedLines)
        } catch {}
        condition.lock()
        defer { condition.unlock() }
        return (committedProgress, nil)
    }

    /// Runs `body` on the writer thread after everything queued before it, and waits for it.
    func read<T>(_ body: @escaping (any ImportTransaction) throws -> T) throws -> T {
        var result: Result<T, any Error>?
        let done = DispatchSemaphore(value: 0)
        try enqueue(.read { tx in
            if let tx { result = Result { try body(tx) } }
            done.signal()
        })
        done.wait()
        guard let result else { throw currentFailure()! }
        return try result.get()
    }

    /// Whether a cancel request was seen at the start of a chunk (another process's request
    /// reaches the run a chunk later than with a direct transaction).
    var isCancelRequested: Bool {
        condition.lock()
        defer { condition.unlock() }
        return cancelSeen
    }

    /// Waits until everything queued is stored; throws if something failed.
    func drain() throws {
        condition.lock()
        while !(idle && head == queue.count) && failure == nil { condition.wait() }
        let failure = self.failure
        condition.unlock()
        if let failure { throw failure }
    }

    /// Drains, then ends the thread.
    func finish() throws {
        defer {
            condition.lock()
            stopped = true
            queue.append(.stop)
            condition.broadcast()
            condition.unlock()
            finishedSignal.wait()
        }
        try drain()
    }

    private func enqueue(_ operation: Operation) throws {
        condition.lock()
        while queue.count - head >= Self.maximumQueued && failure == nil { condition.wait() }
        if let failure {
            condition.unlock()
            if case .read(let body) = operation { body(nil) }
            throw failure
        }
        queue.append(operation)
        condition.broadcast()
        condition.unlock()
    }

    private func currentFailure() -> StoreWriterFailure? {
        condition.lock()
        defer { condition.unlock() }
        return failure
    }

    // MARK: The writer thread

    private func take() -> Operation {
        condition.lock()
        defer { condition.unlock() }
        while head == queue.count {
            idle = true
            condition.broadcast()
            condition.wait()
        }
        idle = false
        let operation = queue[head]
        head += 1
        // Taken operations are dropped when the queue empties, or in blocks of 4096 while it never
        // does, so shifting the array costs about one move per operation.
        if head == queue.count {
            queue.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 4096 {
            queue.removeFirst(head)
            head = 0
        }
        condition.broadcast()
        return operation
    }

    private func loop() {
        defer { finishedSignal.signal() }
        while true {
            switch take() {
            case .stop:
                return
            case .begin(let carriedLines):
                // After a failure every later chunk is dropped, like the rest of the failed one.
                if currentFailure() == nil { runChunk(carriedLines: carriedLines) }
            case .read(let body):
                body(nil)
            case .write, .commit, .abandon:
                // Only reached after a failure: the rest of a failed chunk is dropped.
                break
            }
        }
    }

    private struct Abandoned: Error {}

    /// True once the well-formedness check has passed; throws its failure; false while it runs and
    /// there is more work queued, which then joins the open transaction.
    private func gateAllowsCommit() throws -> Bool {
        guard let gate else { return true }
        while true {
            switch gate.result {
            case .success?:
                self.gate = nil
                return true
            case .failure(let failure)?:
                throw failure
            case nil:
                condition.lock()
                if head < queue.count {
                    condition.unlock()
                    return false
                }
                // Woken by new work or by the check finishing.
                condition.wait()
                condition.unlock()
            }
        }
    }

    private func runChunk(carriedLines: [String]) {
        var progress: RunProgress?
        do {
            try store.inImportTransaction(batch: batch, now: now()) { tx in
                let cancel = try tx.isCancelRequested()
                condition.lock()
                cancelSeen = cancelSeen || cancel
                condition.unlock()
                var committing = false
                while true {
                    if committing {
                        // Either the check has passed (commit), or it is still running and the next
                        // chunk has begun: that chunk joins this transaction. The writer never waits
                        // for work with a commit pending, so `drain()` cannot return before it.
                        if try gateAllowsCommit() { return }
                        committing = false
                        guard case .begin = take() else { preconditionFailure("a chunk must follow a commit") }
                        continue
                    }
                    switch take() {
                    case .write(let work): try work(tx)
                    case .read(let body): body(tx)
                    case .commit(let p):
                        progress = p
                        committing = true
                    case .abandon:
                        throw Abandoned()
                    case .begin: preconditionFailure("a chunk was not committed before the next began")
                    case .stop: preconditionFailure("the writer was stopped with a chunk open")
                    }
                }
            }
            condition.lock()
            if let progress { committedProgress = progress }
            condition.unlock()
        } catch {
            condition.lock()
            failure = StoreWriterFailure(error: error, committedProgress: committedProgress, carriedLines: carriedLines)
            condition.broadcast()
            condition.unlock()
        }
    }
}

/// A chunk the writer thread could not store, and where the run stands without it.
struct StoreWriterFailure: Error, CustomStringConvertible {
    var error: any Error
    /// The progress saved with the last chunk that was stored.
    var committedProgress: RunProgress
    /// Log lines that were pending when the failed chunk began (they were not stored either).
    var carriedLines: [String]

    var description: String { "\(error)" }
}

/// The transaction the engine sees while its writes go through a `StoreWriter`: writes are
/// queued and return at once, reads wait for the writer. Refs are handed out here from ranges
/// reserved in the store (the reservation commits with the chunk it was made in), so a run never
/// waits for the writer to allocate one, and another process's run never gets the same refs.
final class PipelinedTransaction: ImportTransaction {
    private let writer: StoreWriter
    /// The reserved refs, and the next one to hand out.
    private var reserved: ClosedRange<Int64>?
    private var nextRef: Int64 = 0
    private(set) var readsInChunk = 0
    /// Large, because reserving waits for the writer to catch up with the run loop: with 10 000 a
    /// 100k json import ran 18% slower (56.6k against 67.0k records/s, A/B of release builds). The
    /// unused end goes back at the end of each file, so refs stay contiguous all the same.
    static let refsPerReservation = 1_000_000

    init(writer: StoreWriter) { self.writer = writer }

    /// Before chunks run in direct transactions, which allocate refs from the stored counter.
    func forgetRefCounter() { reserved = nil }

    /// Called by the run loop at the end of each chunk, before the commit is queued.
    func endChunk() throws {
        readsInChunk = 0
    }

    /// Gives the unused end of the reservation back to the store (at the end of a file, or before
    /// direct transactions), so refs stay contiguous when nothing else allocated meanwhile.
    func releaseUnusedRefs() throws {
        guard let reserved else { return }
        self.reserved = nil
        if nextRef <= reserved.upperBound {
            let (used, end) = (nextRef - 1, reserved.upperBound)
            try writer.write { tx in try tx.releaseRefs(after: used, reservedThrough: end) }
        }
    }

    private func read<T>(_ body: @escaping (any ImportTransaction) throws -> T) throws -> T {
        readsInChunk += 1
        return try writer.read(body)
    }

    // A commit stops half-way only on a database error, and that fails the whole chunk here.
    func atomically<T>(_ body: () throws -> T) throws -> T { try body() }

    func appendLog(_ lines: [String], startingAt index: Int) throws {
        try writer.write { tx in try tx.appendLog(lines, startingAt: index) }
    }

    func appendResults(_ lines: [String], startingAt index: Int) throws {
        try writer.write { tx in try tx.appendResults(lines, startingAt: index) }
    }

    func isCancelRequested() throws -> Bool { writer.isCancelRequested }

    func saveProgress(_ progress: RunProgress) throws {
        try writer.write { tx in try tx.saveProgress(progress) }
    }

    func reserveRefs(count: Int) throws -> ClosedRange<Int64> { try read { try $0.reserveRefs(count: count) } }

    func releaseRefs(after used: Int64, reservedThrough end: Int64) throws {
        try writer.write { tx in try tx.releaseRefs(after: used, reservedThrough: end) }
    }

    func allocateRef() throws -> ObjectRef {
        if reserved == nil || nextRef > reserved!.upperBound {
            // Another run's reservation may have come in between: a new range starts where the
            // counter stands, not where the last one ended.
            let range = try reserveRefs(count: Self.refsPerReservation)
            (reserved, nextRef) = (range, range.lowerBound)
        }
        defer { nextRef += 1 }
        return ObjectRef(nextRef)
    }

    func save(ref: ObjectRef, values: [ObjectValue], isNew: Bool) throws -> SaveOutcome {
        // A new object's save needs nothing from the store; an existing one's outcome does.
        guard isNew else { return try read { try $0.save(ref: ref, values: values, isNew: false) } }
        try writer.write { tx in _ = try tx.save(ref: ref, values: values, isNew: true) }
        return .created
    }

    func appendDocument(model: String, destination: String, record: String, values: JSONObject) throws {
        try writer.write { tx in try tx.appendDocument(model: model, destination: destination, record: record, values: values) }
    }

    func object(_ ref: ObjectRef) throws -> StoredObject? { try read { try $0.object(ref) } }

    func oldestObject(linkingTo target: ObjectRef, through attribute: String, types: Set<String>) throws -> StoredObject? {
        try read { try $0.oldestObject(linkingTo: target, through: attribute, types: types) }
    }

    func ref(forBehaviour code: String) throws -> ObjectRef? { try read { try $0.ref(forBehaviour: code) } }
    func ref(forUsername username: String) throws -> ObjectRef? { try read { try $0.ref(forUsername: username) } }

    func titles(ofTypes types: Set<String>, limit: Int) throws -> [(title: String, ref: ObjectRef)]? {
        try read { try $0.titles(ofTypes: types, limit: limit) }
    }
}
