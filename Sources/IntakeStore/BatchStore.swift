import Foundation
import IntakeCore

/// Errors the stores raise for conditions callers must handle.
package enum StoreError: Error, Sendable, Equatable {
    case batchNotFound(BatchID)
    case wrongState(BatchID, expected: BatchState)
    case controlFileNotFound(String)
    case accountExists(String)
    case webhookExists(String)
    case pushAPIExists(String)
}

/// Persistent state of Intake, as one value: every role below, implemented by one backend
/// (`SQLiteBatchStore`). The application core, the HTTP layer and the worker see only these protocols;
/// code that needs one role should ask for that role.
package protocol BatchStore: ControlFileStore, BatchRepository, JobQueue, APIKeyStore, AdminAccountStore, AdminSessionStore, AuditLog,
    SettingsStore, ObjectStore, FeedStore, WebhookStore, PushAPIStore
{
    /// Succeeds when the store can be read (liveness).
    func ping() async throws
}

/// Uploaded control files, by digest (their bytes are blobs).
package protocol ControlFileStore: Sendable {
    /// Records a control file; the same digest and comment twice is one record, which keeps its first
    /// uploader (`uploadedBy`: an admin's name or an API key's, for people to read).
    func addControlFile(digest: Digest, size: Int64, comment: String, uploadedBy: String?, now: Date) async throws
    func controlFileExists(_ digest: Digest) async throws -> Bool
    /// Control-file records, newest first; with a `comment`, only those whose comment contains it
    /// (ignoring case).
    func controlFiles(comment: String?, limit: Int, offset: Int) async throws -> [ControlFileRecord]
    func controlFileCount(comment: String?) async throws -> Int
    /// How many batches use each of these control files.
    func batchCounts(controls: [Digest]) async throws -> [Digest: Int]
    func controlFile(id: Int64) async throws -> ControlFileRecord?
    /// The records of one digest (one per comment), newest first.
    func controlFiles(digest: Digest) async throws -> [ControlFileRecord]
    func controlFile(digest: Digest, comment: String) async throws -> ControlFileRecord?
}

/// Batches, their files, their logs and per-record results, outside of running them.
package protocol BatchRepository: Sendable {
    /// Creates a batch with its files (in run order) in one transaction.
    func createBatch(id: BatchID, control: Digest, comment: String, state: BatchState, files: [BatchFile], now: Date) async throws
    func batch(_ id: BatchID) async throws -> Batch?
    /// Names the feed a batch belongs to (its control file's), when it is created, and the webhooks
    /// its `notify` names.
    func setFeed(_ id: BatchID, feed: String, notify: [String]) async throws
    /// Adds or replaces a file; a replaced name keeps its first position.
    /// - Throws: `StoreError.wrongState` unless the batch is `uploading`.
    func addFile(_ file: BatchFile, to id: BatchID) async throws
    /// Replaces every file of a `ready` batch, in the given order.
    /// - Throws: `StoreError.wrongState` unless the batch is `ready`.
    func replaceFiles(of id: BatchID, with files: [BatchFile]) async throws
    /// Moves a batch in state `from` (`uploading` for the API, `ready` for the admin UI) to `scheduled`.
    /// - Throws: `StoreError.wrongState` otherwise.
    /// `force`: a feed batch transforms every record, skipping none (docs/feeds.md).
    /// `maxErrors`: the batch's own error limit (`ErrorPolicy`), over the control file's.
    func schedule(_ id: BatchID, from: BatchState, dryRun: Bool, force: Bool, maxErrors: Int?, by: String, now: Date) async throws
    /// Up to `limit` log lines after the first `skipping`, in order. Callers page through a log so
    /// that it is never held whole.
    func logLines(of id: BatchID, skipping: Int, limit: Int) async throws -> [String]
    /// Per-record results (one JSON line each) in input order, from the result at index `from`
    /// (0-based): at least `limit` lines unless the results end, maybe a few more (they are stored in
    /// chunks). Callers page through them so that a million results are never held at once.
    func resultLines(of id: BatchID, from: Int, limit: Int) async throws -> [String]
    /// Cancels a batch that has not finished. A `running` batch is flagged and stops after its current
    /// record; others become `cancelled` at once. Returns false when the batch had already finished.
    func cancel(_ id: BatchID, now: Date) async throws -> Bool
    func isCancelRequested(_ id: BatchID) async throws -> Bool
    /// A new batch in `state` (`uploading` for the API, `ready` for the admin UI) with the same
    /// control file and files, which records where it was copied from.
    func copy(_ id: BatchID, as newID: BatchID, state: BatchState, now: Date) async throws
    /// How many batches are in `state` (all batches for nil), counted by the store.
    func batchCount(state: BatchState?) async throws -> Int
    /// Newest first, optionally only those in one state, skipping the first `offset`.
    func batches(state: BatchState?, limit: Int, offset: Int) async throws -> [Batch]
    /// The newest batches that use a control file.
    func batches(control: Digest, limit: Int) async throws -> [Batch]
    /// Batches that pass a filter, newest first, skipping the first `offset`.
    func batches(matching filter: BatchFilter, limit: Int, offset: Int) async throws -> [Batch]
    func batchCount(matching filter: BatchFilter) async throws -> Int
    /// Finished batches (`complete`, `dry-run`, `error`, `cancelled`) that ended before `date` (to the
    /// second, inclusive) and
    /// were not purged yet, oldest first.
    func purgeableBatches(finishedBefore date: Date, limit: Int) async throws -> [Batch]
    /// Deletes a finished batch's log and results and marks it purged; its file records stay (their
    /// blobs are the caller's to delete). Returns how many log and result lines went.
    /// - Throws: `StoreError.wrongState` unless the batch has finished.
    func purgeRecords(of id: BatchID, now: Date) async throws -> (logLines: Int, resultLines: Int)
    /// Whether a control file, or a file of a batch that is not purged (other than those in
    /// `ignoring`), has this digest.
    func isDigestInUse(_ digest: Digest, ignoring: Set<BatchID>) async throws -> Bool
}

/// Running batches: who runs which (owners and leases, see `JobLease`), and the transactions a run
/// commits its chunks in.
package protocol JobQueue: Sendable {
    /// Moves an `uploading` batch straight to `running` under this store's lease, for runs driven by
    /// `intake run` rather than the queue.
    func startDirectRun(_ id: BatchID, dryRun: Bool, by: String, now: Date) async throws
    /// Atomically takes a `running` batch whose owner let it go (a graceful stop) or is gone (its
    /// lease expired, or its process on this host no longer exists), else the oldest `scheduled` one;
    /// marks it `running` under this store's lease. A batch whose process keeps stopping without
    /// letting go and without committing anything (`JobLease.maxStops`) is finished as `error`
    /// instead, with a log line.
    func claimNextBatch(now: Date) async throws -> Batch?
    /// Lets a `held` batch go on (docs/feeds.md "Guards"): it is scheduled again and its run
    /// continues where it was held, without checking its guards again.
    /// - Throws: `StoreError.wrongState` unless the batch is `held`.
    func approve(_ id: BatchID, by: String, now: Date) async throws
    /// Records that a run of this `running` batch crashed its process (its crash report, read when
    /// the process started again). Crashes in a row without progress end the batch in `error`
    /// (`JobLease.maxCrashes`); a batch in any other state is left alone.
    func reportCrash(_ id: BatchID, now: Date) async throws
    /// Extends this store's lease on a running batch. - Throws: `LeaseLost` when it is not ours any more.
    func renewLease(_ id: BatchID, now: Date) async throws
    /// Lets a running batch go without finishing it (graceful shutdown): any process may resume it at once.
    func releaseLease(_ id: BatchID) async throws
    /// Ends a run. - Throws: `LeaseLost` (and changes nothing) unless this store holds the batch's lease.
    func finish(_ id: BatchID, state: BatchState, progress: RunProgress, logLines: [String], now: Date) async throws
    /// Runs `body` in one write transaction. Import runs use it chunk by chunk. For a batch that is
    /// `running`, the transaction commits only if this store still holds its lease (and renews it).
    /// - Throws: `LeaseLost`, rolling everything back, when another process owns the batch now.
    func inImportTransaction<T>(batch: BatchID, now: Date, _ body: (any ImportTransaction) throws -> T) throws -> T
}

/// API keys, stored as hashes.
package protocol APIKeyStore: Sendable {
    /// `expires`: from then on the key is refused; nil: never.
    func createAPIKey(
        name: String, scope: APIScope, hash: String, expires: Date?, restriction: APIKeyRestriction?, now: Date
    ) async throws -> Int64
    func apiKeys() async throws -> [APIKeyRecord]
    func revokeAPIKey(id: Int64) async throws -> Bool
    /// The active key with this hash, compared in constant time with every active key; records its use.
    func useAPIKey(hash: String, now: Date) async throws -> APIKeyRecord?
}

/// Accounts that sign in to the admin UI, with their password hashes (bcrypt, made by the caller).
package protocol AdminAccountStore: Sendable {
    /// Creates an account. - Throws: `StoreError.accountExists` when the name is taken.
    func createAdminAccount(name: String, passwordHash: String, role: AdminRole, now: Date) async throws
    /// Gives an account another role; false when there is no such account.
    func setAdminRole(name: String, role: AdminRole) async throws -> Bool
    /// Replaces an account's password hash; false when there is no such account.
    func setAdminPassword(name: String, passwordHash: String, now: Date) async throws -> Bool
    func adminAccount(name: String) async throws -> AdminAccountRecord?
    /// Every account, by name.
    func adminAccounts() async throws -> [AdminAccountRecord]
    /// Disables (or enables again) an account; disabling ends its sessions. False when there is no
    /// such account.
    func setAdminAccountDisabled(name: String, disabled: Bool) async throws -> Bool
    /// Deletes an account and its sessions; false when there is no such account.
    func deleteAdminAccount(name: String) async throws -> Bool
}

/// Server-side sessions of the admin UI. Only a hash of a session's identifier is stored, so a
/// copy of the database does not let anyone sign in.
package protocol AdminSessionStore: Sendable {
    func createAdminSession(_ session: AdminSessionRecord) async throws
    func adminSession(idHash: String) async throws -> AdminSessionRecord?
    /// Records a request in the session (its idle time starts again) and replaces its data.
    func updateAdminSession(idHash: String, lastSeen: Date, data: String) async throws
    func deleteAdminSession(idHash: String) async throws
    /// Deletes sessions idle since `idleBefore` or created before `createdBefore`; returns how many.
    func deleteAdminSessions(idleBefore: Date, createdBefore: Date) async throws -> Int
}

/// The audit trail: who changed what, and failed sign-ins.
package protocol AuditLog: Sendable {
    func recordAudit(event: String, batch: BatchID?, detail: String, now: Date) async throws
    /// The newest entries first.
    func auditEntries(limit: Int) async throws -> [AuditEntry]
    /// The newest entries about one batch first.
    func auditEntries(batch: BatchID, limit: Int) async throws -> [AuditEntry]
}

/// Small named values: the admin password hash and the like.
package protocol SettingsStore: Sendable {
    func setting(_ key: String) async throws -> String?
    func setSetting(_ key: String, _ value: String) async throws
}

/// Imported objects, their versions and dictionary documents, for the read API and rollback.
package protocol ObjectStore: Sendable {
    func object(_ ref: ObjectRef) async throws -> ObjectRecord?
    func objects(types: Set<String>?, title: String?, after: ObjectRef?, limit: Int) async throws -> [ObjectRecord]
    func history(of ref: ObjectRef) async throws -> [ObjectVersionRecord]
    /// Current objects that a batch wrote a version of, by ref, after `after`.
    func objects(writtenBy batch: BatchID, after: ObjectRef?, limit: Int) async throws -> [ObjectRecord]
    /// Committed dictionary targets of a destination, in commit order.
    func documents(model: String, destination: String, batch: BatchID?) async throws -> [DictionaryDocument]
    /// Creates the schema's list objects unless an object with the same behaviour exists.
    func ensureListObjects(_ objects: [ListObjectDefinition], now: Date) async throws
    /// Undoes a `complete` batch in one transaction: deleted versions for the objects it created,
    /// earlier versions restored for those it changed, its feed memory restored; the batch becomes
    /// `rolled-back` and its log gains `RollbackOutcome.logLines(by:now:)`.
    /// - Throws: `StoreError.wrongState` unless the batch is `complete`.
    func rollback(_ id: BatchID, by: String, now: Date) async throws -> RollbackOutcome
    /// What `rollback` would do now, without doing it: each object the batch wrote, with its step.
    /// - Throws: `StoreError.wrongState` unless the batch is `complete`.
    func rollbackPlan(_ id: BatchID) async throws -> [(ref: ObjectRef, step: RollbackStep)]
}

/// Which batches a list shows: any of `states` (all when empty), a comment containing `comment`
/// (ignoring case), a control file whose digest starts with `controlPrefix`.
package struct BatchFilter: Sendable, Equatable {
    package var states: [BatchState]
    package var comment: String?
    package var controlPrefix: String?

    package init(states: [BatchState] = [], comment: String? = nil, controlPrefix: String? = nil) {
        self.states = states
        self.comment = comment
        self.controlPrefix = controlPrefix
    }
}

extension ControlFileStore {
    package func addControlFile(digest: Digest, size: Int64, comment: String, now: Date) async throws {
        try await addControlFile(digest: digest, size: size, comment: comment, uploadedBy: nil, now: now)
    }

    package func controlFiles(limit: Int, offset: Int) async throws -> [ControlFileRecord] {
        try await controlFiles(comment: nil, limit: limit, offset: offset)
    }

    package func controlFileCount() async throws -> Int { try await controlFileCount(comment: nil) }
}

extension AdminAccountStore {
    /// An account with every right (as every account made before roles).
    package func createAdminAccount(name: String, passwordHash: String, now: Date) async throws {
        try await createAdminAccount(name: name, passwordHash: passwordHash, role: .admin, now: now)
    }
}

extension APIKeyStore {
    /// A key that never expires.
    package func createAPIKey(name: String, scope: APIScope, hash: String, now: Date) async throws -> Int64 {
        try await createAPIKey(name: name, scope: scope, hash: hash, expires: nil, restriction: nil, now: now)
    }

    package func createAPIKey(name: String, scope: APIScope, hash: String, expires: Date?, now: Date) async throws -> Int64 {
        try await createAPIKey(name: name, scope: scope, hash: hash, expires: expires, restriction: nil, now: now)
    }
}

extension BatchRepository {
    /// A batch without files yet, as the API creates them.
    package func createBatch(id: BatchID, control: Digest, comment: String, state: BatchState, now: Date) async throws {
        try await createBatch(id: id, control: control, comment: comment, state: state, files: [], now: now)
    }

    package func schedule(_ id: BatchID, from: BatchState, dryRun: Bool, by: String, now: Date) async throws {
        try await schedule(id, from: from, dryRun: dryRun, force: false, maxErrors: nil, by: by, now: now)
    }

    /// Schedules an `uploading` batch (the API's rule).
    package func schedule(_ id: BatchID, dryRun: Bool, by: String, now: Date) async throws {
        try await schedule(id, from: .uploading, dryRun: dryRun, by: by, now: now)
    }

    /// An `uploading` copy (the API's rule).
    package func copy(_ id: BatchID, as newID: BatchID, now: Date) async throws {
        try await copy(id, as: newID, state: .uploading, now: now)
    }

    package func batches(state: BatchState?, limit: Int) async throws -> [Batch] {
        try await batches(state: state, limit: limit, offset: 0)
    }

    /// The whole log, for `intake run` and tests: logs are short (500 reported errors at most).
    package func log(of id: BatchID) async throws -> [String] {
        var lines: [String] = []
        for try await page in logPages(of: id) { lines += page }
        return lines
    }

    /// Every result, for tests and small batches; servers page with `resultLines`.
    package func results(of id: BatchID) async throws -> [String] {
        var lines: [String] = []
        for try await page in resultPages(of: id, pageSize: 10_000) { lines += page }
        return lines
    }
}

/// The store as one import chunk sees it: the engine's repository plus run bookkeeping, all in one
/// transaction.
package protocol ImportTransaction: ObjectRepository, FeedTransaction {
    /// Runs `body` so that its writes are undone if it throws: one record stays atomic.
    func atomically<T>(_ body: () throws -> T) throws -> T
    func appendLog(_ lines: [String], startingAt index: Int) throws
    func appendResults(_ lines: [String], startingAt index: Int) throws
    /// Whether a cancel was requested, read inside the transaction.
    func isCancelRequested() throws -> Bool
    func saveProgress(_ progress: RunProgress) throws
    /// Reserves the next `count` refs for a run that allocates refs itself, ahead of its writes; the
    /// counter moves with this transaction, so no other writer (another process's run) is handed
    /// any of them.
    func reserveRefs(count: Int) throws -> ClosedRange<Int64>
    /// Gives back the end of a reservation that was not used (`used` is the last ref used), if no
    /// other reservation came after it, so refs stay contiguous from one batch to the next.
    func releaseRefs(after used: Int64, reservedThrough end: Int64) throws
    /// Applies a run's collected writes in this order: new objects, documents, log lines, results,
    /// the run position. All or nothing with the rest of the transaction. An embedded store may call
    /// `applyRowByRow`; a networked one sends each kind as one multi-row statement.
    func apply(_ writes: ChunkWrites) throws
    /// Stores a new object of `apply` (version 1), using the columns already worked out in it.
    func saveNew(_ object: ChunkWrites.NewObject) throws
}
