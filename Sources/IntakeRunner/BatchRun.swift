import Foundation
import IntakeCore
import IntakeStore
import Logging
import Synchronization

/// Runs one batch (CONTROL-FILE.md §8.3) synchronously: call it on a thread of its own.
/// Records are processed in chunks; each chunk's commits, log lines and run position are saved
/// in one transaction, so a stopped run resumes at the first uncommitted record.
public final class BatchRun {
    public enum Outcome: Sendable, Equatable {
        case finished(BatchState)
        /// Stopped on request before the end; the batch stays `running` and resumes later.
        case interrupted
        /// Another process took the batch over (this one's lease expired); nothing more was written.
        case lostLease
    }

    private let environment: ImportEnvironment
    private let batch: Batch
    private let logger: Logger
    private let stopRequested: @Sendable () -> Bool
    private var progress: RunProgress
    private var pendingLines: [String] = []

    static let recordsPerChunk = 2000
    static let secondsPerChunk = 0.5

    public init(environment: ImportEnvironment, batch: Batch, logger: Logger,
                stopRequested: @escaping @Sendable () -> Bool = { false }) {
        self.environment = environment
        self.batch = batch
        self.logger = logger
        self.stopRequested = stopRequested
        self.progress = batch.progress
    }

    private var now: Date { environment.now() }

    /// Runs on a dedicated thread: the run blocks on database I/O, which must not tie up the
    /// cooperative thread pool that serves HTTP requests. The thread (and the reader, writer and
    /// checking threads it starts, which inherit it) runs at a lower priority, so a run that keeps
    /// every core busy still leaves the API answering promptly.
    ///
    /// Meanwhile a heartbeat renews the batch's lease, so that no other process takes over a run that
    /// is busy between commits (a long well-formedness check, a slow record).
    public func runOnOwnThread(heartbeat: Duration = .seconds(5)) async -> Outcome {
        let box = UncheckedBox(self)
        let (store, id, clock, lost) = (environment.store, batch.id, environment.now, leaseLost)
        let heartbeatTask = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: heartbeat)
                if Task.isCancelled { break }
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

    private let leaseLost = Flag()

    private let runStarted = Date()

    public func run() -> Outcome {
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
            default:
                break
            }
        } catch let failure as StoreWriterFailure where failure.error is LeaseLost {
            return abandonLostRun()
        } catch is LeaseLost {
            return abandonLostRun()
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
        pendingLines.append("END: \(Timestamp.string(now))")
        do {
            let (store, id, finalState, finalProgress, lines, time) = (environment.store, batch.id, state, progress, pendingLines, now)
            try blocking {
                try await store.finish(id, state: finalState, progress: finalProgress, logLines: lines, now: time)
            }
        } catch {
            logger.error("could not save the end of a run", metadata: ["intake.batch.id": "\(batch.id)", "error": "\(error)"])
        }
        environment.metrics.recordRecords(applied: progress.recordsApplied - batch.progress.recordsApplied,
                                          failed: progress.recordsFailed - batch.progress.recordsFailed)
        environment.metrics.recordBatch(state: state.rawValue, seconds: Date().timeIntervalSince(runStarted))
        logger.info("batch finished", metadata: ["intake.batch.id": "\(batch.id)", "intake.state": "\(state.rawValue)"])
        return .finished(state)
    }

    /// Another process owns the batch now and will finish it; this run must not write its end.
    private func abandonLostRun() -> Outcome {
        logger.warning("batch taken over by another process; this run stopped", metadata: ["intake.batch.id": "\(batch.id)"])
        return .lostLease
    }

    /// The `EXCEPTION:` line that ends a failed run. Errors of the run (a reader, the control file)
    /// are the operator's to fix and are quoted; anything else (a database or disk failure) is told in
    /// words, with its detail in the server log only: SQL text means nothing to an operator.
    private func exceptionLine(for error: any Error) -> String {
        let message: String, file: String?, line: Int?
        switch error {
        case let fatal as FatalRunError:
            (message, file, line) = (fatal.message, fatal.file, fatal.line)
        default:
            logger.error("batch run failed", metadata: ["intake.batch.id": "\(batch.id)", "error": "\(error)"])
            message = "the store could not save the last chunk of records (a database or disk failure; the server log has the detail). Records committed before it stay; run the batch again to import the rest"
            (file, line) = (nil, nil)
        }
        return "EXCEPTION: Error during import: \(message). File: \(file ?? "undefined"), line: \(line.map(String.init) ?? "undefined")"
            .escapingControlCharacters
    }

    struct FatalRunError: Error {
        var message: String
        var file: String?
        var line: Int?
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
        guard let control = environment.controlFile(batch.control) else {
            throw FatalRunError(message: "Control file \(batch.control) is missing or not JSON")
        }
        let proxy = RepositoryProxy()
        let engineEnvironment = EngineEnvironment(models: environment.models, filters: environment.filters, repository: proxy,
                                                  recordProcessors: Set(environment.recordProcessors.keys))
        // Preparation may read the store (title mappings), so it runs in a transaction too.
        let importBatch: ImportBatch = try environment.store.inImportTransaction(batch: batch.id, now: now) { tx in
            proxy.transaction = tx
            defer { proxy.transaction = nil }
            do {
                return try ImportBatch(
                    control: control, environment: engineEnvironment, readers: Set(environment.readers.keys),
                    resumeAt: resuming ? (progress.recordsRead, progress.errors) : nil,
                    errorSink: { [unowned self] line in pendingLines.append(line.escapingControlCharacters) })
            } catch let error as ImportFatalError {
                throw FatalRunError(message: error.message)
            }
        }
        recordLocations = importBatch.control["recordLocations"]?.isTruthy ?? false
        let files = try batch.files.map { file in (file, try readerFactory(for: file, control: importBatch.control)) }
        // Every file is checked for well-formedness before anything is committed (§3.1), while the
        // run goes ahead: see WellFormednessCheck.
        wellFormedness = WellFormednessCheck(files: files.map { file, makeReader in (file.name, makeReader) })
        progress.errors = importBatch.errorCount
        let sources = try recordSources(files, control: importBatch.control)
        for index in progress.fileIndex..<sources.count {
            let source = sources[index]
            var reader = try source.makeReader()
            do {
                for _ in 0..<progress.recordsDoneInFile { _ = try reader.skipNext() }
            } catch {
                throw FatalRunError(message: error.message, file: source.name, line: error.line)
            }
            var prefetching: any RecordReader = PrefetchingRecordReader(reader)
            let outcome = try processFile(source, reader: &prefetching, batch: importBatch, proxy: proxy, bytesBefore: source.bytesBefore)
            if outcome != .finished(.complete) { return outcome }
            progress.fileIndex = index + 1
            progress.recordsDoneInFile = 0
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
        let path = environment.blobs.url(for: file.digest).path
        return {
            do {
                switch descriptor.input {
                case .bytes(let make): return try make(file.name, try FileByteSource(path: path), spec)
                case .file(let make): return try make(file.name, path, spec)
                }
            } catch let error as ReaderError {
                throw FatalRunError(message: error.message, file: file.name, line: error.line)
            } catch {
                throw FatalRunError(message: "Could not open file \(file.name)", file: file.name)
            }
        }
    }

    /// Processes one file chunk by chunk. Returns `.interrupted` when asked to stop between chunks and
    /// `.finished(.cancelled)` when the batch was cancelled.
    private func processFile(_ file: RecordSource, reader: inout any RecordReader, batch importBatch: ImportBatch,
                             proxy: RepositoryProxy, bytesBefore: Int64) throws -> Outcome {
        var chunk = ChunkState()
        while !chunk.finished && !chunk.cancelled {
            if leaseLost.isSet { throw LeaseLost(batch: batch.id) }
            if stopRequested() { return .interrupted }
            if directChunksLeft == 0 {
                let (writer, tx) = pipeline()
                try writer.begin(carrying: pendingLines)
                proxy.transaction = tx
                defer { proxy.transaction = nil }
                let count: Int
                do {
                    count = try fillChunk(&chunk, tx: tx, file: file, reader: &reader, importBatch: importBatch, bytesBefore: bytesBefore)
                } catch {
                    // Half a chunk (maybe half a record) is queued: it is rolled back, and the run ends
                    // reporting what was stored.
                    (storeWriter, pipelinedTransaction) = (nil, nil)
                    let stored = writer.abandon()
                    progress = stored.progress
                    if let lines = stored.carriedLines { pendingLines = lines }
                    throw error
                }
                // Records that read the store make the run loop wait for the writer at every read;
                // then direct transactions on this thread are faster for a while.
                if tx.readsInChunk * 4 > count { directChunksLeft = Self.directChunksAfterReads }
                try tx.endChunk()
                try writer.commit(progress)
            } else {
                directChunksLeft -= 1
                if let writer = storeWriter {
                    try writer.drain()
                    pipelinedTransaction?.forgetRefCounter()
                }
                if case .failure(let failure)? = wellFormedness?.wait() { throw failure }
                // A chunk that fails (a database error) is rolled back whole; so are its counts and
                // lines, so the batch's end state reports only what was stored.
                let (progressBefore, linesBefore) = (progress, pendingLines)
                do {
                    try environment.store.inImportTransaction(batch: batch.id, now: now) { tx in
                        proxy.transaction = tx
                        defer { proxy.transaction = nil }
                        _ = try fillChunk(&chunk, tx: tx, file: file, reader: &reader, importBatch: importBatch, bytesBefore: bytesBefore)
                    }
                } catch {
                    (progress, pendingLines) = (progressBefore, linesBefore)
                    throw error
                }
            }
            if let fatal = chunk.fatal { throw fatal }
        }
        return chunk.cancelled ? .finished(.cancelled) : .finished(.complete)
    }

    private struct ChunkState {
        var finished = false
        var cancelled = false
        var fatal: FatalRunError?
    }

    static let directChunksAfterReads = 16
    private var directChunksLeft = 0
    private var storeWriter: StoreWriter?
    private var pipelinedTransaction: PipelinedTransaction?

    private var wellFormedness: WellFormednessCheck?

    private func pipeline() -> (StoreWriter, PipelinedTransaction) {
        if let storeWriter, let pipelinedTransaction { return (storeWriter, pipelinedTransaction) }
        let writer = StoreWriter(store: environment.store, batch: batch.id, now: environment.now, progress: progress,
                                 gate: wellFormedness)
        let tx = PipelinedTransaction(writer: writer)
        (storeWriter, pipelinedTransaction) = (writer, tx)
        return (writer, tx)
    }

    /// Waits for the writer thread to store everything and ends it.
    private func finishStoreWriter() throws {
        guard let writer = storeWriter else { return }
        (storeWriter, pipelinedTransaction) = (nil, nil)
        try writer.finish()
    }

    /// Transforms and commits records into one chunk's transaction and saves the chunk's log lines,
    /// results and run position in it. Returns the number of records.
    private func fillChunk(_ chunk: inout ChunkState, tx: any ImportTransaction, file: RecordSource,
                           reader: inout any RecordReader, importBatch: ImportBatch, bytesBefore: Int64) throws -> Int {
        // A cancel from another process is seen here, between chunks; one through this process's
        // API is seen between records.
        if try tx.isCancelRequested() { chunk.cancelled = true }
        let started = Date()
        var count = 0
        var results: [String] = []
        while !chunk.cancelled, count < Self.recordsPerChunk, Date().timeIntervalSince(started) < Self.secondsPerChunk {
            if environment.cancellations.contains(batch.id) { chunk.cancelled = true; break }
            let record: SourceRecord?
            do {
                record = try reader.next()
            } catch let error as ReaderError {
                chunk.fatal = FatalRunError(message: error.message, file: file.name, line: error.line)
                break
            }
            guard let record else { chunk.finished = true; break }
            count += 1
            do {
                results.append(try transformAndCommit(record, file: file, importBatch: importBatch, tx: tx))
            } catch let error as ImportFatalError {
                chunk.fatal = FatalRunError(message: error.message, file: file.name, line: record.line)
                break
            }
        }
        if chunk.cancelled {
            pendingLines.append("CANCELLED: stopped after \(progress.recordsRead) records, before \(file.name) line \(lastLine + 1)")
        }
        progress.bytesRead = bytesBefore + Int64(reader.bytesRead)
        progress.errors = importBatch.errorCount
        try tx.appendLog(pendingLines, startingAt: progress.logLines)
        progress.logLines += pendingLines.count
        pendingLines = []
        try tx.appendResults(results, startingAt: progress.resultLines)
        progress.resultLines += results.count
        try tx.saveProgress(progress)
        return count
    }

    private var lastLine = 0
    private var recordLocations = false

    /// Transforms one record, commits it unless this is a dry run, and returns its result line.
    private func transformAndCommit(_ record: SourceRecord, file: RecordSource, importBatch: ImportBatch,
                                    tx: any ImportTransaction) throws -> String {
        let linesBefore = pendingLines.count
        // Opt-in `"recordLocations": true` in the control file (an extension; other keys are ignored by
        // the original) adds the file and line to each record's identifier, and so to every message.
        let identifier = recordLocations
            ? "record \(importBatch.recordCounter), \(file.filename) line \(record.line)" : nil
        let transformation = try importBatch.transform(record.value, identifier: identifier)
        progress.recordsRead += 1
        progress.recordsDoneInFile += 1
        lastLine = record.line
        var status = "failed"
        var changes: [RecordChange] = []
        if transformation.isComplete && !batch.dryRun {
            // A commit stops half-way only on a database error (an aborted target is skipped and the
            // others still saved, §7.7 compat), and a database error rolls back the chunk's transaction
            // and ends the run. So one target's writes need no savepoint; several get one all the same,
            // so a record stays whole even with a store that recovers from a failed statement.
            changes = transformation.targetsToCommit > 1
                ? try tx.atomically { try transformation.commit() }
                : try transformation.commit()
            if !transformation.isComplete {
                progress.recordsFailed += 1
            } else if changes.allSatisfy({ $0.outcome == .unchanged }) && !changes.isEmpty {
                progress.recordsUnchanged += 1
                progress.recordsApplied += 1
                status = "unchanged"
            } else {
                progress.recordsApplied += 1
                status = "applied"
            }
        } else if transformation.isComplete {
            progress.recordsApplied += 1
            status = "dry-run"
        } else {
            progress.recordsFailed += 1
        }
        return RecordResult.line(record: transformation.identifier, file: file.name, line: record.line, status: status,
                                 changes: changes, errors: Array(pendingLines[linesBefore...]))
    }
}

/// One line of `GET results` (API.md "Extensions"), written as bytes: one is made per record.
enum RecordResult {
    static func line(record: String, file: String, line: Int, status: String, changes: [RecordChange], errors: [String]) -> String {
        var out = JSONBytes()
        out.raw("{\"record\":")
        out.string(record)
        out.field("file", file)
        out.raw(",\"line\":" + String(line))
        out.field("status", status)
        out.raw(",\"changes\":[")
        var first = true
        for change in changes where change.outcome != .unchanged {
            out.raw(first ? "{\"kind\":" : ",{\"kind\":")
            first = false
            out.string(change.ref == nil ? "dictionary:commit" : "object:save")
            out.field("destination", change.destination)
            if let ref = change.ref {
                out.field("ref", ref.text)
                out.raw(change.isNew ? ",\"new\":true" : ",\"new\":false")
            }
            out.raw("}")
        }
        out.raw("],\"errors\":[")
        for (i, error) in errors.enumerated() {
            if i > 0 { out.raw(",") }
            out.string(error)
        }
        out.raw("]}")
        return out.text
    }
}

/// A flag one thread sets and another reads.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}

/// Raises the calling thread's nice value by 5. On Linux nice is per thread and inherited by the
/// threads it creates.
func lowerThreadPriority() {
    #if os(Linux)
    // `who` 0 is the calling task, which on Linux is this thread, not the whole process.
    _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 5)
    #endif
}

/// Runs async work from synchronous code on a runner thread.
func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let result = Mutex<Result<T, any Error>?>(nil)
    let semaphore = DispatchSemaphore(value: 0)
    Task {
        let r: Result<T, any Error>
        do { r = .success(try await body()) } catch { r = .failure(error) }
        result.withLock { $0 = r }
        semaphore.signal()
    }
    semaphore.wait()
    return try result.withLock { $0! }.get()
}
