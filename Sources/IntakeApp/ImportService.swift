import Foundation
import IntakeCore
import IntakeRunner
import IntakeStore

/// The use cases of batch import, with their state rules and validation in one place. The HTTP API,
/// `intake run`, the command line's key management (and the coming admin UI) call these and only
/// translate requests and answers. Errors are `BatchError`s with the contract's exact messages.
package struct ImportService: Sendable {
    package let environment: ImportEnvironment
    /// Control files are configuration, not data; anything bigger is refused before parsing.
    package static let maxControlFileBytes = ImportEnvironment.maxControlFileBytes

    package init(environment: ImportEnvironment) {
        self.environment = environment
    }

    var store: any BatchStore { environment.store }

    // MARK: Control files

    /// Checks an uploaded control file (size, JSON, NUL, the validator's messages), then moves it
    /// into the blob store and records it. On any refusal the upload is discarded.
    package func addControlFile(_ upload: any BlobUpload, comment: String?, uploadedBy: String? = nil) async throws -> Digest {
        try await acceptControlFile(upload, comment: comment ?? "Unnamed control file", uploadedBy: uploadedBy).record.digest
    }

    /// Checks and records a control file as `addControlFile` does, and says whether a record with the
    /// same digest and comment existed already (it is reused, not repeated).
    package func acceptControlFile(
        _ upload: any BlobUpload, comment: String, uploadedBy: String? = nil
    ) async throws -> (record: ControlFileRecord, reused: Bool) {
        defer { upload.discard() }
        _ = try await checkControlFile(upload)
        let (digest, size) = try await upload.finish()
        environment.metrics.recordUpload(bytes: size)
        let reused = try await store.controlFile(digest: digest, comment: comment) != nil
        try await store.addControlFile(digest: digest, size: size, comment: comment, uploadedBy: uploadedBy, now: environment.now())
        guard let record = try await store.controlFile(digest: digest, comment: comment) else { throw BatchError.controlFileMissing(digest) }
        return (record, reused)
    }

    /// The checks of an uploaded control file (size, JSON, the validator), without keeping it.
    package func checkControlFile(_ upload: any BlobUpload) async throws -> JSONValue {
        guard let bytes = try await upload.contents(limit: Self.maxControlFileBytes) else {
            throw BatchError.controlFileTooLarge(size: upload.size, limit: Self.maxControlFileBytes)
        }
        guard let control = ImportEnvironment.parseControl(bytes) else { throw BatchError.controlFileNotJSON }
        try validate(control)
        return control
    }

    /// The checks every control file passes before it is accepted, wherever it comes from.
    package func validate(_ control: JSONValue) throws {
        try Self.validate(control, vocabulary: environment.vocabulary)
    }

    /// The same checks against a vocabulary (models, readers, filters), for `intake validate`.
    package static func validate(_ control: JSONValue, vocabulary: ControlFileVocabulary) throws {
        // A NUL in a control-file string would be cut short wherever a C string carries it.
        if control.containsNUL {
            throw BatchError.invalidControlFile(["A string in the control file contains a NUL character (\\u0000)"])
        }
        let messages = ControlFileValidator(vocabulary: vocabulary).validate(control)
        guard messages.isEmpty else { throw BatchError.invalidControlFile(messages) }
    }

    /// The parsed control file of a batch.
    package func control(of batch: Batch) async throws -> JSONValue {
        try await control(ofDigest: batch.control)
    }

    package func control(ofDigest digest: Digest) async throws -> JSONValue {
        guard let control = await environment.controlFile(digest) else { throw BatchError.controlFileMissing(digest) }
        return control
    }

    // MARK: Batches

    package func createBatch(control text: String?, comment: String?) async throws -> BatchID {
        guard let text else { throw BatchError.missingParameter("control") }
        guard let digest = Digest(hex: text), try await store.controlFileExists(digest) else {
            throw BatchError.controlFileNotFound(text)
        }
        let id = BatchID.random()
        try await store.createBatch(id: id, control: digest, comment: comment ?? "Unnamed batch", state: .uploading, now: environment.now())
        try await nameFeed(of: id, control: digest)
        return id
    }

    /// A batch of a feed is known as one from the start, so that nights of one feed run in turn
    /// (see `claimNextBatch`).
    func nameFeed(of id: BatchID, control: Digest) async throws {
        guard case .object(let root)? = await environment.controlFile(control), let feed = FeedDeclaration(control: root) else { return }
        try await store.setFeed(id, feed: feed.name, notify: feed.notify)
    }

    package func batch(_ text: String?) async throws -> Batch {
        guard let text else { throw BatchError.missingParameter("batch") }
        guard let batch = try await store.batch(BatchID(rawValue: text)) else { throw BatchError.batchNotFound(text) }
        return environment.liveProgress.overlaid(batch)
    }

    /// Adds (or replaces) a named file of an `uploading` batch whose control file has a specification
    /// for the name (or a DEFAULT one). On any refusal the upload is discarded.
    package func addFile(batch text: String?, name: String?, upload: (any BlobUpload)?, filename: String?) async throws -> Digest {
        defer { upload?.discard() }
        guard text != nil else { throw BatchError.missingParameter("batch") }
        guard let name else { throw BatchError.missingParameter("name") }
        guard let upload else { throw BatchError.missingParameter("file") }
        let batch = try await self.batch(text)
        guard batch.state == .uploading else { throw BatchError.notUploading(batch.id) }
        try Self.checkFileName(name, control: try await control(of: batch))
        let (digest, size) = try await upload.finish()
        environment.metrics.recordUpload(bytes: size)
        do {
            try await store.addFile(BatchFile(name: name, digest: digest, size: size, filename: filename ?? name), to: batch.id)
        } catch StoreError.wrongState(let id, _) {
            throw BatchError.notUploading(id)
        }
        return digest
    }

    /// A file name must have a specification in the control file, or the control file a `DEFAULT` one.
    package static func checkFileName(_ name: String, control: JSONValue) throws {
        let files = control["files"]?.objectValue ?? JSONObject()
        guard files[name] != nil || files["DEFAULT"] != nil else { throw BatchError.noFileSpecification(name) }
    }

    /// A batch made whole in one step (the admin UI's form): its files are already in the blob
    /// store, and it is created `ready`, to be scheduled with `scheduleReady`. Names are checked as
    /// the API checks them; nothing is created unless all pass.
    package func createReadyBatch(control: ControlFileRecord, comment: String, files: [BatchFile], by: String) async throws -> BatchID {
        let parsed = try await self.control(ofDigest: control.digest)
        for file in files { try Self.checkFileName(file.name, control: parsed) }
        let id = BatchID.random()
        try await store.createBatch(id: id, control: control.digest, comment: comment, state: .ready, files: files, now: environment.now())
        try await nameFeed(of: id, control: control.digest)
        try await store.recordAudit(event: "created by", batch: id, detail: by, now: environment.now())
        return id
    }

    /// Replaces the files of a `ready` batch (the admin UI's file editing), names checked as for a new
    /// batch, all at once.
    package func replaceFiles(ofReady id: BatchID, with files: [BatchFile], by: String) async throws {
        let batch = try await self.batch(id.rawValue)
        guard batch.state == .ready else { throw BatchError.filesNotEditable(batch.id) }
        let control = try await self.control(of: batch)
        for file in files { try Self.checkFileName(file.name, control: control) }
        do {
            try await store.replaceFiles(of: batch.id, with: files)
        } catch StoreError.wrongState(let id, _) {
            throw BatchError.filesNotEditable(id)
        }
        try await store.recordAudit(event: "files changed", batch: batch.id, detail: by, now: environment.now())
    }

    /// Schedules a `ready` batch (the admin UI's rule; the API schedules `uploading` ones).
    package func scheduleReady(batch id: BatchID, dryRun: Bool, by: String) async throws {
        let batch = try await self.batch(id.rawValue)
        try BatchAction.scheduleReady.check(batch)
        do {
            try await store.schedule(batch.id, from: .ready, dryRun: dryRun, by: by, now: environment.now())
        } catch StoreError.wrongState(let id, _) {
            throw BatchError.wrongState(id)
        }
    }

    /// Cancels a batch that is waiting, running or held (the admin UI offers nothing else).
    package func cancelActive(batch id: BatchID) async throws {
        let batch = try await self.batch(id.rawValue)
        try BatchAction.cancelActive.check(batch)
        try await cancel(batch: id.rawValue)
    }

    /// What a `mode` parameter asks for: only `dry-run` makes a dry run, empty or absent a real one,
    /// and anything else is refused (a typo must never turn a dry run into a real import).
    package static func isDryRun(mode: String?) throws -> Bool {
        switch mode ?? "" {
        case "": false
        case "dry-run": true
        case let other: throw BatchError.invalidMode(other)
        }
    }

    /// What a `force` parameter asks for: `true` transforms every record of a feed batch, skipping
    /// none; empty, absent or `false` lets unchanged records be skipped; anything else is refused.
    package static func isForced(_ value: String?) throws -> Bool {
        switch value ?? "" {
        case "", "false": false
        case "true": true
        case let other: throw BatchError.invalidForce(other)
        }
    }

    /// A `maxErrors` parameter (an extension): the batch's own error limit, over the control file's
    /// `errorPolicy` (docs/control-files.md); empty or absent is none.
    package static func maxErrors(_ value: String?) throws -> Int? {
        guard let value, !value.isEmpty else { return nil }
        guard value.utf8.count <= 9, value.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let limit = Int(value) else {
            throw BatchError.invalidMaxErrors(value)
        }
        return limit
    }

    package func schedule(batch text: String?, mode: String?, force: String? = nil, maxErrors: String? = nil, by: String) async throws {
        let batch = try await self.batch(text)
        let dryRun = try Self.isDryRun(mode: mode)
        let forced = try Self.isForced(force)
        let limit = try Self.maxErrors(maxErrors)
        guard batch.state == .uploading else { throw BatchError.notUploading(batch.id) }
        do {
            try await store.schedule(batch.id, from: .uploading, dryRun: dryRun, force: forced, maxErrors: limit, by: by, now: environment.now())
        } catch StoreError.wrongState(let id, _) {
            throw BatchError.notUploading(id)
        }
    }

    package func cancel(batch text: String?) async throws {
        let batch = try await self.batch(text)
        // A running batch of this process is told first: an all-or-nothing run holds the store's
        // write lock until it ends, so the store's cancel would wait for it (docs/control-files.md
        // "All or nothing"), and the run, told, ends at its next record.
        let running = batch.state == .running
        if running { environment.cancellations.request(batch.id) }
        // An all-or-nothing run of this process ends as cancelled by itself, at its next record; the
        // store's cancel would wait for it to undo its records and write their lines.
        if running, environment.liveProgress.isRunningHere(batch.id) { return }
        guard try await store.cancel(batch.id, now: environment.now()) else {
            if running, try await store.batch(batch.id)?.state == .cancelled { return }
            throw BatchError.alreadyFinished(batch.id)
        }
        environment.cancellations.request(batch.id)
    }

    /// Lets a held feed batch go on (docs/feeds.md "Guards"); `by` is who approved it, for the log.
    package func approve(batch text: String?, by: String) async throws {
        let batch = try await self.batch(text)
        try BatchAction.approve.check(batch)
        do {
            try await store.approve(batch.id, by: by, now: environment.now())
        } catch StoreError.wrongState(let id, _) {
            throw BatchError.notHeld(id)
        }
    }

    /// A copy with a new identifier, the same control file and files: `uploading` for the API, `ready`
    /// for the admin UI, so that each copy lands where its creator can schedule it.
    package func copy(batch text: String?, as state: BatchState = .uploading) async throws -> BatchID {
        let batch = try await self.batch(text)
        try BatchAction.copy.check(batch)
        let copy = BatchID.random()
        try await store.copy(batch.id, as: copy, state: state, now: environment.now())
        return copy
    }

    /// Undoes a complete batch; `by` is who asked, for its log. Objects that later changes touched
    /// are left alone and make it a `rollbackConflicts` refusal, after everything else was undone.
    @discardableResult
    package func rollback(batch text: String?, by: String) async throws -> RollbackOutcome {
        let batch = try await self.batch(text)
        try BatchAction.rollback.check(batch)
        let outcome: RollbackOutcome
        do {
            outcome = try await store.rollback(batch.id, by: by, now: environment.now())
        } catch StoreError.wrongState(let id, _) {
            throw BatchError.notComplete(id)
        }
        guard outcome.conflicts.isEmpty else { throw BatchError.rollbackConflicts(outcome.conflicts) }
        return outcome
    }

    /// What a rollback would do now, changing nothing; each list holds its first `limit` entries.
    package func rollbackPreview(batch text: String?, limit: Int = RollbackPreview.listLimit) async throws -> RollbackPreview {
        let batch = try await self.batch(text)
        let plan: [(ref: ObjectRef, step: RollbackStep)]
        do {
            plan = try await store.rollbackPlan(batch.id)
        } catch StoreError.wrongState(let id, _) {
            throw BatchError.notComplete(id)
        }
        var preview = RollbackPreview()
        for (ref, step) in plan {
            switch step {
            case .delete:
                preview.deleteCount += 1
                if preview.delete.count < limit { preview.delete.append(ref) }
            case .restore(let version):
                preview.restoreCount += 1
                if preview.restore.count < limit { preview.restore.append((ref, version)) }
            case .conflict:
                preview.conflictCount += 1
                if preview.conflicts.count < limit { preview.conflicts.append(ref) }
            }
        }
        if batch.feed != nil {
            (preview.feedKeyCount, preview.feedKeys) = try await store.feedKeysRestoredByRollback(of: batch.id, limit: limit)
        }
        return preview
    }

    // MARK: API keys

    /// A new key, returned once; only its hash is stored. `expiresAfter`: the last day (UTC) it
    /// works, `YYYY-MM-DD`, from today on; nil: it never expires.
    /// `restriction`: the one push API (scope `push`) or feed (scope `batch`) the key is for.
    package func createAPIKey(
        name: String, scope: APIScope, expiresAfter day: String? = nil, restriction: APIKeyRestriction? = nil
    ) async throws -> (id: Int64, key: String) {
        switch restriction {
        case .pushAPI(let api)?:
            guard scope == .push, PushAPIRecord.isValidName(api) else { throw APIKeyError.invalidRestriction(restriction!) }
        case .feed(let feed)?:
            guard scope == .batch, FeedDeclaration.isValidName(feed) else { throw APIKeyError.invalidRestriction(restriction!) }
        case nil: break
        }
        let now = environment.now()
        var expires: Date?
        if let day, !day.isEmpty {
            guard let seconds = CivilTime.secondsOfDay(day) else { throw APIKeyError.invalidExpiry(day) }
            // Valid through the whole of that day: refused from the next midnight, UTC.
            let end = Date(timeIntervalSince1970: TimeInterval(seconds + 86_400))
            guard end > now else { throw APIKeyError.expiryInThePast(day) }
            expires = end
        }
        let key = APIKeyHashing.newKey()
        let id = try await store.createAPIKey(
            name: name, scope: scope, hash: APIKeyHashing.hash(key), expires: expires, restriction: restriction, now: now)
        return (id, key)
    }

    package func apiKeys() async throws -> [APIKeyRecord] { try await store.apiKeys() }

    package func revokeAPIKey(id: Int64) async throws -> Bool { try await store.revokeAPIKey(id: id) }
}

/// What rolling a batch back would do (`GET rollback-preview`, the admin UI's confirm page): the
/// objects it would delete, restore (with the version it would go back to) and leave alone, and for
/// a feed batch the keys whose memory it would restore. Counts are whole; the lists stop at
/// `listLimit` entries each, so a preview of a million-object batch stays small.
package struct RollbackPreview: Sendable {
    package static let listLimit = 1000
    package var delete: [ObjectRef] = []
    package var deleteCount = 0
    package var restore: [(ref: ObjectRef, version: Int)] = []
    package var restoreCount = 0
    package var conflicts: [ObjectRef] = []
    package var conflictCount = 0
    package var feedKeys: [String] = []
    package var feedKeyCount = 0
}

/// The refusals of the API key use cases.
package enum APIKeyError: UserFacingError, Equatable {
    case invalidExpiry(String)
    case expiryInThePast(String)
    case invalidRestriction(APIKeyRestriction)

    package var kind: ErrorKind { .invalidRequest }

    package var userMessage: String {
        switch self {
        case .invalidExpiry(let day): "Invalid expiry date: \(day.escapingControlCharacters) (use YYYY-MM-DD)"
        case .expiryInThePast(let day): "The expiry date \(day.escapingControlCharacters) has passed: a key must work at least until the end of today (UTC)"
        case .invalidRestriction(.pushAPI(let name)):
            "A key for one push API has the scope push, and a push API's name (a-z, 0-9, '-'): \(name.escapingControlCharacters)"
        case .invalidRestriction(.feed(let name)):
            "A key for one feed has the scope batch, and a feed's name (a-z, 0-9, '.', '_', '-'): \(name.escapingControlCharacters)"
        }
    }
}
