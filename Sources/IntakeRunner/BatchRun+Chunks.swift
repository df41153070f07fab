import Foundation
import IntakeCore
import IntakeStore

/// The chunk loop of a run: records are read, transformed and committed a chunk at a time, through
/// the store writer's pipeline or, after records that read the store, in direct transactions.
extension BatchRun {
    /// Processes one file chunk by chunk. Returns `.interrupted` when asked to stop between chunks and
    /// `.finished(.cancelled)` when the batch was cancelled.
    func processFile(
        _ file: RecordSource, reader: inout any RecordReader, batch importBatch: ImportBatch,
        proxy: RepositoryProxy, bytesBefore: Int64
    ) throws -> Outcome {
        var chunk = ChunkState()
        while !chunk.finished && !chunk.cancelled {
            liveness.tick()
            if leaseLost.isSet { throw LeaseLost(batch: batch.id) }
            if stopRequested() { return .interrupted }
            if directChunksLeft == 0 {
                let (writer, tx) = pipeline()
                try writer.begin(carrying: pendingLines)
                proxy.transaction = tx
                defer { proxy.transaction = nil }
                let count: Int
                do {
                    // Ended early once its records are seen to read the store (see below): the
                    // direct transactions that follow take the rest.
                    count = try fillChunk(
                        &chunk, tx: tx, file: file, reader: &reader, importBatch: importBatch, bytesBefore: bytesBefore,
                        endEarly: { count in count >= Self.recordsToSeeReads && tx.readsInChunk * 4 > count })
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
                if chunk.finished || chunk.cancelled || chunk.fatal != nil || directChunksLeft > 0 { try tx.releaseUnusedRefs() }
                try tx.endChunk()
                try writer.commit(progress)
            } else {
                directChunksLeft -= 1
                if let writer = storeWriter {
                    try writer.drain()
                    pipelinedTransaction?.forgetRefCounter()
                }
                // A chunk that fails (a database error) is rolled back whole; so are its counts and
                // lines, so the batch's end state reports only what was stored.
                let (progressBefore, linesBefore) = (progress, pendingLines)
                do {
                    try inRunTransaction { tx in
                        proxy.transaction = tx
                        defer { proxy.transaction = nil }
                        // Nothing is committed before every file is proved well-formed: until then
                        // chunks go on in this first transaction (as the writer thread merges them),
                        // so the run does not sit idle while the files are checked.
                        repeat {
                            liveness.tick()
                            _ = try fillChunk(&chunk, tx: tx, file: file, reader: &reader, importBatch: importBatch, bytesBefore: bytesBefore)
                        } while wellFormedness?.result == nil && !chunk.finished && !chunk.cancelled && chunk.fatal == nil
                            && chunk.stopped == nil && !stopRequested()
                        if case .failure(let failure)? = wellFormedness?.wait() { throw failure }
                    }
                } catch {
                    (progress, pendingLines) = (progressBefore, linesBefore)
                    throw error
                }
            }
            reportRecordMetrics()
            if let fatal = chunk.fatal { throw fatal }
            if let stopped = chunk.stopped { throw stopped }
        }
        return chunk.cancelled ? .finished(.cancelled) : .finished(.complete)
    }

    struct ChunkState {
        var finished = false
        var cancelled = false
        var fatal: FatalRunError?
        /// The error limit was passed (`ErrorPolicy`): the run ends after this chunk is committed.
        var stopped: RunStopped?
    }

    /// A run that stopped at its error limit: its `STOPPED:` line ends the log, the batch ends in
    /// `error`, and the records committed before stay.
    struct RunStopped: Error {
        var line: String
    }

    func pipeline() -> (StoreWriter, PipelinedTransaction) {
        if let storeWriter, let pipelinedTransaction { return (storeWriter, pipelinedTransaction) }
        let writer = StoreWriter(
            store: environment.store, batch: batch.id, now: environment.now, progress: progress,
            gate: wellFormedness)
        let tx = PipelinedTransaction(writer: writer)
        (storeWriter, pipelinedTransaction) = (writer, tx)
        return (writer, tx)
    }

    /// Waits for the writer thread to store everything and ends it.
    func finishStoreWriter() throws {
        guard let writer = storeWriter else { return }
        (storeWriter, pipelinedTransaction) = (nil, nil)
        try writer.finish()
    }

    /// Transforms and commits records into one chunk's transaction and saves the chunk's log lines,
    /// results and run position in it. Returns the number of records.
    func fillChunk(
        _ chunk: inout ChunkState, tx: any ImportTransaction, file: RecordSource,
        reader: inout any RecordReader, importBatch: ImportBatch, bytesBefore: Int64,
        endEarly: (_ records: Int) -> Bool = { _ in false }
    ) throws -> Int {
        // A cancel from another process is seen here, between chunks; one through this process's
        // API is seen between records.
        if try tx.isCancelRequested() { chunk.cancelled = true }
        let started = Date()
        var count = 0
        var results: [String] = []
        // A push API call waiting to write ends the chunk after the record in hand (`WriteYield`).
        let yield = environment.writeYield
        // Only a feed run's reader works digests out and has its records' keys read ahead; a plain
        // import does not ask.
        let feedReader = feedRun == nil ? nil : reader as? PrefetchingRecordReader
        while !chunk.cancelled, chunk.stopped == nil, count < Self.recordsPerChunk, Date().timeIntervalSince(started) < Self.secondsPerChunk,
            count == 0 || !yield.isWanted
        {
            if environment.cancellations.contains(batch.id) { chunk.cancelled = true; break }
            if endEarly(count) { break }
            let record: SourceRecord?
            do {
                record = try reader.next()
            } catch {
                chunk.fatal = FatalRunError(error, file: file.name)
                break
            }
            guard let record else { chunk.finished = true; break }
            count += 1
            do {
                results.append(try transformAndCommit(record, reader: feedReader, file: file, importBatch: importBatch, tx: tx))
            } catch let error as ImportFatalError {
                chunk.fatal = FatalRunError(message: error.message, file: file.name, line: record.line)
                break
            }
            if let errorLimit, let line = errorLimit.policy.stopLine(errors: importBatch.errorCount, records: progress.recordsRead, whose: errorLimit.whose) {
                chunk.stopped = RunStopped(line: line)
            }
        }
        if chunk.cancelled {
            pendingLines.append("CANCELLED: stopped after \(progress.recordsRead) records, before \(file.name) line \(lastLine + 1)")
        }
        progress.bytesRead = bytesBefore + Int64(reader.bytesRead)
        try saveChunk(results: results, importBatch: importBatch, tx: tx)
        return count
    }

    /// Saves a chunk's log lines, results and run position in its transaction.
    /// An all-or-nothing run keeps its lines in its spools instead, and its progress in memory: the
    /// one transaction writes them at the end, when it knows whether anything is applied.
    func saveChunk(results: [String], importBatch: ImportBatch, tx: any ImportTransaction) throws {
        progress.errors = importBatch.errorCount
        if let spools {
            try spools.log.append(pendingLines)
            try spools.results.append(results)
        } else {
            try tx.appendLog(pendingLines, startingAt: progress.logLines)
            try tx.appendResults(results, startingAt: progress.resultLines)
        }
        progress.logLines += pendingLines.count
        pendingLines = []
        progress.resultLines += results.count
        if spools == nil { try tx.saveProgress(progress) } else { environment.liveProgress.update(batch.id, progress) }
    }

    /// A transaction of the run: a new one, or the one an all-or-nothing run is inside.
    func inRunTransaction<T>(_ body: (any ImportTransaction) throws -> T) throws -> T {
        if let wholeTransaction { return try body(wholeTransaction) }
        return try environment.store.inImportTransaction(batch: batch.id, now: now, body)
    }

    /// Transforms one record, commits it unless this is a dry run, and returns its result line.
    /// `reader` is a feed run's, which worked out the record's `FeedRun.digest` and holds the next
    /// records.
    func transformAndCommit(
        _ record: SourceRecord, reader: PrefetchingRecordReader?, file: RecordSource, importBatch: ImportBatch,
        tx: any ImportTransaction
    ) throws -> String {
        if let feed = feedRun {
            return try transformFeedRecord(record, reader: reader, file: file, importBatch: importBatch, tx: tx, feed: feed)
        }
        return try transformRecord(record, file: file, importBatch: importBatch, tx: tx).line
    }

    /// The identifier of the next record: `record N`, or with `"recordLocations": true` in the control
    /// file (an extension; other keys are ignored by the original) the file and line as well, and so
    /// in every message.
    func nextIdentifier(_ record: SourceRecord, file: RecordSource, importBatch: ImportBatch) -> String? {
        recordLocations ? "record \(importBatch.recordCounter), \(file.filename) line \(record.line)" : nil
    }

    /// Transforms one record and commits it (or, in a dry run, works out what committing would do);
    /// counts it and returns its result line.
    func transformRecord(
        _ record: SourceRecord, file: RecordSource, importBatch: ImportBatch,
        tx: any ImportTransaction, key: String? = nil
    ) throws -> (line: String, transformation: Transformation, changes: [RecordChange]) {
        let linesBefore = pendingLines.count
        let transformation = try importBatch.transform(record.value, identifier: nextIdentifier(record, file: file, importBatch: importBatch))
        progress.recordsRead += 1
        progress.recordsDoneInFile += 1
        lastLine = record.line
        let (status, changes) = try apply(transformation, tx: tx)
        let line = RecordResult.line(
            record: transformation.identifier, file: file.name, line: record.line, status: status,
            changes: changes, errors: Array(pendingLines[linesBefore...]), key: key.map { "\(file.name)/\($0)" })
        return (line, transformation, changes)
    }

    /// Commits a transformed record or leaver (a dry run only plans it), counts it in the progress
    /// and the summary, and returns its status and changes.
    func apply(_ transformation: Transformation, tx: any ImportTransaction, leaver: Bool = false) throws -> (
        status: RecordStatus, changes: [RecordChange]
    ) {
        var changes: [RecordChange] = []
        if transformation.isComplete {
            if batch.dryRun {
                changes = try transformation.plannedChanges()
            } else {
                // A commit stops half-way only on a database error (an aborted target is skipped and
                // the others still saved, §7.7 compat), and a database error rolls back the chunk's
                // transaction and ends the run. So one target's writes need no savepoint; several get
                // one all the same, so a record stays whole even with a store that recovers from a
                // failed statement.
                changes =
                    transformation.targetsToCommit > 1
                    ? try tx.atomically { try transformation.commit() } : try transformation.commit()
            }
        }
        guard transformation.isComplete else {
            progress.recordsFailed += 1
            return (.failed, [])
        }
        for change in changes {
            progress.count(change.outcome ?? .created, destination: change.destination)
        }
        if leaver {
            progress.recordsLeft += 1
            return (batch.dryRun ? .dryRun : .left, changes)
        }
        progress.recordsApplied += 1
        // A dry run counts what the real run would: its summary equals the real run's.
        if changes.allSatisfy({ $0.outcome == .unchanged }) && !changes.isEmpty {
            progress.recordsUnchanged += 1
            return (batch.dryRun ? .dryRun : .unchanged, changes)
        }
        return (batch.dryRun ? .dryRun : .applied, changes)
    }
}
