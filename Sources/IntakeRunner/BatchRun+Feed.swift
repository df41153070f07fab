import Crypto
import Foundation
import IntakeCore
import IntakeStore

/// What a run of a feed batch (docs/feeds.md) knows besides the records.
struct FeedRun {
    let declaration: FeedDeclaration
    /// The digest of the control file and the schema's fingerprint: a record is skipped only when
    /// the run that last applied it used the same ones.
    let control: String
    let schema: String
    /// Transform every record (`force=true` on schedule).
    let force: Bool
    /// The batch's files of which the feed remembered no key when this process took up the run
    /// (a feed's first night): a key of theirs has memory only if this batch saved it, and then the
    /// batch saw it before, so their records note the key as seen without reading its memory.
    /// Nothing else writes the feed's memory meanwhile: its real nights run one at a time and only
    /// a rollback deletes memory. A resumed run finds the memory it saved and reads every key; a
    /// dry run, which may run beside a real night, always reads.
    let filesWithoutMemory: Set<String>

    var name: String { declaration.name }

    /// The hash of a record's value: any change of any field, read by the instructions or not, is
    /// a change. 128 bits of SHA-256 of its canonical bytes; `buffer` is reused from record to record.
    static func digest(of record: JSONValue, buffer: inout [UInt8]) -> String {
        buffer.removeAll(keepingCapacity: true)
        record.appendCanonicalBytes(to: &buffer)
        let hash = buffer.withUnsafeBytes { SHA256.hash(data: $0) }
        return hash.withUnsafeBytes { hex(UnsafeRawBufferPointer(rebasing: $0.prefix(16))) }
    }

    /// Lower-case hex, without a format string per byte (a run makes one per record).
    static func hex<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            var index = 0
            for byte in bytes {
                out[index] = hexDigit(byte >> 4)
                out[index + 1] = hexDigit(byte & 0x0f)
                index += 2
            }
            return index
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 48 + nibble : 87 + nibble }

    /// Whether transforming the record again provably changes nothing (docs/feeds.md "Unchanged
    /// records are skipped"). The proof: the last run that applied the key transformed the same
    /// record and found that it changed nothing (so transforming it in that state is a no-op: a
    /// record that created or updated objects, or appended values, is transformed once more to see
    /// that), and the state it depends on is the same now: the same control file and schema; every
    /// object it saved still at the version it left; every read its transform made
    /// (a lookup by username or behaviour, a load) answering as it did then, a lookup that found
    /// nothing included; and nothing else it used (title mappings, links) or wrote (documents,
    /// which every transform appends again) that cannot be checked so.
    func canSkip(_ memory: FeedKeyMemory, digest: String, tx: any ImportTransaction) throws -> Bool {
        guard !force, memory.active, !memory.mustTransform, memory.recordDigest == digest, memory.control == control,
            memory.schema == schema, !memory.objects.isEmpty
        else { return false }
        if let alike = memory.storeAnswersAlike { return alike }
        // The reads first: a lookup finds, most often, the record's own object, and the store
        // answers the object's version from that lookup.
        for read in memory.reads {
            switch read {
            case .object(let ref, let version):
                // Most loads are of the record's own objects, checked above.
                if memory.objects.contains(where: { $0.ref == ref && $0.version == version }) { continue }
                if try tx.currentVersion(of: ref) != version { return false }
            case .username(let name, let answer): if try tx.lookUpRef(username: name) != answer { return false }
            case .behaviour(let code, let answer): if try tx.lookUpRef(behaviour: code) != answer { return false }
            }
        }
        for object in memory.objects where try tx.currentVersion(of: object.ref) != object.version {
            return false
        }
        return true
    }

    /// The reads a transform made, as its key remembers them (object versions as the record left
    /// them); nil when one of them cannot be checked again.
    static func remembered(_ reads: [StoreRead], tx: any ImportTransaction) throws -> [RememberedRead]? {
        var remembered: [RememberedRead] = []
        for read in reads {
            let entry: RememberedRead
            switch read {
            case .unrepeatable: return nil
            case .object(let ref): entry = .object(ref, version: try tx.currentVersion(of: ref))
            case .username(let name, let answer):
                guard RememberedRead.canEncode(name) else { return nil }
                entry = .username(name, answer)
            case .behaviour(let code, let answer):
                guard RememberedRead.canEncode(code) else { return nil }
                entry = .behaviour(code, answer)
            }
            if !remembered.contains(entry) { remembered.append(entry) }
        }
        return remembered
    }
}

extension BatchRun {
    /// Prepares the feed of a batch whose control file declares one, inside the preparation's
    /// transaction: the batch is named as the feed's and its `leavers` instructions compiled.
    func prepareFeed(_ importBatch: ImportBatch, tx: any ImportTransaction) throws -> FeedRun? {
        guard let declaration = FeedDeclaration(control: importBatch.control) else { return nil }
        try tx.setBatchFeed(batch.id, feed: declaration.name)
        if let problem = Self.prepareLeavers(declaration, in: importBatch) { throw FatalRunError(message: problem) }
        let fingerprint = SHA256.hash(data: Array(environment.models.schema.fingerprint.utf8))
        let filesWithoutMemory =
            batch.dryRun ? [] : try Set(batch.files.map(\.name).filter { try !tx.feedHasKeys(feed: declaration.name, file: $0) })
        return FeedRun(
            declaration: declaration, control: batch.control.hex,
            schema: fingerprint.withUnsafeBytes { FeedRun.hex($0) }, force: batch.force, filesWithoutMemory: filesWithoutMemory)
    }

    private static func prepareLeavers(_ declaration: FeedDeclaration, in importBatch: ImportBatch) -> String? {
        do {
            try importBatch.prepareLeavers(declaration.leavers)
            return nil
        } catch {
            return error.message
        }
    }

    /// One record of a feed batch: its key is checked (present, not seen before in this batch), the
    /// record is skipped when nothing could change, else transformed and committed with the key's
    /// new memory, in the same transaction.
    func transformFeedRecord(
        _ record: SourceRecord, reader: PrefetchingRecordReader?, file: RecordSource, importBatch: ImportBatch, tx: any ImportTransaction,
        feed: FeedRun
    ) throws -> String {
        guard let key = feed.declaration.keyValue(of: record.value) else {
            return refuse(record, file: file, importBatch: importBatch, message: feed.declaration.missingKeyMessage(), key: nil)
        }
        let (first, memory) = try tx.noteFeedKeySeen(
            batch: batch.id, file: file.name, key: key, record: importBatch.recordCounter,
            readingMemoryOf: feed.filesWithoutMemory.contains(file.name) ? nil : feed.name,
            upcoming: { reader?.recordsAhead.compactMap { feed.declaration.keyValue(of: $0.value) } ?? [] })
        if let first {
            return refuse(
                record, file: file, importBatch: importBatch,
                message: "Duplicate feed key \(key) in file \(file.name), first seen at record \(first)", key: key)
        }
        let digest = reader?.digest ?? FeedRun.digest(of: record.value, buffer: &digestBuffer)
        if let memory, try feed.canSkip(memory, digest: digest, tx: tx) {
            progress.noteSeenActiveFeedKey()
            let identifier = importBatch.passOver(identifier: nextIdentifier(record, file: file, importBatch: importBatch))
            countRead(record)
            progress.recordsApplied += 1
            progress.recordsUnchanged += 1
            progress.recordsSkipped += 1
            for object in memory.objects { progress.count(.unchanged, destination: object.destination) }
            return RecordResult.line(
                record: identifier, file: file.name, line: record.line, status: .unchanged, changes: [], errors: [],
                key: "\(file.name)/\(key)", skipped: true)
        }
        repositoryProxy?.startRecording()
        let mappingsBefore = importBatch.titleMappingUses
        let (line, transformation, changes) = try transformRecord(record, file: file, importBatch: importBatch, tx: tx, key: key)
        guard transformation.isComplete, !batch.dryRun else {
            // Not saved: the key is as active as it was.
            if memory?.active == true { progress.noteSeenActiveFeedKey() }
            return line
        }
        var objects: [FeedObject] = []
        for change in changes where !change.isDocument {
            guard let ref = change.ref, let version = try tx.currentVersion(of: ref) else { continue }
            objects.append(FeedObject(destination: change.destination, ref: ref, version: version))
        }
        let reads = try FeedRun.remembered(repositoryProxy?.reads ?? [], tx: tx)
        let changed = (memory.map { !$0.active || $0.recordDigest != digest } ?? true) || changes.contains { $0.outcome != .unchanged }
        let time = now
        try tx.saveFeedKey(
            feed: feed.name,
            FeedKeyMemory(
                file: file.name, key: key, recordDigest: digest, control: feed.control, schema: feed.schema, objects: objects,
                mustTransform: reads == nil || mappingsBefore != importBatch.titleMappingUses
                    || changes.contains { $0.isDocument || $0.outcome != .unchanged },
                reads: reads ?? [], active: true, firstSeen: memory?.firstSeen ?? time, lastChanged: changed ? time : memory!.lastChanged,
                firstBatch: memory?.firstBatch ?? batch.id, lastBatch: batch.id),
            batch: batch.id)
        progress.noteSeenActiveFeedKey()
        return line
    }

    private func countRead(_ record: SourceRecord) {
        progress.recordsRead += 1
        progress.recordsDoneInFile += 1
        lastLine = record.line
    }

    /// Fails a record of a feed batch before it is transformed (no key, a duplicate key): nothing
    /// of it is applied.
    private func refuse(_ record: SourceRecord, file: RecordSource, importBatch: ImportBatch, message: String, key: String?) -> String {
        let linesBefore = pendingLines.count
        let identifier = importBatch.passOver(identifier: nextIdentifier(record, file: file, importBatch: importBatch))
        importBatch.report(message)
        countRead(record)
        progress.recordsFailed += 1
        return RecordResult.line(
            record: identifier, file: file.name, line: record.line, status: .failed, changes: [],
            errors: Array(pendingLines[linesBefore...]), key: key.map { "\(file.name)/\($0)" })
    }

    // MARK: Guards

    /// The `maxRecordCountChange` guard (docs/feeds.md "Guards"), checked once the batch's files are
    /// proved well-formed and before anything is committed: the number of records against the last
    /// complete real run of the feed with the same file names. Returns `.finished(.held)` when it
    /// holds the batch; nil to go on. A resumed or approved run is not checked again.
    func checkRecordCount(_ feed: FeedRun, files: [String]) throws -> Outcome? {
        // Waiting for the count costs the time of reading the files once more before the first
        // record: only a feed with this guard waits.
        guard progress.recordsRead == 0, progress.fileIndex == 0, !progress.leaversStarted, !progress.approved,
            let limit = feed.declaration.maxRecordCountChange, let check = wellFormedness
        else { return nil }
        let count: Int
        switch check.wait() {
        case .failure(let failure): throw failure
        case .success(let records): count = records
        }
        let (store, name, names) = (environment.store, feed.name, Set(files))
        let recent = try blocking { try await store.feedBatches(feed: name, limit: 100) }
        guard
            let previous = recent.first(where: {
                $0.id != batch.id && $0.state == .complete && !$0.dryRun && Set($0.files.map(\.name)) == names
            })
        else { return nil }
        let before = previous.progress.recordsRead
        guard limit.isExceeded(by: abs(count - before), of: before) else { return nil }
        let change = before > 0 ? String(format: "%+.1f%%", Double(count - before) * 100 / Double(before)) : "new"
        let text = "\(count) records, against \(before) in the last run of feed \(feed.name) (\(change)), more than its limit of \(limit)"
        if batch.dryRun {
            pendingLines.append("WOULD HOLD: \(text)")
            return nil
        }
        pendingLines.append("HELD: \(text)")
        progress.held = HeldReason(reason: "record-count", count: count, of: before, limit: limit.description)
        return .finished(.held)
    }

    // MARK: Leavers

    /// Leavers are handled this many to a transaction.
    static let leaversPerChunk = 500

    /// After every record of a snapshot feed's files was read (docs/feeds.md "Leavers"): checks the
    /// leaver guard, then runs the `leavers` instructions for each active key of the batch's file
    /// names that this run did not see, in (file, key) order, each committed with its memory.
    /// Returns `.finished(.held)` when the guard holds the batch, else `.finished(.complete)`.
    func processLeavers(_ feed: FeedRun, files: [String], importBatch: ImportBatch, proxy: RepositoryProxy) throws -> Outcome {
        guard feed.declaration.snapshot, !files.isEmpty else { return .finished(.complete) }
        // False once the leavers are counted and there are none: the keys are not read again.
        var mayHaveLeavers = true
        if !progress.leaversStarted {
            let (leaving, active) = try inRunTransaction { tx in
                let active = try tx.activeFeedKeyCount(feed: feed.name, files: files)
                return (try countLeavers(feed, files: files, active: active, tx: tx), active)
            }
            mayHaveLeavers = leaving > 0
            if !progress.approved, let limit = feed.declaration.leaverLimit(active: active), limit.isExceeded(by: leaving, of: active) {
                let text =
                    "\(leaving) of \(active) keys (\(Self.percent(leaving, of: active))) would leave feed \(feed.name), more than its limit of \(limit)"
                if !batch.dryRun {
                    pendingLines.append("HELD: \(text)")
                    progress.held = HeldReason(reason: "leavers", count: leaving, of: active, limit: limit.description)
                    return .finished(.held)
                }
                pendingLines.append("WOULD HOLD: \(text)")
            }
            progress.leaversStarted = true
        }
        while true {
            liveness.tick()
            if leaseLost.isSet { throw LeaseLost(batch: batch.id) }
            if stopRequested() { return .interrupted }
            var cancelled = false
            let done = try inRunTransaction { tx in
                proxy.transaction = tx
                defer { proxy.transaction = nil }
                if try tx.isCancelRequested() || environment.cancellations.contains(batch.id) {
                    cancelled = true
                    return true
                }
                let after = progress.lastLeaver.map { (file: $0.file, key: $0.key) }
                let leavers =
                    mayHaveLeavers
                    ? try tx.feedLeavers(feed: feed.name, files: files, batch: batch.id, after: after, limit: Self.leaversPerChunk) : []
                var results: [String] = []
                for memory in leavers {
                    results.append(try applyLeaver(memory, feed: feed, importBatch: importBatch, tx: tx))
                    progress.lastLeaver = FeedKeyPosition(file: memory.file, key: memory.key)
                }
                try saveChunk(results: results, importBatch: importBatch, tx: tx)
                return leavers.count < Self.leaversPerChunk
            }
            reportRecordMetrics()
            if cancelled {
                pendingLines.append("CANCELLED: stopped after \(progress.recordsLeft) leavers")
                return .finished(.cancelled)
            }
            if done { return .finished(.complete) }
        }
    }

    /// How many active keys of `files` the run did not see. A real run works it out from its own
    /// count of the active keys it saw: the feed's keys do not change under it, since its real runs
    /// go one at a time (docs/feeds.md), and joining every active key with the run's seen keys was
    /// a large part of an unchanged night (docs/DECISIONS.md, "Measurements behind the code"). A
    /// dry run, which may run beside a real one, and a run resumed from progress without that count
    /// join.
    private func countLeavers(_ feed: FeedRun, files: [String], active: Int, tx: any ImportTransaction) throws -> Int {
        if !batch.dryRun, let seen = progress.feedKeysSeenActive, seen <= active {
            #if DEBUG
                // Every test of a feed checks the count against the join.
                let joined = try tx.feedLeaverCount(feed: feed.name, files: files, batch: batch.id)
                precondition(joined == active - seen, "leavers counted \(active - seen), joined \(joined)")
            #endif
            return active - seen
        }
        return try tx.feedLeaverCount(feed: feed.name, files: files, batch: batch.id)
    }

    /// One leaver: its objects loaded, the `leavers` instructions run, committed (or planned) with
    /// its memory marked `left`. A leaver whose instructions fail stays active, to leave again
    /// on the next run.
    private func applyLeaver(_ memory: FeedKeyMemory, feed: FeedRun, importBatch: ImportBatch, tx: any ImportTransaction) throws -> String {
        let linesBefore = pendingLines.count
        var loaded: [(destination: String, object: StoredObject)] = []
        for object in memory.objects {
            if let stored = try tx.object(object.ref) { loaded.append((object.destination, stored)) }
        }
        let transformation = try importBatch.transformLeaver(identifier: "leaver \(memory.identity)", loaded: loaded)
        let (status, changes) = try apply(transformation, tx: tx, leaver: true)
        if transformation.isComplete && !batch.dryRun {
            var left = memory
            left.active = false
            left.objects = try memory.objects.map { object in
                var object = object
                object.version = try tx.currentVersion(of: object.ref) ?? object.version
                return object
            }
            (left.lastChanged, left.lastBatch) = (now, batch.id)
            try tx.saveFeedKey(feed: feed.name, left, batch: batch.id)
        }
        return RecordResult.line(
            record: transformation.identifier, file: memory.file, line: nil, status: status, changes: changes,
            errors: Array(pendingLines[linesBefore...]), key: memory.identity, leaver: true)
    }

    /// `20.8%`: one decimal, as the HELD line shows it.
    static func percent(_ count: Int, of total: Int) -> String {
        guard total > 0 else { return "100.0%" }
        return String(format: "%.1f%%", Double(count) * 100 / Double(total))
    }

    /// The keys a run saw are kept until it ends (a held batch keeps them for its approval).
    func forgetSeenFeedKeys() throws {
        guard feedRun != nil else { return }
        try inRunTransaction { tx in
            try tx.forgetSeenFeedKeys(batch: batch.id)
        }
    }
}
