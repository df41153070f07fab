import Foundation
import GRDB
import IntakeCore
import IntakeStore

// The rows of the SQLite tables as GRDB decodes them (`FetchableRecord` through `Decodable`, column
// names in snake case), each turned into the store's record by `record()`. A column a query does not
// select decodes as nil when its property is optional. Text that should hold a digest and is not
// throws `CorruptRow` instead of trapping: a hand-edited or damaged file is reported, not fatal.

/// Rows whose columns are the properties' names in snake case.
protocol StoredRow: FetchableRecord, Decodable {}

extension StoredRow {
    static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy { .convertFromSnakeCase }
}

/// A stored value that cannot be what its column holds.
struct CorruptRow: Error, CustomStringConvertible {
    var table: String
    var column: String
    var value: String

    var description: String { "The database holds an invalid \(column) in \(table): \(value.prefix(80))" }

    static func digest(_ hex: String, table: String, column: String) throws -> Digest {
        guard let digest = Digest(hex: hex) else { throw CorruptRow(table: table, column: column, value: hex) }
        return digest
    }
}

/// Seconds since 1970, as every time column holds them.
private func date(_ seconds: Int64) -> Date { Date(timeIntervalSince1970: TimeInterval(seconds)) }
private func date(_ seconds: Int64?) -> Date? { seconds.map(date) }

struct ControlFileRow: StoredRow {
    var id: Int64
    var digest: String
    var size: Int64
    var comment: String
    var created: Int64
    var uploadedBy: String?

    func record() throws -> ControlFileRecord {
        ControlFileRecord(
            id: id, digest: try CorruptRow.digest(digest, table: "control_files", column: "digest"), size: size, comment: comment,
            created: date(created), uploadedBy: uploadedBy)
    }
}

struct BatchFileRow: StoredRow {
    var name: String
    var digest: String
    var size: Int64
    var filename: String

    func record() throws -> BatchFile {
        BatchFile(name: name, digest: try CorruptRow.digest(digest, table: "batch_files", column: "digest"), size: size, filename: filename)
    }
}

struct BatchTableRow: StoredRow {
    var id: String
    var state: String
    var comment: String
    var control: String
    var dryRun: Bool
    var created: Int64
    var scheduled: Int64?
    var started: Int64?
    var finished: Int64?
    var scheduledBy: String?
    /// `RunProgress` as JSON; unreadable progress reads as none rather than hiding the batch.
    var progress: String
    var purged: Int64?
    var copiedFrom: String?
    var feed: String?
    var force: Bool
    var maxErrors: Int?

    func record(files: [BatchFile]) throws -> Batch {
        Batch(
            id: BatchID(rawValue: id), state: BatchState(rawValue: state) ?? .error, comment: comment,
            control: try CorruptRow.digest(control, table: "batches", column: "control"), dryRun: dryRun, created: date(created),
            scheduled: date(scheduled), started: date(started), finished: date(finished), scheduledBy: scheduledBy, files: files,
            progress: (try? JSONDecoder().decode(RunProgress.self, from: Data(progress.utf8))) ?? RunProgress(), purged: date(purged),
            copiedFrom: copiedFrom.map(BatchID.init(rawValue:)), feed: feed, force: force, maxErrors: maxErrors)
    }
}

/// Who runs a running batch, and the restart counts of the poison-batch guard.
struct BatchLeaseRow: StoredRow {
    var id: String?
    var state: String?
    var leaseOwner: String?
    var leaseExpires: Int64
    var crashes: Int
    var stops: Int
    var claimPosition: Int64

    var restarts: JobLease.Restarts { JobLease.Restarts(crashes: crashes, stops: stops) }
}

struct FeedKeyRow: StoredRow {
    var file: String
    var key: String
    var digest: String
    var control: String
    var schema: String
    var objects: String
    var mustTransform: Bool
    var reads: String
    var active: Bool
    var firstSeen: Int64
    var lastChanged: Int64
    var firstBatch: String
    var lastBatch: String

    func record() -> FeedKeyMemory {
        let reads = RememberedRead.decode(reads)
        return FeedKeyMemory(
            file: file, key: key, recordDigest: digest, control: control, schema: schema, objects: FeedObject.decode(objects),
            mustTransform: mustTransform || reads == nil, reads: reads ?? [], active: active, firstSeen: date(firstSeen),
            lastChanged: date(lastChanged), firstBatch: BatchID(rawValue: firstBatch), lastBatch: BatchID(rawValue: lastBatch))
    }
}

struct FeedKeyPositionRow: StoredRow {
    var file: String
    var key: String
}

struct FeedKeyCountRow: StoredRow {
    var active: Bool
    var n: Int
}

/// An object with its current version's data.
struct ObjectRow: StoredRow {
    var ref: Int64
    var type: String?
    var title: String
    var version: Int
    var created: Int64
    var updated: Int64
    var data: String
    var deleted: Bool?

    func record() -> ObjectRecord {
        ObjectRecord(
            ref: ObjectRef(ref), type: type, title: title, version: version, created: date(created), updated: date(updated),
            values: ObjectValueStorage.decode(data), deleted: deleted ?? false)
    }
}

struct ObjectVersionRow: StoredRow {
    var version: Int
    var batch: String?
    /// Not selected by rollback, which compares versions by what they hold.
    var saved: Int64?
    var data: String
    var deleted: Bool

    func record() -> ObjectVersionRecord {
        ObjectVersionRecord(version: version, batch: batch, saved: date(saved ?? 0), values: ObjectValueStorage.decode(data), deleted: deleted)
    }

    /// The version as `RollbackStep.plan` compares them: its stored values and flag.
    var rollbackEntry: (version: Int, batch: String?, state: String) { (version, batch, data + (deleted ? "\u{0}deleted" : "")) }
}

struct DocumentRow: StoredRow {
    var batch: String?
    var record: String
    var data: String

    func document() -> DictionaryDocument {
        DictionaryDocument(batch: batch, record: record, values: (try? JSONParser.parse(data)) ?? .null)
    }
}

struct PushAPIRow: StoredRow {
    var name: String
    var description: String
    var enabled: Bool
    var response: String
    var control: String
    var bodyLimit: Int
    var created: Int64
    var updated: Int64

    func record() -> PushAPIRecord {
        PushAPIRecord(
            name: name, description: description, enabled: enabled, response: PushResponseFormat(rawValue: response) ?? .json, control: control,
            bodyLimit: bodyLimit, created: date(created), updated: date(updated))
    }
}

struct WebhookRow: StoredRow {
    var id: Int64
    var name: String
    var url: String
    var events: String
    var everyBatch: Bool
    var secret: String
    var created: Int64

    func record() -> WebhookRecord {
        WebhookRecord(
            id: id, name: name, url: url, events: WebhookRecord.events(events), everyBatch: everyBatch, secret: secret, created: date(created))
    }
}

/// A delivery; `secret` and `body` only where a query joins them in (a due delivery).
struct DeliveryRow: StoredRow {
    var id: String
    var webhook: String
    var url: String
    var batch: String
    var event: String
    var batchState: String
    var created: Int64
    var state: String
    var nextAttempt: Int64?
    var attempts: String
    var secret: String?
    var body: String?

    func record() -> WebhookDelivery {
        WebhookDelivery(
            id: id, webhook: webhook, url: url, batch: BatchID(rawValue: batch), event: WebhookEvent(rawValue: event) ?? .finished,
            batchState: batchState, created: date(created), state: DeliveryState(rawValue: state) ?? .failed, nextAttempt: date(nextAttempt),
            attempts: DeliveryAttempt.decode(attempts))
    }
}

struct AdminSessionRow: StoredRow {
    var idHash: String
    var account: String
    var csrfToken: String
    var created: Int64
    var lastSeen: Int64
    var data: String

    func record() -> AdminSessionRecord {
        AdminSessionRecord(idHash: idHash, account: account, csrfToken: csrfToken, created: date(created), lastSeen: date(lastSeen), data: data)
    }
}

struct AuditRow: StoredRow {
    var time: Int64
    var batch: String?
    var event: String
    var detail: String

    func record() -> AuditEntry {
        AuditEntry(time: date(time), batch: batch.map(BatchID.init(rawValue:)), event: event, detail: detail)
    }
}

struct AdminAccountRow: StoredRow {
    var name: String
    var passwordHash: String
    var created: Int64
    var passwordChanged: Int64
    var disabled: Bool
    var role: String

    func record() -> AdminAccountRecord {
        AdminAccountRecord(
            name: name, passwordHash: passwordHash, created: date(created), passwordChanged: date(passwordChanged), disabled: disabled,
            role: AdminRole(rawValue: role) ?? .viewer)
    }
}

struct APIKeyRow: StoredRow {
    var id: Int64
    var name: String
    var scope: String
    var hash: String
    var created: Int64
    var lastUsed: Int64?
    var revoked: Bool
    var expires: Int64?
    var restriction: String?

    func record() -> APIKeyRecord {
        APIKeyRecord(
            id: id, name: name, scope: APIScope(rawValue: scope) ?? .batch, created: date(created), lastUsed: date(lastUsed), revoked: revoked,
            expires: date(expires), restriction: restriction.flatMap(APIKeyRestriction.init(text:)))
    }
}
