import Foundation
import IntakeCore

/// A named data file of a batch.
public struct BatchFile: Sendable, Equatable, Codable {
    public var name: String
    public var digest: Digest
    public var size: Int64
    public var filename: String

    public init(name: String, digest: Digest, size: Int64, filename: String) {
        self.name = name
        self.digest = digest
        self.size = size
        self.filename = filename
    }
}

/// Where a run has got to. Saved in the same transaction as the records it covers, so a restart
/// resumes at the first uncommitted record.
public struct RunProgress: Sendable, Equatable, Codable {
    /// Index into the batch's files of the file being read.
    public var fileIndex = 0
    /// Records of that file already processed.
    public var recordsDoneInFile = 0
    public var recordsRead = 0
    public var recordsApplied = 0
    public var recordsFailed = 0
    public var recordsUnchanged = 0
    public var bytesRead: Int64 = 0
    public var errors = 0
    /// Log lines written so far.
    public var logLines = 0
    /// Result lines written so far.
    public var resultLines = 0

    public init() {}
}

public struct Batch: Sendable, Equatable {
    public var id: BatchID
    public var state: BatchState
    public var comment: String
    public var control: Digest
    public var dryRun: Bool
    public var created: Date
    public var scheduled: Date?
    public var started: Date?
    public var finished: Date?
    public var scheduledBy: String?
    public var files: [BatchFile]
    public var progress: RunProgress

    public init(id: BatchID, state: BatchState, comment: String, control: Digest, dryRun: Bool, created: Date, scheduled: Date? = nil, started: Date? = nil, finished: Date? = nil, scheduledBy: String? = nil, files: [BatchFile], progress: RunProgress) {
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

public struct APIKeyRecord: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var scope: APIScope
    public var created: Date
    public var lastUsed: Date?
    public var revoked: Bool

    public init(id: Int64, name: String, scope: APIScope, created: Date, lastUsed: Date? = nil, revoked: Bool) {
        self.id = id
        self.name = name
        self.scope = scope
        self.created = created
        self.lastUsed = lastUsed
        self.revoked = revoked
    }
}

/// An object as the read API shows it.
public struct ObjectRecord: Sendable, Equatable {
    public var ref: ObjectRef
    public var type: String?
    public var title: String
    public var version: Int
    public var created: Date
    public var updated: Date
    public var values: [ObjectValue]

    public init(ref: ObjectRef, type: String? = nil, title: String, version: Int, created: Date, updated: Date, values: [ObjectValue]) {
        self.ref = ref
        self.type = type
        self.title = title
        self.version = version
        self.created = created
        self.updated = updated
        self.values = values
    }
}

public struct ObjectVersionRecord: Sendable, Equatable {
    public var version: Int
    public var batch: String?
    public var saved: Date
    public var values: [ObjectValue]

    public init(version: Int, batch: String? = nil, saved: Date, values: [ObjectValue]) {
        self.version = version
        self.batch = batch
        self.saved = saved
        self.values = values
    }
}

/// A committed dictionary target, stored as a JSON document.
public struct DictionaryDocument: Sendable, Equatable {
    public var batch: String?
    public var record: String
    public var values: JSONValue

    public init(batch: String?, record: String, values: JSONValue) {
        self.batch = batch
        self.record = record
        self.values = values
    }
}
