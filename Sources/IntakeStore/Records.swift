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

    package init() {}
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

    package init(
        id: BatchID, state: BatchState, comment: String, control: Digest, dryRun: Bool, created: Date, scheduled: Date? = nil, started: Date? = nil,
        finished: Date? = nil, scheduledBy: String? = nil, files: [BatchFile], progress: RunProgress, purged: Date? = nil,
        copiedFrom: BatchID? = nil
    ) {
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

    package init(name: String, passwordHash: String, created: Date, passwordChanged: Date, disabled: Bool = false) {
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

    package init(id: Int64, name: String, scope: APIScope, created: Date, lastUsed: Date? = nil, revoked: Bool) {
        self.id = id
        self.name = name
        self.scope = scope
        self.created = created
        self.lastUsed = lastUsed
        self.revoked = revoked
    }
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

    package init(ref: ObjectRef, type: String? = nil, title: String, version: Int, created: Date, updated: Date, values: [ObjectValue]) {
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
    package var batch: String?
    package var saved: Date
    package var values: [ObjectValue]

    package init(version: Int, batch: String? = nil, saved: Date, values: [ObjectValue]) {
        self.version = version
        self.batch = batch
        self.saved = saved
        self.values = values
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
