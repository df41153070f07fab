import IntakeStore

/// What can be done to a batch once it exists, and in which states: the one place these rules are
/// written. `ImportService` refuses an action by them, and the admin UI asks them before it offers
/// an action or shows its confirm page, so the two cannot disagree.
package enum BatchAction: Sendable, CaseIterable {
    /// Schedule a `ready` batch (the admin UI's dry run and import).
    case scheduleReady
    case copy
    /// Cancel a batch that waits, runs or is held.
    case cancelActive
    case rollback
    case approve
    /// A new batch of the failed records.
    case retry

    /// Nil when the batch's state allows the action; else the refusal, with its exact message.
    package func refusal(_ batch: Batch) -> BatchError? {
        switch self {
        case .scheduleReady: batch.state == .ready ? nil : .wrongState(batch.id)
        case .copy: batch.purged.map { .purged(batch.id, $0) }
        case .cancelActive: [.scheduled, .running, .held].contains(batch.state) ? nil : .notActive(batch.id)
        case .rollback: batch.state == .complete ? nil : .notComplete(batch.id)
        case .approve: batch.state == .held ? nil : .notHeld(batch.id)
        case .retry:
            if ![.complete, .dryRun, .error, .cancelled, .rolledBack].contains(batch.state) {
                .notFinished(batch.id)
            } else if let purged = batch.purged {
                .purged(batch.id, purged)
            } else if batch.progress.recordsFailed == 0 {
                .noFailedRecords(batch.id)
            } else if batch.progress.nothingApplied != nil {
                .retryOfNothingApplied(batch.id)
            } else {
                nil
            }
        }
    }

    /// Throws the refusal, if any.
    package func check(_ batch: Batch) throws(BatchError) {
        if let refusal = refusal(batch) { throw refusal }
    }
}
