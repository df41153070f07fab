import Foundation
import IntakeCore
import IntakeStore

/// `errorPolicy.mode: "all-or-nothing"` (docs/control-files.md "All or nothing"): the whole run —
/// every record, a feed's leavers, their feed memory — is one transaction of the store, and its
/// log lines and results wait in spools until it ends. Then either every record was applied and
/// the transaction commits them with their lines and the run position (published at once), or it
/// is rolled back and only the lines are written, in a transaction of their own, with the records
/// that would have applied marked `not-applied`. A crash before either commit leaves nothing (the
/// batch runs again from its first record); there is no moment at which part of it is visible.
///
/// The price is the store's write lock for the length of the run (docs/DECISIONS.md, "All or
/// nothing is one transaction").
extension BatchRun {
    /// Thrown out of the run's transaction to undo it; says what to do after.
    private struct UndoWholeRun: Error {
        enum Ending {
            /// Records failed, the run stopped at its error limit (the `STOPPED:` line), or it ended
            /// with an exception (the `EXCEPTION:` line).
            case failed(line: String?)
            case cancelled
            case held
            case interrupted
        }
        var ending: Ending
    }

    func processAllOrNothing(control: JSONValue, resuming: Bool) throws -> Outcome {
        // A run that applied nothing wrote its lines before it could end the batch: it ends it now.
        if let ending = progress.nothingApplied { return .finished(BatchState(rawValue: ending) ?? .error) }
        let (startProgress, startLines) = (progress, pendingLines)
        let spools = (log: try LineSpool(), results: try LineSpool())
        // The status shows the run's counts meanwhile (`LiveProgress`).
        defer { environment.liveProgress.update(batch.id, nil) }
        let ending: UndoWholeRun.Ending
        do {
            return try environment.store.inImportTransaction(batch: batch.id, now: now) { tx in
                (wholeTransaction, self.spools) = (tx, spools)
                defer { (wholeTransaction, self.spools) = (nil, nil) }
                let outcome: Outcome
                do {
                    outcome = try processRecords(control: control, resuming: resuming)
                } catch let stopped as RunStopped {
                    throw UndoWholeRun(ending: .failed(line: stopped.line))
                } catch let error where Self.unavailable(error) != nil || error is LeaseLost {
                    // Undone by the rollback; the batch runs again from its first record.
                    throw error
                } catch {
                    progress.errors += 1
                    throw UndoWholeRun(ending: .failed(line: exceptionLine(for: error)))
                }
                switch outcome {
                case .finished(.complete) where progress.recordsFailed == 0:
                    // From here a cancel goes through the store (and finds the batch finished); one
                    // that came before, told to this run only, still wins.
                    environment.liveProgress.update(batch.id, nil)
                    if environment.cancellations.contains(batch.id) { throw UndoWholeRun(ending: .cancelled) }
                    try publish(spools, from: startProgress, tx: tx)
                    return outcome
                case .finished(.complete): throw UndoWholeRun(ending: .failed(line: nil))
                case .finished(.cancelled): throw UndoWholeRun(ending: .cancelled)
                case .finished(.held): throw UndoWholeRun(ending: .held)
                case .interrupted: throw UndoWholeRun(ending: .interrupted)
                default: return outcome
                }
            }
        } catch let undo as UndoWholeRun {
            ending = undo.ending
        }
        switch ending {
        case .interrupted:
            // Nothing was written: the run starts again from its first record.
            (progress, pendingLines) = (startProgress, startLines)
            return .interrupted
        case .held:
            // Held with nothing applied; once approved, the run starts again from its first record
            // (and does not check its guards again).
            let held = progress.held
            let heldLine = pendingLines.last { $0.hasPrefix("HELD: ") }
            (progress, pendingLines) = (startProgress, startLines + (heldLine.map { [$0] } ?? []))
            progress.held = held
            pendingLines.append(
                "NOTHING APPLIED YET: the control file asks for all or nothing; once approved, the batch runs again from its first record")
            return .finished(.held)
        case .failed(let line):
            try writeNothingApplied(spools, from: startProgress, endLines: (line.map { [$0] } ?? []) + [nothingAppliedLine()], ending: .error)
            return .finished(.error)
        case .cancelled:
            try writeNothingApplied(
                spools, from: startProgress,
                endLines: ["NOTHING APPLIED: the batch was cancelled; the control file asks for all or nothing"], ending: .cancelled)
            return .finished(.cancelled)
        }
    }

    private func nothingAppliedLine() -> String {
        progress.recordsFailed > 0
            ? ErrorPolicy.nothingAppliedLine(failed: progress.recordsFailed)
            : "NOTHING APPLIED: the run ended with an error; the control file asks for all or nothing"
    }

    /// Every record was applied: the spooled lines and the run position go into the run's
    /// transaction, which commits them with the records.
    private func publish(_ spools: (log: LineSpool, results: LineSpool), from start: RunProgress, tx: any ImportTransaction) throws {
        _ = try Self.write(spools.log, from: start.logLines, with: tx.appendLog)
        _ = try Self.write(spools.results, from: start.resultLines, with: tx.appendResults)
        try tx.saveProgress(progress)
    }

    /// The run was undone: its lines are written in one transaction of their own, with the records
    /// that would have been applied marked `not-applied`, and the progress says nothing was applied
    /// (a crash after this commit only has to end the batch).
    private func writeNothingApplied(
        _ spools: (log: LineSpool, results: LineSpool), from start: RunProgress, endLines: [String], ending: BatchState
    ) throws {
        let lines = pendingLines + endLines
        pendingLines = []
        try environment.store.inImportTransaction(batch: batch.id, now: now) { tx in
            var notApplied = 0
            var logIndex = try Self.write(spools.log, from: start.logLines, with: tx.appendLog)
            try tx.appendLog(lines, startingAt: logIndex)
            logIndex += lines.count
            progress.logLines = logIndex
            progress.resultLines = try Self.write(spools.results, from: start.resultLines) { page, index in
                let marked = page.map { line in
                    let (text, changed) = Self.markedNotApplied(line)
                    if changed { notApplied += 1 }
                    return text
                }
                try tx.appendResults(marked, startingAt: index)
            }
            progress.discardApplied(notApplied: notApplied, ending: ending.rawValue)
            try tx.saveProgress(progress)
        }
    }

    /// Writes a spool's lines page by page from line `index`; returns the index after the last.
    private static func write(_ spool: LineSpool, from index: Int, with append: ([String], Int) throws -> Void) throws -> Int {
        var next = index
        try spool.forEachPage { page in
            try append(page, next)
            next += page.count
        }
        return next
    }

    /// A result line with its status made `not-applied`, unless the record failed. The status field
    /// is found by its text, which a JSON string cannot hold (`RecordStatus.isStatus(of:)`).
    static func markedNotApplied(_ line: String) -> (String, Bool) {
        for status in [RecordStatus.applied, .unchanged, .left, .dryRun] where status.isStatus(of: line) {
            let marked = line.replacingOccurrences(
                of: ",\"status\":\"\(status.rawValue)\"", with: ",\"status\":\"\(RecordStatus.notApplied.rawValue)\"")
            return (marked, true)
        }
        return (line, false)
    }
}
