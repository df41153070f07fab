import Foundation
import IntakeCore
import IntakeStore

/// A store that fails on purpose: it forwards everything to a real store, except that saving an
/// object for which `failSave` answers true throws `InjectedFailure` inside the import transaction,
/// as a database error would. Tests of what a run does when the store fails use it instead of
/// planting SQL triggers in one backend.
package final class FailingStore: BatchStore {
    package let base: any BatchStore
    let failSave: @Sendable ([ObjectValue]) -> Bool

    package init(_ base: any BatchStore, failSave: @escaping @Sendable ([ObjectValue]) -> Bool) {
        self.base = base
        self.failSave = failSave
    }

    package struct InjectedFailure: Error, CustomStringConvertible {
        package var description: String { "injected store failure" }
    }

    package func inImportTransaction<T>(batch: BatchID, now: Date, _ body: (any ImportTransaction) throws -> T) throws -> T {
        try base.inImportTransaction(batch: batch, now: now) { tx in try body(FailingTransaction(base: tx, failSave: failSave)) }
    }

    package func ping() async throws { try await base.ping() }
    package func addControlFile(digest: Digest, size: Int64, comment: String, uploadedBy: String?, now: Date) async throws {
        try await base.addControlFile(digest: digest, size: size, comment: comment, uploadedBy: uploadedBy, now: now)
    }
    package func controlFileExists(_ digest: Digest) async throws -> Bool { try await base.controlFileExists(digest) }
    package func createBatch(id: BatchID, control: Digest, comment: String, state: BatchState, files: [BatchFile], now: Date) async throws {
        try await base.createBatch(id: id, control: control, comment: comment, state: state, files: files, now: now)
    }
    package func controlFiles(comment: String?, limit: Int, offset: Int) async throws -> [ControlFileRecord] {
        try await base.controlFiles(comment: comment, limit: limit, offset: offset)
    }
    package func batchCounts(controls: [Digest]) async throws -> [Digest: Int] { try await base.batchCounts(controls: controls) }
    package func batches(matching filter: BatchFilter, limit: Int, offset: Int) async throws -> [Batch] {
        try await base.batches(matching: filter, limit: limit, offset: offset)
    }
    package func batchCount(matching filter: BatchFilter) async throws -> Int { try await base.batchCount(matching: filter) }
    package func controlFiles(digest: Digest) async throws -> [ControlFileRecord] { try await base.controlFiles(digest: digest) }
    package func controlFileCount(comment: String?) async throws -> Int { try await base.controlFileCount(comment: comment) }
    package func controlFile(id: Int64) async throws -> ControlFileRecord? { try await base.controlFile(id: id) }
    package func controlFile(digest: Digest, comment: String) async throws -> ControlFileRecord? {
        try await base.controlFile(digest: digest, comment: comment)
    }
    package func createAdminSession(_ session: AdminSessionRecord) async throws { try await base.createAdminSession(session) }
    package func adminSession(idHash: String) async throws -> AdminSessionRecord? { try await base.adminSession(idHash: idHash) }
    package func updateAdminSession(idHash: String, lastSeen: Date, data: String) async throws {
        try await base.updateAdminSession(idHash: idHash, lastSeen: lastSeen, data: data)
    }
    package func deleteAdminSession(idHash: String) async throws { try await base.deleteAdminSession(idHash: idHash) }
    package func deleteAdminSessions(idleBefore: Date, createdBefore: Date) async throws -> Int {
        try await base.deleteAdminSessions(idleBefore: idleBefore, createdBefore: createdBefore)
    }
    package func recordAudit(event: String, batch: BatchID?, detail: String, now: Date) async throws {
        try await base.recordAudit(event: event, batch: batch, detail: detail, now: now)
    }
    package func auditEntries(limit: Int) async throws -> [AuditEntry] { try await base.auditEntries(limit: limit) }
    package func batch(_ id: BatchID) async throws -> Batch? { try await base.batch(id) }
    package func replaceFiles(of id: BatchID, with files: [BatchFile]) async throws { try await base.replaceFiles(of: id, with: files) }
    package func addFile(_ file: BatchFile, to id: BatchID) async throws { try await base.addFile(file, to: id) }
    package func schedule(_ id: BatchID, from: BatchState, dryRun: Bool, force: Bool, maxErrors: Int?, by: String, now: Date) async throws {
        try await base.schedule(id, from: from, dryRun: dryRun, force: force, maxErrors: maxErrors, by: by, now: now)
    }
    package func logLines(of id: BatchID, skipping: Int, limit: Int) async throws -> [String] {
        try await base.logLines(of: id, skipping: skipping, limit: limit)
    }
    package func resultLines(of id: BatchID, from: Int, limit: Int) async throws -> [String] {
        try await base.resultLines(of: id, from: from, limit: limit)
    }
    package func cancel(_ id: BatchID, now: Date) async throws -> Bool { try await base.cancel(id, now: now) }
    package func approve(_ id: BatchID, by: String, now: Date) async throws { try await base.approve(id, by: by, now: now) }
    package func feeds() async throws -> [FeedRecord] { try await base.feeds() }
    package func setFeed(_ id: BatchID, feed: String, notify: [String]) async throws {
        try await base.setFeed(id, feed: feed, notify: notify)
    }
    package func createWebhook(name: String, url: String, events: [WebhookEvent], everyBatch: Bool, secret: String, now: Date) async throws {
        try await base.createWebhook(name: name, url: url, events: events, everyBatch: everyBatch, secret: secret, now: now)
    }
    package func webhooks() async throws -> [WebhookRecord] { try await base.webhooks() }
    package func deleteWebhook(name: String) async throws -> Bool { try await base.deleteWebhook(name: name) }
    package func createPushAPI(_ api: PushAPIRecord) async throws { try await base.createPushAPI(api) }
    package func updatePushAPI(_ api: PushAPIRecord) async throws -> Bool { try await base.updatePushAPI(api) }
    package func pushAPIs() async throws -> [PushAPIRecord] { try await base.pushAPIs() }
    package func pushAPI(named name: String) async throws -> PushAPIRecord? { try await base.pushAPI(named: name) }
    package func deletePushAPI(name: String) async throws -> Bool { try await base.deletePushAPI(name: name) }
    package func deliveries(batch: BatchID) async throws -> [WebhookDelivery] { try await base.deliveries(batch: batch) }
    package func takeDueDeliveries(now: Date, limit: Int, policy: DeliveryPolicy) async throws -> [DueDelivery] {
        try await base.takeDueDeliveries(now: now, limit: limit, policy: policy)
    }
    package func recordAttempt(delivery: String, body: String, attempt: DeliveryAttempt, outcome: DeliveryOutcome) async throws {
        try await base.recordAttempt(delivery: delivery, body: body, attempt: attempt, outcome: outcome)
    }
    package func feedLeaverPreview(feed: String, files: [String], batch: BatchID, limit: Int) async throws -> [FeedKeyMemory] {
        try await base.feedLeaverPreview(feed: feed, files: files, batch: batch, limit: limit)
    }
    package func feedKeysRestoredByRollback(of batch: BatchID, limit: Int) async throws -> (count: Int, keys: [String]) {
        try await base.feedKeysRestoredByRollback(of: batch, limit: limit)
    }
    package func feedKeyHistory(feed: String, file: String, key: String) async throws -> [FeedKeyMemory] {
        try await base.feedKeyHistory(feed: feed, file: file, key: key)
    }
    package func feed(named name: String) async throws -> FeedRecord? { try await base.feed(named: name) }
    package func feedKeys(feed: String, active: Bool?, after: (file: String, key: String)?, limit: Int) async throws -> [FeedKeyMemory] {
        try await base.feedKeys(feed: feed, active: active, after: after, limit: limit)
    }
    package func feedBatches(feed: String, limit: Int) async throws -> [Batch] { try await base.feedBatches(feed: feed, limit: limit) }
    package func isCancelRequested(_ id: BatchID) async throws -> Bool { try await base.isCancelRequested(id) }
    package func copy(_ id: BatchID, as newID: BatchID, state: BatchState, now: Date) async throws {
        try await base.copy(id, as: newID, state: state, now: now)
    }
    package func batchCount(state: BatchState?) async throws -> Int { try await base.batchCount(state: state) }
    package func batches(state: BatchState?, limit: Int, offset: Int) async throws -> [Batch] {
        try await base.batches(state: state, limit: limit, offset: offset)
    }
    package func batches(control: Digest, limit: Int) async throws -> [Batch] { try await base.batches(control: control, limit: limit) }
    package func startDirectRun(_ id: BatchID, dryRun: Bool, by: String, now: Date) async throws {
        try await base.startDirectRun(id, dryRun: dryRun, by: by, now: now)
    }
    package func claimNextBatch(now: Date) async throws -> Batch? { try await base.claimNextBatch(now: now) }
    package func renewLease(_ id: BatchID, now: Date) async throws { try await base.renewLease(id, now: now) }
    package func releaseLease(_ id: BatchID) async throws { try await base.releaseLease(id) }
    package func reportCrash(_ id: BatchID, now: Date) async throws { try await base.reportCrash(id, now: now) }
    package func finish(_ id: BatchID, state: BatchState, progress: RunProgress, logLines: [String], now: Date) async throws {
        try await base.finish(id, state: state, progress: progress, logLines: logLines, now: now)
    }
    package func createAPIKey(
        name: String, scope: APIScope, hash: String, expires: Date?, restriction: APIKeyRestriction?, now: Date
    ) async throws -> Int64 {
        try await base.createAPIKey(name: name, scope: scope, hash: hash, expires: expires, restriction: restriction, now: now)
    }
    package func purgeableBatches(finishedBefore date: Date, limit: Int) async throws -> [Batch] {
        try await base.purgeableBatches(finishedBefore: date, limit: limit)
    }
    package func purgeRecords(of id: BatchID, now: Date) async throws -> (logLines: Int, resultLines: Int) {
        try await base.purgeRecords(of: id, now: now)
    }
    package func isDigestInUse(_ digest: Digest, ignoring: Set<BatchID>) async throws -> Bool {
        try await base.isDigestInUse(digest, ignoring: ignoring)
    }
    package func createAdminAccount(name: String, passwordHash: String, role: AdminRole, now: Date) async throws {
        try await base.createAdminAccount(name: name, passwordHash: passwordHash, role: role, now: now)
    }
    package func setAdminRole(name: String, role: AdminRole) async throws -> Bool { try await base.setAdminRole(name: name, role: role) }
    package func setAdminPassword(name: String, passwordHash: String, now: Date) async throws -> Bool {
        try await base.setAdminPassword(name: name, passwordHash: passwordHash, now: now)
    }
    package func adminAccount(name: String) async throws -> AdminAccountRecord? { try await base.adminAccount(name: name) }
    package func adminAccounts() async throws -> [AdminAccountRecord] { try await base.adminAccounts() }
    package func setAdminAccountDisabled(name: String, disabled: Bool) async throws -> Bool {
        try await base.setAdminAccountDisabled(name: name, disabled: disabled)
    }
    package func deleteAdminAccount(name: String) async throws -> Bool { try await base.deleteAdminAccount(name: name) }
    package func apiKeys() async throws -> [APIKeyRecord] { try await base.apiKeys() }
    package func revokeAPIKey(id: Int64) async throws -> Bool { try await base.revokeAPIKey(id: id) }
    package func useAPIKey(hash: String, now: Date) async throws -> APIKeyRecord? { try await base.useAPIKey(hash: hash, now: now) }
    package func setting(_ key: String) async throws -> String? { try await base.setting(key) }
    package func setSetting(_ key: String, _ value: String) async throws { try await base.setSetting(key, value) }
    package func object(_ ref: ObjectRef) async throws -> ObjectRecord? { try await base.object(ref) }
    package func objects(types: Set<String>?, title: String?, after: ObjectRef?, limit: Int) async throws -> [ObjectRecord] {
        try await base.objects(types: types, title: title, after: after, limit: limit)
    }
    package func history(of ref: ObjectRef) async throws -> [ObjectVersionRecord] { try await base.history(of: ref) }
    package func objects(writtenBy batch: BatchID, after: ObjectRef?, limit: Int) async throws -> [ObjectRecord] {
        try await base.objects(writtenBy: batch, after: after, limit: limit)
    }
    package func documents(model: String, destination: String, batch: BatchID?) async throws -> [DictionaryDocument] {
        try await base.documents(model: model, destination: destination, batch: batch)
    }
    package func ensureListObjects(_ objects: [ListObjectDefinition], now: Date) async throws {
        try await base.ensureListObjects(objects, now: now)
    }
    package func rollback(_ id: BatchID, by: String, now: Date) async throws -> RollbackOutcome {
        try await base.rollback(id, by: by, now: now)
    }
    package func rollbackPlan(_ id: BatchID) async throws -> [(ref: ObjectRef, step: RollbackStep)] { try await base.rollbackPlan(id) }
    package func auditEntries(batch: BatchID, limit: Int) async throws -> [AuditEntry] { try await base.auditEntries(batch: batch, limit: limit) }
}

/// The import transaction of a `FailingStore`.
final class FailingTransaction: ImportTransaction, ForwardingFeedTransaction {
    let base: any ImportTransaction
    let failSave: @Sendable ([ObjectValue]) -> Bool

    init(base: any ImportTransaction, failSave: @escaping @Sendable ([ObjectValue]) -> Bool) {
        self.base = base
        self.failSave = failSave
    }

    func save(ref: ObjectRef, values: [ObjectValue], isNew: Bool) throws -> SaveOutcome {
        if failSave(values) { throw FailingStore.InjectedFailure() }
        return try base.save(ref: ref, values: values, isNew: isNew)
    }

    func atomically<T>(_ body: () throws -> T) throws -> T { try base.atomically(body) }
    func forwardingFeed<T: Sendable>(_ body: @escaping @Sendable (any FeedTransaction) throws -> T) throws -> T { try body(base) }
    /// Row by row through this transaction, so a failing save fails the chunk it was collected in.
    func apply(_ writes: ChunkWrites) throws { try applyRowByRow(writes) }
    func appendLog(_ lines: [String], startingAt index: Int) throws { try base.appendLog(lines, startingAt: index) }
    func appendResults(_ lines: [String], startingAt index: Int) throws { try base.appendResults(lines, startingAt: index) }
    func isCancelRequested() throws -> Bool { try base.isCancelRequested() }
    func saveProgress(_ progress: RunProgress) throws { try base.saveProgress(progress) }
    func reserveRefs(count: Int) throws -> ClosedRange<Int64> { try base.reserveRefs(count: count) }
    func releaseRefs(after used: Int64, reservedThrough end: Int64) throws { try base.releaseRefs(after: used, reservedThrough: end) }
    func object(_ ref: ObjectRef) throws -> StoredObject? { try base.object(ref) }
    func oldestObject(linkingTo target: ObjectRef, through attribute: String, types: Set<String>) throws -> StoredObject? {
        try base.oldestObject(linkingTo: target, through: attribute, types: types)
    }
    func ref(forBehaviour code: String) throws -> ObjectRef? { try base.ref(forBehaviour: code) }
    func ref(forUsername username: String) throws -> ObjectRef? { try base.ref(forUsername: username) }
    func titles(ofTypes types: Set<String>, limit: Int) throws -> [(title: String, ref: ObjectRef)]? { try base.titles(ofTypes: types, limit: limit) }
    func allocateRef() throws -> ObjectRef { try base.allocateRef() }
    func plannedOutcome(ref: ObjectRef, values: [ObjectValue]) throws -> SaveOutcome { try base.plannedOutcome(ref: ref, values: values) }
    func delete(ref: ObjectRef, values: [ObjectValue]) throws -> SaveOutcome { try base.delete(ref: ref, values: values) }
    func appendDocument(model: String, destination: String, record: String, values: JSONObject) throws {
        try base.appendDocument(model: model, destination: destination, record: record, values: values)
    }
}
