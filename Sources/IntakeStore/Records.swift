import Foundation
import IntakeCore

/// A named data file of a batch.
package struct BatchFile: Sendable, Equatable, Codable {
    package var name: String
    package var digest: Digest
    package var size: Int64
    package var filename: String

    package init(name: String, digest: Digest, size: Int64, filename: String) {
        self.name = name
        self.digest = digest
        self.size = size
        self.filename = filename
    }
}

/// Where a run has got to. Saved in the same transaction as the records it covers, so a restart
/// resumes at the first uncommitted record.
package struct RunProgress: Sendable, Equatable, Codable {
    /// Index into the batch's files of the file being read.
    package var fileIndex = 0
    /// Records of that file already processed.
    package var recordsDoneInFile = 0
    package var recordsRead = 0
    package var recordsApplied = 0
    package var recordsFailed = 0
    package var recordsUnchanged = 0
    package var bytesRead: Int64 = 0
    package var errors = 0
    /// Log lines written so far.
    package var logLines = 0
    /// Result lines written so far.
    package var resultLines = 0
    /// Feed records not transformed because nothing could have changed (docs/feeds.md).
    package var recordsSkipped = 0
    /// Leavers applied (or, in a dry run, that would be).
    package var recordsLeft = 0
    /// What the run saved, per destination: the batch's summary.
    package var destinations: [String: DestinationSummary] = [:]
    /// Why the run waits for a person (a guard held it), or nil.
    package var held: HeldReason?
    /// Someone approved the held run: its guards are not checked again.
    package var approved = false
    /// The run has passed its guards and applies leavers; the last one it handled.
    package var leaversStarted = false
    package var lastLeaver: FeedKeyPosition?
    /// Keys of a feed batch's records (duplicates not counted again) that are active once their
    /// record is done: the run's keys among the feed's active ones, so that the active keys the
    /// run did not see (its leavers) are counted without joining the two (docs/feeds.md
    /// "Leavers"). Nil in progress written before it was kept: the store counts them then.
    package var feedKeysSeenActive: Int? = 0
    /// An all-or-nothing run applied nothing (docs/control-files.md "All or nothing"): its log and
    /// results are written, and the batch only has to end, in this state (`error` or `cancelled`).
    package var nothingApplied: String?
    /// Records and leavers of such a run that would have been applied (`not-applied` results).
    package var recordsNotApplied = 0

    package init() {}

    /// What is left of the counts once an all-or-nothing run applied nothing: the records read and
    /// failed, the errors, the lines; nothing applied, unchanged, skipped or left, and no summary.
    package mutating func discardApplied(notApplied: Int, ending: String) {
        recordsNotApplied = notApplied
        (recordsApplied, recordsUnchanged, recordsSkipped, recordsLeft) = (0, 0, 0, 0)
        destinations = [:]
        nothingApplied = ending
    }

    /// Notes one more key of the run that is active after its record.
    package mutating func noteSeenActiveFeedKey() {
        feedKeysSeenActive = feedKeysSeenActive.map { $0 + 1 }
    }

    /// Progress written by an older version lacks the newer counts: they start at zero.
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        fileIndex = try c.decodeIfPresent(Int.self, forKey: .fileIndex) ?? 0
        recordsDoneInFile = try c.decodeIfPresent(Int.self, forKey: .recordsDoneInFile) ?? 0
        recordsRead = try c.decodeIfPresent(Int.self, forKey: .recordsRead) ?? 0
        recordsApplied = try c.decodeIfPresent(Int.self, forKey: .recordsApplied) ?? 0
        recordsFailed = try c.decodeIfPresent(Int.self, forKey: .recordsFailed) ?? 0
        recordsUnchanged = try c.decodeIfPresent(Int.self, forKey: .recordsUnchanged) ?? 0
        bytesRead = try c.decodeIfPresent(Int64.self, forKey: .bytesRead) ?? 0
        errors = try c.decodeIfPresent(Int.self, forKey: .errors) ?? 0
        logLines = try c.decodeIfPresent(Int.self, forKey: .logLines) ?? 0
        resultLines = try c.decodeIfPresent(Int.self, forKey: .resultLines) ?? 0
        recordsSkipped = try c.decodeIfPresent(Int.self, forKey: .recordsSkipped) ?? 0
        recordsLeft = try c.decodeIfPresent(Int.self, forKey: .recordsLeft) ?? 0
        destinations = try c.decodeIfPresent([String: DestinationSummary].self, forKey: .destinations) ?? [:]
        held = try c.decodeIfPresent(HeldReason.self, forKey: .held)
        approved = try c.decodeIfPresent(Bool.self, forKey: .approved) ?? false
        leaversStarted = try c.decodeIfPresent(Bool.self, forKey: .leaversStarted) ?? false
        lastLeaver = try c.decodeIfPresent(FeedKeyPosition.self, forKey: .lastLeaver)
        // Missing in a run begun before it was kept (or one that read no record yet).
        feedKeysSeenActive = try c.decodeIfPresent(Int.self, forKey: .feedKeysSeenActive) ?? (recordsRead == 0 ? 0 : nil)
        nothingApplied = try c.decodeIfPresent(String.self, forKey: .nothingApplied)
        recordsNotApplied = try c.decodeIfPresent(Int.self, forKey: .recordsNotApplied) ?? 0
    }

    /// Counts one saved (or, in a dry run, would-be-saved) object of a destination.
    package mutating func count(_ outcome: SaveOutcome, destination: String) {
        var summary = destinations[destination] ?? DestinationSummary()
        switch outcome {
        case .created: summary.created += 1
        case .updated: summary.updated += 1
        case .unchanged: summary.unchanged += 1
        case .deleted: summary.deleted += 1
        }
        destinations[destination] = summary
    }
}

/// Per destination, what a batch saved.
package struct DestinationSummary: Sendable, Equatable, Codable {
    package var created = 0
    package var updated = 0
    package var unchanged = 0
    package var deleted = 0

    package init() {}
}

/// Why a batch is `held` (docs/feeds.md "Guards").
package struct HeldReason: Sendable, Equatable, Codable {
    /// `leavers` or `record-count`.
    package var reason: String
    package var count: Int
    package var of: Int
    package var limit: String

    package init(reason: String, count: Int, of: Int, limit: String) {
        (self.reason, self.count, self.of, self.limit) = (reason, count, of, limit)
    }
}

/// A (file, key) of a feed, as a position in (file, key) order.
package struct FeedKeyPosition: Sendable, Equatable, Codable {
    package var file: String
    package var key: String

    package init(file: String, key: String) { (self.file, self.key) = (file, key) }
}

package struct Batch: Sendable, Equatable {
    package var id: BatchID
    package var state: BatchState
    package var comment: String
    package var control: Digest
    package var dryRun: Bool
    package var created: Date
    package var scheduled: Date?
    package var started: Date?
    package var finished: Date?
    package var scheduledBy: String?
    package var files: [BatchFile]
    package var progress: RunProgress
    /// When `intake purge` removed the batch's log, results and files (the record of the batch, and
    /// the objects it saved, stay).
    package var purged: Date?
    /// The batch this one was copied from, if it is a copy.
    package var copiedFrom: BatchID?
    /// The feed the batch belongs to, once its run has started (docs/feeds.md).
    package var feed: String?
    /// Scheduled to transform every record of a feed batch, skipping none.
    package var force = false
    /// The batch's own error limit, given on schedule (`maxErrors=N`), over the control file's.
    package var maxErrors: Int?

    package init(
        id: BatchID, state: BatchState, comment: String, control: Digest, dryRun: Bool, created: Date, scheduled: Date? = nil, started: Date? = nil,
        finished: Date? = nil, scheduledBy: String? = nil, files: [BatchFile], progress: RunProgress, purged: Date? = nil,
        copiedFrom: BatchID? = nil, feed: String? = nil, force: Bool = false, maxErrors: Int? = nil
    ) {
        self.maxErrors = maxErrors
        self.feed = feed
        self.force = force
        self.purged = purged
        self.copiedFrom = copiedFrom
        self.id = id
        self.state = state
        self.comment = comment
        self.control = control
        self.dryRun = dryRun
        self.created = created
        self.scheduled = scheduled
        self.started = started
        self.finished = finished
        self.scheduledBy = scheduledBy
        self.files = files
        self.progress = progress
    }
}

package struct AdminAccountRecord: Sendable, Equatable {
    package var name: String
    package var passwordHash: String
    package var created: Date
    package var passwordChanged: Date
    /// A disabled account cannot sign in (CLI: `intake admin disable`).
    package var disabled: Bool
    package var role: AdminRole

    package init(name: String, passwordHash: String, created: Date, passwordChanged: Date, disabled: Bool = false, role: AdminRole = .admin) {
        self.role = role
        self.disabled = disabled
        self.name = name
        self.passwordHash = passwordHash
        self.created = created
        self.passwordChanged = passwordChanged
    }
}

package struct APIKeyRecord: Sendable, Equatable {
    package var id: Int64
    package var name: String
    package var scope: APIScope
    package var created: Date
    package var lastUsed: Date?
    package var revoked: Bool
    /// From this instant the key is refused, as a revoked one is; nil: never.
    package var expires: Date?
    /// The one push API or feed the key is for; nil: everything its scope covers.
    package var restriction: APIKeyRestriction?

    package init(
        id: Int64, name: String, scope: APIScope, created: Date, lastUsed: Date? = nil, revoked: Bool, expires: Date? = nil,
        restriction: APIKeyRestriction? = nil
    ) {
        self.restriction = restriction
        self.expires = expires
        self.id = id
        self.name = name
        self.scope = scope
        self.created = created
        self.lastUsed = lastUsed
        self.revoked = revoked
    }
}

extension APIKeyRecord {
    package func isExpired(at now: Date) -> Bool { expires.map { $0 <= now } ?? false }

    /// `active`, `revoked` or `expired`, as lists show it.
    package func state(at now: Date) -> String { revoked ? "revoked" : isExpired(at: now) ? "expired" : "active" }
}

/// An object as the read API shows it.
package struct ObjectRecord: Sendable, Equatable {
    package var ref: ObjectRef
    package var type: String?
    package var title: String
    package var version: Int
    package var created: Date
    package var updated: Date
    package var values: [ObjectValue]
    /// Deleted by a feed's leaver (docs/feeds.md): still read by ref, found by nothing else.
    package var deleted: Bool

    package init(
        ref: ObjectRef, type: String? = nil, title: String, version: Int, created: Date, updated: Date, values: [ObjectValue],
        deleted: Bool = false
    ) {
        self.deleted = deleted
        self.ref = ref
        self.type = type
        self.title = title
        self.version = version
        self.created = created
        self.updated = updated
        self.values = values
    }
}

package struct ObjectVersionRecord: Sendable, Equatable {
    package var version: Int
    /// The batch that wrote it, or `RollbackStep.restorerLabel(rollingBack:)` for a rollback's.
    package var batch: String?
    package var saved: Date
    package var values: [ObjectValue]
    /// A version that deleted the object (a leaver's `delete`, or a rollback of its creation).
    package var deleted: Bool

    package init(version: Int, batch: String? = nil, saved: Date, values: [ObjectValue], deleted: Bool = false) {
        self.version = version
        self.batch = batch
        self.saved = saved
        self.values = values
        self.deleted = deleted
    }

    /// The batch whose run or rollback wrote the version, for a link to it.
    package var batchID: String? {
        let rollback = RollbackStep.restorerLabel(rollingBack: "")
        guard let batch, batch.hasPrefix(rollback) else { return batch }
        return String(batch.dropFirst(rollback.count))
    }
}

/// A committed dictionary target, stored as a JSON document.
package struct DictionaryDocument: Sendable, Equatable {
    package var batch: String?
    package var record: String
    package var values: JSONValue

    package init(batch: String?, record: String, values: JSONValue) {
        self.batch = batch
        self.record = record
        self.values = values
    }
}

/// An uploaded control file as recorded: one digest may have several records, one per comment.
package struct ControlFileRecord: Sendable, Equatable {
    package var id: Int64
    package var digest: Digest
    package var size: Int64
    package var comment: String
    package var created: Date
    package var uploadedBy: String?

    package init(id: Int64, digest: Digest, size: Int64, comment: String, created: Date, uploadedBy: String? = nil) {
        self.uploadedBy = uploadedBy
        self.id = id
        self.digest = digest
        self.size = size
        self.comment = comment
        self.created = created
    }
}

/// A signed-in admin UI session. `data` is the session's small state as JSON (flash message, a key
/// to show once, files kept from a refused form), owned by the admin UI.
package struct AdminSessionRecord: Sendable, Equatable {
    package var idHash: String
    package var account: String
    package var csrfToken: String
    package var created: Date
    package var lastSeen: Date
    package var data: String

    package init(idHash: String, account: String, csrfToken: String, created: Date, lastSeen: Date, data: String = "{}") {
        self.idHash = idHash
        self.account = account
        self.csrfToken = csrfToken
        self.created = created
        self.lastSeen = lastSeen
        self.data = data
    }
}

package struct AuditEntry: Sendable, Equatable {
    package var time: Date
    package var batch: BatchID?
    package var event: String
    package var detail: String

    package init(time: Date, batch: BatchID?, event: String, detail: String) {
        self.time = time
        self.batch = batch
        self.event = event
        self.detail = detail
    }
}

/// The status of one result line of `GET results` (docs/api.md "Extensions"): what became of a
/// record or a feed's leaver.
package enum RecordStatus: String, CaseIterable, Sendable {
    case applied, failed, unchanged, left
    /// Any record of a dry run that was not failed.
    case dryRun = "dry-run"
    /// A record of an all-or-nothing batch that applied nothing because others failed: what it
    /// would have done is kept in its line.
    case notApplied = "not-applied"

    /// Whether a stored result line has this status. Result lines are written by one function, and
    /// the status field's text cannot occur inside a JSON string (its quotes would be escaped
    /// there), so a substring test is exact, and much cheaper than parsing a line per result.
    package func isStatus(of line: String) -> Bool {
        line.contains(",\"status\":\"\(rawValue)\"")
    }
}
