import Foundation
import IntakeCore
import IntakeStore
import Logging
import Synchronization

/// Runs one batch (docs/control-files.md#running-a-batch) synchronously: call it on a thread of its own.
/// Records are processed in chunks; each chunk's commits, log lines and run position are saved
/// in one transaction, so a stopped run resumes at the first uncommitted record.
package final class BatchRun {
    package enum Outcome: Sendable, Equatable {
        case finished(BatchState)
        /// Stopped on request before the end; the batch stays `running` and resumes later.
        case interrupted
        /// Another process took the batch over (this one's lease expired); nothing more was written.
        case lostLease
        /// The database could not be used (a server restarting, a full disk): the run stopped where
        /// its last chunk was committed and the batch stays `running`, to resume once the database
        /// answers again. Nothing is ended as `error` for a fault that a retry gets over.
        case storeUnavailable(String)
    }

    let environment: ImportEnvironment
    let batch: Batch
    let logger: Logger
    let stopRequested: @Sendable () -> Bool
    var progress: RunProgress
    var pendingLines: [String] = []

    static let recordsPerChunk = 2000
    static let secondsPerChunk = 0.5

    package init(
        environment: ImportEnvironment, batch: Batch, logger: Logger,
        stopRequested: @escaping @Sendable () -> Bool = { false }
    ) {
        self.environment = environment
        self.batch = batch
        self.logger = logger
        self.stopRequested = stopRequested
        self.progress = batch.progress
    }

    var now: Date { environment.now() }

    /// Runs on a dedicated thread: the run blocks on database I/O, which must not tie up the
    /// cooperative thread pool that serves HTTP requests. The thread (and the reader, writer and
    /// checking threads it starts, which inherit it) runs at a lower priority, so a run that keeps
    /// every core busy still leaves the API answering promptly.
    ///
    /// Meanwhile a heartbeat renews the batch's lease, so that no other process takes over a run that
    /// is busy between commits (a long well-formedness check, a slow record).
    package func runOnOwnThread(heartbeat: Duration = .seconds(5)) async -> Outcome {
        let box = UncheckedBox(self)
        let (store, id, clock, lost) = (environment.store, batch.id, environment.now, leaseLost)
        let liveness = liveness
        let logger = logger
        let stall = Self.stallSeconds
        let heartbeatTask = Task {
            var warned = false
            while !Task.isCancelled {
                try? await Task.sleep(for: heartbeat)
                if Task.isCancelled { break }
                // A run stuck past every deadline must not keep its batch from the other processes.
                if liveness.isStalled(after: stall) {
                    if !warned {
                        logger.error(
                            "the run has not moved for \(stall) s: its lease is no longer renewed, so another process can take the batch over",
                            metadata: ["intake.batch.id": "\(id)"])
                        warned = true
                    }
                    continue
                }
                do {
                    try await store.renewLease(id, now: clock())
                } catch is LeaseLost {
                    lost.set()
                    break
                } catch {
                    // A busy database: the next chunk commit renews the lease as well.
                }
            }
        }
        defer { heartbeatTask.cancel() }
        return await withCheckedContinuation { continuation in
            let thread = Thread {
                lowerThreadPriority()
                continuation.resume(returning: box.value.run())
            }
            thread.name = "intake-batch-run"
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    let leaseLost = Flag()
    let liveness = RunLiveness()
    /// Far beyond any wait of a healthy run (a database answer is waited for at most 60 s).
    static let stallSeconds: Int64 = 600

    private let runStarted = Date()

    package func run() -> Outcome {
        let resuming = progress.logLines > 0
        if !resuming { pendingLines.append("START: \(Timestamp.string(now))") }
        var state = batch.dryRun ? BatchState.dryRun : .complete
        do {
            let outcome: Outcome
            do {
                outcome = try process(resuming: resuming)
            } catch {
                // What was queued before the error is still stored; a failure to store it wins.
                try finishStoreWriter()
                throw error
            }
            try finishStoreWriter()
            switch outcome {
            case .interrupted:
                try flushLog()
                return .interrupted
            case .finished(.cancelled):
                state = .cancelled
            case .finished(.held):
                state = .held
            case .finished(.error):
                // An all-or-nothing run that applied nothing: its lines are written already.
                state = .error
            default:
                break
            }
        } catch let failure as StoreWriterFailure where failure.error is LeaseLost {
            return abandonLostRun()
        } catch is LeaseLost {
            return abandonLostRun()
        } catch let error where Self.unavailable(error) != nil {
            return pauseForUnavailableStore(Self.unavailable(error)!)
        } catch let stopped as RunStopped {
            pendingLines.append(stopped.line)
            state = .error
        } catch let failure as StoreWriterFailure {
            // The chunks after the last stored one are gone, and so are their counts and lines.
            (progress, pendingLines) = (failure.committedProgress, failure.carriedLines)
            pendingLines.append(exceptionLine(for: failure.error))
            progress.errors += 1
            state = .error
        } catch {
            pendingLines.append(exceptionLine(for: error))
            progress.errors += 1
            state = .error
        }
        // A held run has not ended: it continues once approved, and keeps the keys it saw for that.
        if state != .held {
            pendingLines.append("END: \(Timestamp.string(now))")
            do {
                try forgetSeenFeedKeys()
            } catch {
                logger.warning("could not drop the feed keys a run saw", metadata: ["intake.batch.id": "\(batch.id)", "error": "\(error)"])
            }
        }
        do {
            let (store, id, finalState, finalProgress, lines, time) = (environment.store, batch.id, state, progress, pendingLines, now)
            try blocking {
                try await store.finish(id, state: finalState, progress: finalProgress, logLines: lines, now: time)
            }
        } catch let error as StoreUnavailable {
            // The end could not be written: the batch resumes once the database answers, finds no
            // record left (or the same fault again) and writes its end then.
            return pauseForUnavailableStore(error)
        } catch {
            logger.error("could not save the end of a run", metadata: ["intake.batch.id": "\(batch.id)", "error": "\(error)"])
        }
        reportRecordMetrics()
        environment.metrics.recordBatch(state: state.rawValue, seconds: Date().timeIntervalSince(runStarted))
        logger.info("batch finished", metadata: ["intake.batch.id": "\(batch.id)", "intake.state": "\(state.rawValue)"])
        return .finished(state)
    }

    /// The records after the last committed chunk are read again when the run resumes; what this run
    /// held in memory (counts, log lines of uncommitted chunks) is dropped with it, as after a crash.
    private func pauseForUnavailableStore(_ error: StoreUnavailable) -> Outcome {
        logger.warning(
            "batch paused: the database cannot be used; it resumes once the database answers",
            metadata: ["intake.batch.id": "\(batch.id)", "error": "\(error)"])
        return .storeUnavailable(error.reason)
    }

    /// Another process owns the batch now and will finish it; this run must not write its end.
    private func abandonLostRun() -> Outcome {
        logger.warning("batch taken over by another process; this run stopped", metadata: ["intake.batch.id": "\(batch.id)"])
        return .lostLease
    }

    /// The `EXCEPTION:` line that ends a failed run. Errors of the run (a reader, the control file)
    /// are the operator's to fix and are quoted; anything else (a database or disk failure) is told in
    /// words, with its detail in the server log only: SQL text means nothing to an operator.
    func exceptionLine(for error: any Error) -> String {
        let message: String, file: String?, line: Int?
        switch error {
        case let fatal as FatalRunError:
            (message, file, line) = (fatal.message, fatal.file, fatal.line)
        default:
            logger.error("batch run failed", metadata: ["intake.batch.id": "\(batch.id)", "error": "\(error)"])
            message =
                wholeTransaction != nil
                ? "the store could not save the batch's records (a database or disk failure; the server log has the detail). Nothing of the batch was applied; run it again"
                : "the store could not save the last chunk of records (a database or disk failure; the server log has the detail). Records committed before it stay; run the batch again to import the rest"
            (file, line) = (nil, nil)
        }
        return "EXCEPTION: Error during import: \(message). File: \(file ?? "undefined"), line: \(line.map(String.init) ?? "undefined")"
            .escapingControlCharacters
    }

    struct FatalRunError: Error {
        var message: String
        var file: String?
        var line: Int?
        /// Set when the file could not be read because the database could not be used (files are
        /// in it on PostgreSQL): not the file's fault, so the run waits instead of failing.
        var storeUnavailable: StoreUnavailable?

        init(message: String, file: String? = nil, line: Int? = nil, storeUnavailable: StoreUnavailable? = nil) {
            (self.message, self.file, self.line, self.storeUnavailable) = (message, file, line, storeUnavailable)
        }

        /// A reader's error in `file`: a retryable one is the database's, not the file's.
        init(_ error: ReaderError, file: String?, line: Int? = nil) {
            self.init(
                message: error.message, file: file, line: line ?? error.line,
                storeUnavailable: error.isRetryable ? StoreUnavailable(reason: error.message) : nil)
        }
    }

    /// The `StoreUnavailable` behind an error of the run, if that is what it is.
    static func unavailable(_ error: any Error) -> StoreUnavailable? {
        switch error {
        case let error as StoreUnavailable: return error
        case let fatal as FatalRunError: return fatal.storeUnavailable
        case let failure as StoreWriterFailure: return unavailable(failure.error)
        default: return nil
        }
    }

    private func flushLog() throws {
        guard !pendingLines.isEmpty else { return }
        try environment.store.inImportTransaction(batch: batch.id, now: now) { tx in
            try tx.appendLog(pendingLines, startingAt: progress.logLines)
            progress.logLines += pendingLines.count
            try tx.saveProgress(progress)
        }
        pendingLines = []
    }

    private func process(resuming: Bool) throws -> Outcome {
        guard let control = try environment.loadControlFileBlocking(batch.control) else {
            throw FatalRunError(message: "Control file \(batch.control) is missing or not JSON")
        }
        if let object = control.objectValue, ErrorPolicy(control: object)?.mode == .allOrNothing {
            return try processAllOrNothing(control: control, resuming: resuming)
        }
        return try processRecords(control: control, resuming: resuming)
    }

    /// Runs the batch's records (and a feed's leavers) from where the progress stands.
    func processRecords(control: JSONValue, resuming: Bool) throws -> Outcome {
        let proxy = RepositoryProxy()
        let engineEnvironment = EngineEnvironment(
            models: environment.models, filters: environment.filters, repository: proxy,
            recordProcessors: Set(environment.recordProcessors.keys))
        // Preparation may read the store (title mappings), so it runs in a transaction too.
        let importBatch: ImportBatch = try inRunTransaction { tx in
            proxy.transaction = tx
            defer { proxy.transaction = nil }
            do {
                let prepared = try ImportBatch(
                    control: control, environment: engineEnvironment, readers: Set(environment.readers.keys),
                    resumeAt: resuming ? (progress.recordsRead, progress.errors) : nil,
                    errorSink: { [unowned self] line in pendingLines.append(line.escapingControlCharacters) })
                feedRun = try prepareFeed(prepared, tx: tx)
                return prepared
            } catch let error as ImportFatalError {
                throw FatalRunError(message: error.message)
            }
        }
        recordLocations = importBatch.control["recordLocations"]?.isTruthy ?? false
        errorLimit = ErrorPolicy(control: importBatch.control).map { ($0, "the control file's") }
        if let maxErrors = batch.maxErrors {
            // The batch's own limit replaces the control file's number; a rate still holds.
            var policy = errorLimit?.policy ?? ErrorPolicy()
            policy.maxErrors = maxErrors
            errorLimit = (policy, "the batch's")
        }
        repositoryProxy = proxy
        // A feed record reads and writes its key's memory, which the writer thread's pipeline would
        // wait for at every record: feed batches run in direct transactions throughout.
        // An all-or-nothing run is one transaction: it has no chunks to pipeline.
        if feedRun != nil || wholeTransaction != nil { directChunksLeft = Int.max }
        let files = try batch.files.map { file in (file, try readerFactory(for: file, control: importBatch.control)) }
        // Every file is checked for well-formedness before anything is committed (§3.1), while the
        // run goes ahead: see WellFormednessCheck.
        wellFormedness = WellFormednessCheck(files: files.map { file, makeReader in (file.name, makeReader) })
        let liveness = liveness
        wellFormedness?.onFinish { liveness.checkPassed() }
        progress.errors = importBatch.errorCount
        let sources = try recordSources(files, control: importBatch.control)
        if let feedRun, let held = try checkRecordCount(feedRun, files: sources.map(\.name)) { return held }
        for index in progress.fileIndex..<sources.count {
            let source = sources[index]
            var reader = try source.makeReader()
            do {
                for _ in 0..<progress.recordsDoneInFile { _ = try reader.skipNext() }
            } catch {
                throw FatalRunError(error, file: source.name)
            }
            var prefetching: any RecordReader = PrefetchingRecordReader(reader, digesting: feedRun != nil)
            let outcome = try processFile(source, reader: &prefetching, batch: importBatch, proxy: proxy, bytesBefore: source.bytesBefore)
            if outcome != .finished(.complete) { return outcome }
            progress.fileIndex = index + 1
            progress.recordsDoneInFile = 0
        }
        if let feedRun {
            let outcome = try processLeavers(feedRun, files: sources.map(\.name), importBatch: importBatch, proxy: proxy)
            progress.errors = importBatch.errorCount
            return outcome
        }
        progress.errors = importBatch.errorCount
        return .finished(.complete)
    }

    /// Where records come from: a file and its reader.
    struct RecordSource {
        var name: String
        var filename: String
        var bytesBefore: Int64
        var makeReader: () throws -> any RecordReader
    }

    /// The batch's files in order or, with a `recordProcessor`, what the processor makes of them. A
    /// resumed run processes again and skips what was done, so processors must be deterministic.
    private func recordSources(_ files: [(BatchFile, () throws -> any RecordReader)], control: JSONObject) throws -> [RecordSource] {
        var offset: Int64 = 0
        let plain = files.map { file, make in
            defer { offset += file.size }
            return RecordSource(name: file.name, filename: file.filename, bytesBefore: offset, makeReader: make)
        }
        guard let name = control["recordProcessor"]?.jsForm, let descriptor = environment.recordProcessors[name] else {
            return plain
        }
        let outputs: [NamedReader]
        do {
            outputs = try descriptor.make().process(try plain.map { NamedReader(fileName: $0.name, reader: try $0.makeReader()) })
        } catch let error as ReaderError {
            throw FatalRunError(message: error.message, line: error.line)
        }
        return outputs.map { output in
            RecordSource(name: output.fileName, filename: output.fileName, bytesBefore: 0, makeReader: { output.reader })
        }
    }

    private func readerFactory(for file: BatchFile, control: JSONObject) throws -> () throws -> any RecordReader {
        let files = control["files"]?.objectValue ?? JSONObject()
        guard case .object(let spec)? = files[file.name] ?? files["DEFAULT"] else {
            throw FatalRunError(message: "Could not find file specification in control file for file \(file.name) (and DEFAULT file entry does not exist)")
        }
        let readName = spec["read"]?.jsForm ?? ""
        guard let descriptor = environment.readers[readName] else {
            throw FatalRunError(message: "Unknown reader for file \(file.name): \(readName)")
        }
        let blobs = environment.blobs
        return {
            do {
                switch descriptor.input {
                case .bytes(let make): return try make(file.name, try blobs.open(file.digest), spec)
                case .file(let make):
                    // The reader keeps the file as long as it reads it.
                    let local = try blobs.localFile(file.digest)
                    return try make(file.name, local.path, spec)
                }
            } catch let error as ReaderError {
                throw FatalRunError(error, file: file.name)
            } catch let error as StoreUnavailable {
                // The file is in the database, which cannot be used now: the run waits for it.
                throw error
            } catch {
                throw FatalRunError(message: "Could not open file \(file.name)", file: file.name)
            }
        }
    }

    /// Adds the records processed since the last report to the process's metrics; called after
    /// every chunk and at the end, so the metrics follow a running batch.
    func reportRecordMetrics() {
        let (applied, failed) = (progress.recordsApplied, progress.recordsFailed)
        environment.metrics.recordRecords(applied: applied - reportedRecords.applied, failed: failed - reportedRecords.failed)
        reportedRecords = (applied, failed)
    }

    // State of the chunk loop (BatchRun+Chunks.swift).
    lazy var reportedRecords = (applied: batch.progress.recordsApplied, failed: batch.progress.recordsFailed)
    static let directChunksAfterReads = 16
    /// A chunk through the writer thread whose records read the store ends after this many records:
    /// each read waits for the writer, so a whole chunk of them (every 17th chunk of a nightly
    /// re-import) was costly; a few dozen show the same (docs/DECISIONS.md, "Measurements behind
    /// the code").
    static let recordsToSeeReads = 64
    var directChunksLeft = 0
    var storeWriter: StoreWriter?
    var pipelinedTransaction: PipelinedTransaction?
    var wellFormedness: WellFormednessCheck?
    var lastLine = 0
    var recordLocations = false
    var feedRun: FeedRun?
    /// The error limits of the run (`errorPolicy`), and whose they are.
    var errorLimit: (policy: ErrorPolicy, whose: String)?
    /// The one transaction of an all-or-nothing run while it runs, and where its lines wait
    /// (BatchRun+AllOrNothing.swift).
    var wholeTransaction: (any ImportTransaction)?
    var spools: (log: LineSpool, results: LineSpool)?
    /// Reused for each feed record's digest.
    var digestBuffer: [UInt8] = []
    var repositoryProxy: RepositoryProxy?
}
