import Foundation
import IntakeCore
import IntakeStore
import Synchronization

/// Runs a batch's chunk transactions on a thread of its own, behind the engine.
///
/// Storing a record costs about as much as transforming it, so a run that only creates objects is
/// twice as fast when the two overlap on two cores. The run loop queues its writes (collected into
/// `ChunkWrites` by `PipelinedTransaction`) and this thread applies them in order, each chunk in one
/// transaction; reads (loads, lookups) go through the same queue and are waited for, so they see
/// every earlier write. When a chunk fails, its transaction rolls back whole, everything queued
/// after it is dropped, and the next call from the run loop throws `StoreWriterFailure` with the
/// progress of the last chunk that was stored.
///
/// Sendable without locks of its own: the queue is a `BlockingQueue`, the state shared with the run
/// loop is in a `Mutex`, and everything else is immutable.
final class StoreWriter: Sendable {
    typealias Work = @Sendable (any ImportTransaction) throws -> Void

    private enum Operation: Sendable {
        case begin(carriedLines: [String])
        case write(Work)
        /// Runs with nil when the writer has failed.
        case read(@Sendable (_ transaction: (any ImportTransaction)?) -> Void)
        case commit(RunProgress)
        /// The run loop failed half-way through a chunk: roll it back.
        case abandon
        /// Runs once everything queued before it is committed, or dropped after a failure.
        case barrier(@Sendable () -> Void)
        /// The well-formedness check has finished: a commit waiting for it can be decided.
        case checkFinished
    }

    private struct State {
        var failure: StoreWriterFailure?
        var cancelSeen = false
        var committedProgress: RunProgress
    }

    private let store: any BatchStore
    private let batch: BatchID
    private let now: @Sendable () -> Date
    /// Bounds how far the engine runs ahead: operations carry up to `PipelinedTransaction`'s
    /// hand-over size in rows, so this is about two chunks of records.
    private let queue = BlockingQueue<Operation, Never>(capacity: 64)
    private let state: Mutex<State>
    private let finished = DispatchSemaphore(value: 0)

    /// Until it passes, nothing is committed: chunks are merged into the first transaction.
    private let gate: WellFormednessCheck?

    init(
        store: any BatchStore, batch: BatchID, now: @escaping @Sendable () -> Date, progress: RunProgress,
        gate: WellFormednessCheck? = nil
    ) {
        self.store = store
        self.batch = batch
        self.now = now
        self.state = Mutex(State(committedProgress: progress))
        self.gate = gate
        let queue = self.queue
        gate?.onFinish { _ = queue.put(.checkFinished) }
        let thread = Thread { [self] in loop() }
        thread.name = "intake-store-writer"
        thread.stackSize = 8 << 20
        thread.start()
    }

    // MARK: The run loop's side

    func begin(carrying lines: [String]) throws { try enqueue(.begin(carriedLines: lines)) }
    func write(_ work: @escaping Work) throws {
        // Earlier writes, applied by now, are freed here: the run loop's thread allocated them.
        queue.freeGivenBack()
        try enqueue(.write(work))
    }
    func commit(_ progress: RunProgress) throws { try enqueue(.commit(progress)) }

    /// Rolls back the open chunk (and any merged into it), ends the thread, and returns where the
    /// run stands: the progress and pending lines of the last stored chunk.
    func abandon() -> (progress: RunProgress, carriedLines: [String]?) {
        _ = queue.put(.abandon)
        do {
            try finish()
        } catch let failure as StoreWriterFailure {
            return (failure.committedProgress, failure.carriedLines)
        } catch {}
        return (state.withLock { $0.committedProgress }, nil)
    }

    /// Runs `body` on the writer thread after everything queued before it, and waits for it.
    func read<T: Sendable>(_ body: @escaping @Sendable (any ImportTransaction) throws -> T) throws -> T {
        let answer = Answer<T>()
        try enqueue(.read { tx in answer.give(tx.map { tx in Result { try body(tx) } }) })
        guard let result = answer.wait() else { throw currentFailure()! }
        return try result.get()
    }

    /// Whether a cancel request was seen at the start of a chunk (another process's request
    /// reaches the run a chunk later than with a direct transaction).
    var isCancelRequested: Bool { state.withLock { $0.cancelSeen } }

    /// Waits until everything queued is stored; throws if something failed.
    func drain() throws {
        let done = DispatchSemaphore(value: 0)
        if queue.put(.barrier { done.signal() }) { done.wait() }
        if let failure = currentFailure() { throw failure }
    }

    /// Drains, then ends the thread.
    func finish() throws {
        defer {
            queue.finish()
            finished.wait()
        }
        try drain()
    }

    private func enqueue(_ operation: Operation) throws {
        // The queue is cancelled when a chunk fails: nothing more is accepted.
        guard queue.put(operation) else { throw currentFailure()! }
    }

    private func currentFailure() -> StoreWriterFailure? { state.withLock { $0.failure } }

    // MARK: The writer thread

    private func take() -> Operation? { queue.take() }

    private func loop() {
        defer {
            queue.cancel()
            finished.signal()
        }
        while let operation = take() {
            switch operation {
            case .begin(let carriedLines):
                // After a failure every later chunk is dropped, like the rest of the failed one.
                if currentFailure() == nil { runChunk(carriedLines: carriedLines) }
            case .read(let body):
                body(nil)
            case .barrier(let done):
                done()
            case .write, .commit, .abandon, .checkFinished:
                // Only reached after a failure: the rest of a failed chunk is dropped.
                break
            }
        }
    }

    private struct Abandoned: Error {}

    /// Whether the well-formedness check allows a commit now: true once it has passed, nil while it
    /// runs; throws its failure.
    private func gateDecision() throws -> Bool? {
        switch gate?.result {
        case nil where gate == nil, .success?: return true
        case .failure(let failure)?: throw failure
        case nil: return nil
        }
    }

    private func runChunk(carriedLines: [String]) {
        var progress: RunProgress?
        // Barriers that arrived while a commit waited for the check: answered once it is decided.
        var barriers: [@Sendable () -> Void] = []
        defer { for barrier in barriers { barrier() } }
        do {
            try store.inImportTransaction(batch: batch, now: now()) { tx in
                let cancel = try tx.isCancelRequested()
                state.withLock { $0.cancelSeen = $0.cancelSeen || cancel }
                var committing = false
                while true {
                    if committing {
                        // Either the check has passed (commit), or it is still running and the next
                        // chunk begins: that chunk joins this transaction. A barrier (`drain`) waits
                        // for the check, so it never returns before this commit is decided.
                        if try gateDecision() == true { return }
                        switch take() {
                        case .begin?: committing = false
                        case .checkFinished?: break
                        case .barrier(let done)?:
                            barriers.append(done)
                            if case .failure(let failure)? = gate?.wait() { throw failure }
                            return
                        default: preconditionFailure("a chunk must follow a commit")
                        }
                        continue
                    }
                    switch take() {
                    case .write(let work)?:
                        try work(tx)
                        queue.giveBack(.write(work))
                    case .read(let body)?: body(tx)
                    case .commit(let p)?:
                        progress = p
                        committing = true
                    case .abandon?:
                        throw Abandoned()
                    case .checkFinished?: break
                    case .barrier(let done)?: barriers.append(done)
                    case .begin?: preconditionFailure("a chunk was not committed before the next began")
                    case nil: preconditionFailure("the writer was stopped with a chunk open")
                    }
                }
            }
            if let progress { state.withLock { $0.committedProgress = progress } }
        } catch {
            state.withLock {
                $0.failure = StoreWriterFailure(
                    error: error, committedProgress: $0.committedProgress,
                    carriedLines: carriedLines)
            }
            queue.cancel()
        }
    }
}

/// One answer from the writer thread to the run loop.
private final class Answer<T: Sendable>: Sendable {
    private let value = Mutex<Result<T, any Error>??>(nil)
    private let given = DispatchSemaphore(value: 0)

    func give(_ result: Result<T, any Error>?) {
        value.withLock { $0 = .some(result) }
        given.signal()
    }

    /// The answer, nil when the writer had failed.
    func wait() -> Result<T, any Error>? {
        given.wait()
        return value.withLock { $0! }
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
