import Foundation
import IntakeApp
import IntakeCore
import IntakeStore

/// Why a feed's guard held a batch, for the batch page and the approve and cancel pages.
struct HeldNotice: Sendable {
    var count: Int
    var of: Int
    var limit: String
    var what: String

    /// - Parameter feed: how the sentence names the feed ("the feed", "feed hr-staff").
    init(_ held: HeldReason, feed: String) {
        (count, of, limit) = (held.count, held.of, held.limit)
        what = held.reason == "leavers" ? "keys would leave \(feed)" : "records, against the last run's"
    }
}

/// One batch's page: its details, what happens next, what it changed, its webhook deliveries, files
/// and log (docs/admin-ui.md "The batch page").
struct BatchPage: Sendable {
    struct File: Sendable {
        var name: String
        var filename: String
        var size: [String: String]
        var digest: String
        var shortDigest: String
        var href: String
    }

    /// A destination's line of "What it changed".
    struct Destination: Sendable {
        var name: String
        var created: Int
        var updated: Int
        var unchanged: Int
        var deleted: Int
    }

    struct Delivery: Sendable {
        struct Attempt: Sendable {
            var at: [String: String]?
            var outcome: String
            var milliseconds: Int
        }
        var webhook: String
        var event: String
        var batchState: String
        var state: String
        var nextAttempt: [String: String]?
        var attempts: [Attempt]
        var hasAttempts: Bool

        init(_ delivery: WebhookDelivery) {
            (webhook, event, batchState, state) = (delivery.webhook, delivery.event.rawValue, delivery.batchState, delivery.state.rawValue)
            nextAttempt = Format.time(delivery.nextAttempt)
            attempts = delivery.attempts.map { attempt in
                Attempt(
                    at: Format.time(attempt.at), outcome: attempt.status.map { "HTTP \($0)" } ?? attempt.error ?? "no answer",
                    milliseconds: attempt.milliseconds)
            }
            hasAttempts = !attempts.isEmpty
        }
    }

    /// A log line; one that ends "(record N)" links to that record's row in the results.
    struct LogLine: Sendable {
        var number: Int
        var text: String
        var problem: Bool
        var recordText: String?
        var recordHref: String?

        init(number: Int, line: String, batch: BatchID, resultsPerPage: Int) {
            self.number = number
            text = line
            problem = line.hasPrefix("EXCEPTION:") || line.hasPrefix("Too many errors") || line.hasPrefix("NOTHING APPLIED:")
            if let match = line.firstMatch(of: /\(record (\d+)\)$/), let record = Int(match.1) {
                text = String(line[..<match.range.lowerBound])
                recordText = String(match.0)
                recordHref = AdminPath.batch(batch) + "/results?page=\(record / resultsPerPage + 1)#record-\(record)"
            }
        }
    }

    /// A file's failed rows, downloadable as they came.
    struct FailedRowsLink: Sendable {
        var name: String
        var href: String
    }

    /// The batch's line in a list: the template shows the page inside `{{#row}}`, so its values
    /// (identifier, comment, state, times, counts) are found there first.
    var row: BatchRow
    var control: String
    var controlID: Int64?
    var controlComment: String
    /// "dry run" or "import" once scheduled.
    var mode: String?
    var scheduledBy: String?
    var scheduled: [String: String]?
    var copiedFrom: String?
    var purged: [String: String]?
    var rolledBack: [String: String]?
    var rolledBackBy: String
    var feed: String?
    var held: HeldNotice?

    var showLogLink: Bool
    var files: [File]
    var hasFiles: Bool
    var summary: [Destination]
    var hasSummary: Bool
    var skipped: Int
    var left: Int
    var nothingApplied: Bool
    var notApplied: Int
    var deliveries: [Delivery]
    var hasDeliveries: Bool
    var log: [LogLine]
    var hasLog: Bool
    var failedRows: [FailedRowsLink]
    var hasFailedRows: Bool

    var bytesRead: Int64
    var bytesTotal: Int64
    var percent: Int64
    var totalSize: String
    var applied: Int
    var unchanged: Int
    var appliedWord: String

    var isUploading: Bool
    var isReady: Bool
    var isScheduled: Bool
    var isRunning: Bool
    var isDryRun: Bool
    var isComplete: Bool
    var isError: Bool
    var isCancelled: Bool
    var isActive: Bool
    var canCopy: Bool
    var canRollBack: Bool
    var canRetry: Bool
    var hasResults: Bool
    var statusURL: String
    var logURL: String

    /// - Parameters:
    ///   - controlFile: the stored control file the batch runs, when it is still stored.
    ///   - rolledBack: the audit entry of its rollback, for a rolled-back batch.
    init(
        batch: Batch, controlFile: ControlFileRecord?, log: [String], deliveries: [WebhookDelivery], rolledBack: AuditEntry?,
        resultsPerPage: Int
    ) {
        let p = batch.progress
        row = BatchRow(batch)
        control = batch.control.hex
        controlID = controlFile?.id
        controlComment = controlFile?.comment ?? ""
        mode = batch.scheduled == nil ? nil : (batch.dryRun ? "dry run" : "import")
        scheduledBy = batch.scheduledBy.flatMap { $0.isEmpty ? nil : $0 }
        scheduled = Format.time(batch.scheduled)
        copiedFrom = batch.copiedFrom?.rawValue
        purged = Format.time(batch.purged)
        self.rolledBack = Format.time(rolledBack?.time)
        rolledBackBy = rolledBack?.detail ?? ""
        feed = batch.feed
        held = p.held.map { HeldNotice($0, feed: "the feed") }

        let active = batch.state == .scheduled || batch.state == .running
        let batchPath = AdminPath.batch(batch.id)
        showLogLink = [.complete, .dryRun, .error, .rolledBack].contains(batch.state)
        files = batch.files.map { file in
            File(
                name: file.name, filename: file.filename, size: Format.sizeContext(file.size), digest: file.digest.hex,
                shortDigest: Format.short(file.digest.hex), href: batchPath + "/files/" + PageLinks.encoded(file.name))
        }
        hasFiles = !files.isEmpty
        summary = p.destinations.keys.sorted().map { name in
            let counts = p.destinations[name] ?? DestinationSummary()
            return Destination(name: name, created: counts.created, updated: counts.updated, unchanged: counts.unchanged, deleted: counts.deleted)
        }
        hasSummary = !p.destinations.isEmpty || p.recordsLeft > 0 || p.recordsSkipped > 0
        (skipped, left, nothingApplied, notApplied) = (p.recordsSkipped, p.recordsLeft, p.nothingApplied != nil, p.recordsNotApplied)
        self.deliveries = deliveries.map(Delivery.init)
        hasDeliveries = !deliveries.isEmpty
        self.log = log.enumerated().map { LogLine(number: $0 + 1, line: $1, batch: batch.id, resultsPerPage: resultsPerPage) }
        hasLog = !log.isEmpty
        failedRows =
            p.recordsFailed == 0 || active
            ? [] : batch.files.map { FailedRowsLink(name: $0.name, href: batchPath + "/failed-rows?" + PageLinks.part("file", $0.name)) }
        hasFailedRows = p.recordsFailed > 0 && !active && batch.purged == nil

        let total = batch.files.reduce(Int64(0)) { $0 + $1.size }
        (bytesRead, bytesTotal, percent, totalSize) = (p.bytesRead, total, total > 0 ? p.bytesRead * 100 / total : 0, Format.size(total))
        (applied, unchanged, appliedWord) = (p.recordsApplied, p.recordsUnchanged, batch.dryRun ? "checked" : "applied")
        isUploading = batch.state == .uploading
        isReady = batch.state == .ready
        isScheduled = batch.state == .scheduled
        isRunning = batch.state == .running
        isDryRun = batch.state == .dryRun
        isComplete = batch.state == .complete || batch.state == .rolledBack
        isError = batch.state == .error
        isCancelled = batch.state == .cancelled
        isActive = active
        canCopy = batch.state != .ready && !active && batch.purged == nil
        canRollBack = batch.state == .complete
        canRetry = ConfirmedAction.retry.refusal(batch) == nil
        hasResults = batch.started != nil && batch.purged == nil
        statusURL = batchPath + "/status.json"
        logURL = batchPath + "/log.txt"
    }
}

/// The page that asks before a batch action (schedule, copy, cancel, roll back, approve, retry):
/// the question, and what the action would do where that can be shown first.
struct BatchConfirmPage: Sendable {
    /// The earlier dry run of the same files, before an import.
    struct DryRun: Sendable {
        var id: String
        var text: String
    }

    /// A key that would leave the feed if a held batch were approved.
    struct Leaver: Sendable {
        var file: String
        var key: String
        var lastChanged: String
    }

    /// An object in the rollback preview.
    struct PreviewObject: Sendable {
        var ref: String
        var title: String
        var type: String
        var version: Int
        /// The version a restored object goes back to.
        var to: Int?
    }

    var question: String
    var button: String
    var action: String
    var back: String
    var isRollback: Bool
    var error: String?
    var dryRun: DryRun?
    var noDryRun: String?
    var held: HeldNotice?
    var leavers: [Leaver] = []
    var hasLeavers = false
    /// How many leavers are not listed; nil when all are.
    var moreLeavers: Int?

    var delete: [PreviewObject] = []
    var restore: [PreviewObject] = []
    var conflicts: [PreviewObject] = []
    var deleteCount = 0
    var restoreCount = 0
    var conflictCount = 0
    var hasDelete = false
    var hasRestore = false
    var hasConflicts = false
    var isFeed = false
    var feedKeyCount = 0
    /// Some objects of the preview are not listed.
    var listed = false

    init(_ action: ConfirmedAction, batch: Batch, error: String?) {
        question = action.question(batch)
        button = action.button
        self.action = AdminPath.batch(batch.id) + "/\(action.rawValue)"
        back = AdminPath.batch(batch.id)
        isRollback = action == .rollback
        self.error = error
    }

    /// Before an import: the matching dry run, or that there is none.
    mutating func setDryRun(_ dryRun: Batch?) {
        guard let dryRun else {
            noDryRun = "No dry run of these files was found."
            return
        }
        let p = dryRun.progress
        self.dryRun = DryRun(
            id: dryRun.id.rawValue,
            text: "Dry run of batch \(dryRun.id.rawValue): \(p.recordsRead) records, \(p.recordsFailed) failed, \(p.errors) errors")
    }

    /// Before approving or cancelling a held batch: the guard's numbers and the first leavers.
    mutating func setHeld(_ held: HeldReason, feed: String, leavers: [FeedKeyMemory]?) {
        self.held = HeldNotice(held, feed: "feed \(feed)")
        guard let leavers else { return }
        self.leavers = leavers.map { Leaver(file: $0.file, key: $0.key, lastChanged: Format.time($0.lastChanged)?["text"] ?? "") }
        hasLeavers = !leavers.isEmpty
        moreLeavers = held.count > leavers.count ? held.count - leavers.count : nil
    }

    /// Before a rollback: what it deletes, restores and leaves alone (the listed objects first looked up).
    mutating func setRollback(
        _ preview: RollbackPreview, isFeed: Bool, delete: [PreviewObject], restore: [PreviewObject], conflicts: [PreviewObject]
    ) {
        (self.delete, self.restore, self.conflicts) = (delete, restore, conflicts)
        (deleteCount, restoreCount, conflictCount) = (preview.deleteCount, preview.restoreCount, preview.conflictCount)
        (hasDelete, hasRestore, hasConflicts) = (!delete.isEmpty, !restore.isEmpty, !conflicts.isEmpty)
        self.isFeed = isFeed
        feedKeyCount = preview.feedKeyCount
        listed = preview.deleteCount + preview.restoreCount + preview.conflictCount > delete.count + restore.count + conflicts.count
    }
}
