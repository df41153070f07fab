import Foundation
import GRDB
import IntakeCore
import IntakeStore

extension SQLiteBatchStore {
    package func createBatch(id: BatchID, control: Digest, comment: String, state: BatchState, files: [BatchFile], now: Date) async throws {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO batches (id, state, comment, control, created) VALUES (?, ?, ?, ?, ?)",
                arguments: [id.rawValue, state.rawValue, comment, control.hex, Self.seconds(now)])
            for (position, file) in files.enumerated() {
                try db.execute(
                    sql: "INSERT INTO batch_files (batch, name, position, digest, size, filename) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [id.rawValue, file.name, position, file.digest.hex, file.size, file.filename])
            }
            try Self.audit(db, id, "created", comment, now)
        }
    }

    static func audit(_ db: Database, _ batch: BatchID?, _ event: String, _ detail: String, _ now: Date) throws {
        try db.execute(
            sql: "INSERT INTO audit (time, batch, event, detail) VALUES (?, ?, ?, ?)",
            arguments: [seconds(now), batch?.rawValue, event, detail])
    }

    static func fetchBatch(_ db: Database, _ id: BatchID) throws -> Batch? {
        guard let row = try BatchTableRow.fetchOne(db, sql: "SELECT * FROM batches WHERE id = ?", arguments: [id.rawValue]) else {
            return nil
        }
        let files = try BatchFileRow.fetchAll(
            db, sql: "SELECT * FROM batch_files WHERE batch = ? ORDER BY position", arguments: [id.rawValue]
        ).map { try $0.record() }
        return try row.record(files: files)
    }

    package func purgeableBatches(finishedBefore date: Date, limit: Int) async throws -> [Batch] {
        try await read { db in
            let ids = try String.fetchAll(
                db,
                sql: """
                    SELECT id FROM batches
                    WHERE state IN ('complete', 'dry-run', 'error', 'cancelled', 'rolled-back') AND purged IS NULL
                      AND COALESCE(finished, created) <= ?
                    ORDER BY COALESCE(finished, created), id LIMIT ?
                    """, arguments: [Self.seconds(date), limit])
            return try ids.compactMap { try Self.fetchBatch(db, BatchID(rawValue: $0)) }
        }
    }

    package func purgeRecords(of id: BatchID, now: Date) async throws -> (logLines: Int, resultLines: Int) {
        try await write { db in
            guard let state = try String.fetchOne(db, sql: "SELECT state FROM batches WHERE id = ?", arguments: [id.rawValue]) else {
                throw StoreError.batchNotFound(id)
            }
            guard ["complete", "dry-run", "error", "cancelled", "rolled-back"].contains(state) else { throw StoreError.wrongState(id, expected: .complete) }
            let logLines = try Int.fetchOne(db, sql: "SELECT count(*) FROM batch_log WHERE batch = ?", arguments: [id.rawValue]) ?? 0
            let resultLines =
                try Int.fetchOne(db, sql: "SELECT json_extract(progress, '$.resultLines') FROM batches WHERE id = ?", arguments: [id.rawValue]) ?? 0
            try db.execute(sql: "DELETE FROM batch_log WHERE batch = ?", arguments: [id.rawValue])
            try db.execute(sql: "DELETE FROM batch_results WHERE batch = ?", arguments: [id.rawValue])
            try db.execute(sql: "UPDATE batches SET purged = ? WHERE id = ?", arguments: [Self.seconds(now), id.rawValue])
            try Self.audit(db, id, "purged", "\(logLines) log lines, \(resultLines) results", now)
            return (logLines, resultLines)
        }
    }

    package func isDigestInUse(_ digest: Digest, ignoring: Set<BatchID>) async throws -> Bool {
        let ignored = String(decoding: try JSONEncoder().encode(ignoring.map(\.rawValue)), as: UTF8.self)
        return try await read { db in
            try Bool.fetchOne(
                db,
                sql: """
                    SELECT EXISTS (SELECT 1 FROM control_files WHERE digest = ?1)
                        OR EXISTS (SELECT 1 FROM batch_files f JOIN batches b ON b.id = f.batch
                                   WHERE f.digest = ?1 AND b.purged IS NULL
                                     AND b.id NOT IN (SELECT value FROM json_each(?2)))
                    """, arguments: [digest.hex, ignored]) ?? true
        }
    }

    package func batch(_ id: BatchID) async throws -> Batch? {
        try await read { db in try Self.fetchBatch(db, id) }
    }

    private static func requireState(_ db: Database, _ id: BatchID, _ state: BatchState) throws {
        guard let current = try String.fetchOne(db, sql: "SELECT state FROM batches WHERE id = ?", arguments: [id.rawValue]) else {
            throw StoreError.batchNotFound(id)
        }
        guard current == state.rawValue else { throw StoreError.wrongState(id, expected: state) }
    }

    package func addFile(_ file: BatchFile, to id: BatchID) async throws {
        try await write { db in
            try Self.requireState(db, id, .uploading)
            let position =
                try Int.fetchOne(
                    db, sql: "SELECT position FROM batch_files WHERE batch = ? AND name = ?",
                    arguments: [id.rawValue, file.name])
                ?? (try Int.fetchOne(
                    db, sql: "SELECT COALESCE(MAX(position), -1) + 1 FROM batch_files WHERE batch = ?",
                    arguments: [id.rawValue]) ?? 0)
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO batch_files (batch, name, position, digest, size, filename) VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [id.rawValue, file.name, position, file.digest.hex, file.size, file.filename])
        }
    }

    package func replaceFiles(of id: BatchID, with files: [BatchFile]) async throws {
        try await write { db in
            try Self.requireState(db, id, .ready)
            try db.execute(sql: "DELETE FROM batch_files WHERE batch = ?", arguments: [id.rawValue])
            for (position, file) in files.enumerated() {
                try db.execute(
                    sql: "INSERT INTO batch_files (batch, name, position, digest, size, filename) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [id.rawValue, file.name, position, file.digest.hex, file.size, file.filename])
            }
        }
    }

    package func schedule(_ id: BatchID, from: BatchState, dryRun: Bool, force: Bool, maxErrors: Int?, by: String, now: Date) async throws {
        try await write { db in
            try Self.requireState(db, id, from)
            try db.execute(
                sql: """
                    UPDATE batches SET state = 'scheduled', dry_run = ?, force = ?, max_errors = ?, scheduled = ?, scheduled_by = ? WHERE id = ?
                    """, arguments: [dryRun, force, maxErrors, Self.seconds(now), by, id.rawValue])
            try Self.audit(db, id, "scheduled", WebhookFanOut.scheduledDetail(by: by, dryRun: dryRun, force: force, maxErrors: maxErrors), now)
        }
    }

    package func startDirectRun(_ id: BatchID, dryRun: Bool, by: String, now: Date) async throws {
        try await write { [self] db in
            try Self.requireState(db, id, .uploading)
            try db.execute(
                sql: """
                    UPDATE batches SET state = 'running', dry_run = ?, scheduled = ?, started = ?, scheduled_by = ?,
                        lease_owner = ?, lease_expires = ?, claim_position = 0 WHERE id = ?
                    """, arguments: [dryRun, Self.seconds(now), Self.seconds(now), by, lease.owner, leaseExpiry(now), id.rawValue])
            try Self.audit(db, id, "started", by + (dryRun ? " (dry run)" : ""), now)
        }
    }

    func leaseExpiry(_ now: Date) -> Int64 { Self.seconds(now.addingTimeInterval(lease.duration)) }

    /// A real run of a feed waits while another real run of the same feed is running or held: two
    /// nights of one feed applied at once, or a later night applied before a held one is decided,
    /// would make leavers of people who did not leave. Dry runs change no feed memory and never wait.
    static let feedIsFree = """
        (b.feed IS NULL OR b.dry_run OR NOT EXISTS (
            SELECT 1 FROM batches r WHERE r.feed = b.feed AND r.id <> b.id AND NOT r.dry_run AND r.state IN ('running', 'held')))
        """

    package func claimNextBatch(now: Date) async throws -> Batch? {
        try await write { [self] db -> Batch? in
            if let resumed = try takeOverRunningBatch(db, now: now) { return resumed }
            guard
                let id = try String.fetchOne(
                    db,
                    sql: """
                        SELECT id FROM batches b WHERE state = 'scheduled' AND \(Self.feedIsFree)
                        ORDER BY scheduled, created LIMIT 1
                        """)
            else { return nil }
            try db.execute(
                sql: """
                    UPDATE batches SET state = 'running', started = COALESCE(started, ?), lease_owner = ?, lease_expires = ?,
                        crashes = 0, stops = 0, claim_position = 0 WHERE id = ?
                    """, arguments: [Self.seconds(now), lease.owner, leaseExpiry(now), id])
            return try Self.fetchBatch(db, BatchID(rawValue: id))
        }
    }

    /// A running batch whose owner released it or is gone, claimed for this store; poisonous ones
    /// (see `JobLease.maxCrashes`) are finished as `error` on the way.
    private func takeOverRunningBatch(_ db: Database, now: Date) throws -> Batch? {
        let rows = try BatchLeaseRow.fetchAll(
            db,
            sql: """
                SELECT id, lease_owner, lease_expires, crashes, stops, claim_position FROM batches
                WHERE state = 'running' ORDER BY scheduled, created
                """)
        for row in rows {
            let (owner, expires) = (row.leaseOwner, row.leaseExpires)
            guard let id = row.id.map(BatchID.init(rawValue:)) else { continue }
            if let owner, owner != lease.owner, expires > Self.seconds(now), !JobLease.isDeadLocalProcess(owner) { continue }
            if owner == lease.owner { continue }  // this store is running it already
            guard var batch = try Self.fetchBatch(db, id) else { continue }
            var counts = row.restarts
            if let owner {
                // The owner did not let go: its process died or hung. Stopping again before a single
                // record was committed counts towards the poison-batch guard.
                let progressed = Int64(batch.progress.recordsRead) != row.claimPosition
                let next = lease.afterTakeover(counts, progressed: progressed)
                counts = next.counts
                if next.giveUp {
                    try endPoisonedBatch(db, batch, counts: counts, crashed: false, now: now)
                    continue
                }
                try Self.audit(db, id, "taken over", "from \(owner) by \(lease.owner) at record \(batch.progress.recordsRead)", now)
                if batch.progress.logLines > 0 {
                    let line = JobLease.takeoverLine(from: owner, by: lease.owner, atRecord: batch.progress.recordsRead, now: now)
                    try Self.appendLog(db, id, [line], startingAt: batch.progress.logLines)
                    batch.progress.logLines += 1
                    try db.execute(sql: "UPDATE batches SET progress = ? WHERE id = ?", arguments: [Self.encode(batch.progress), id.rawValue])
                }
            }
            try db.execute(
                sql: """
                    UPDATE batches SET lease_owner = ?, lease_expires = ?, crashes = ?, stops = ?, claim_position = ? WHERE id = ?
                    """, arguments: [lease.owner, leaseExpiry(now), counts.crashes, counts.stops, batch.progress.recordsRead, id.rawValue])
            return batch
        }
        return nil
    }

    package func reportCrash(_ id: BatchID, now: Date) async throws {
        try await write { [self] db in
            guard
                let row = try BatchLeaseRow.fetchOne(
                    db, sql: "SELECT state, lease_expires, crashes, stops, claim_position FROM batches WHERE id = ?", arguments: [id.rawValue]),
                row.state == BatchState.running.rawValue, let batch = try Self.fetchBatch(db, id)
            else { return }
            let counts = row.restarts
            let progressed = Int64(batch.progress.recordsRead) != row.claimPosition
            try Self.audit(db, id, "crash reported", "at record \(batch.progress.recordsRead)", now)
            let next = lease.afterCrashReport(counts, progressed: progressed)
            if next.giveUp {
                try endPoisonedBatch(db, batch, counts: next.counts, crashed: true, now: now)
                return
            }
            // The position the count is measured from: a later report without progress counts on.
            try db.execute(
                sql: "UPDATE batches SET crashes = ?, claim_position = ? WHERE id = ?",
                arguments: [next.counts.crashes, batch.progress.recordsRead, id.rawValue])
        }
    }

    private func endPoisonedBatch(_ db: Database, _ batch: Batch, counts: JobLease.Restarts, crashed: Bool, now: Date) throws {
        var progress = batch.progress
        let lines = [JobLease.poisonLine(counts, crashed: crashed, atRecord: progress.recordsRead), "END: \(Timestamp.string(now))"]
        try Self.appendLog(db, batch.id, lines, startingAt: progress.logLines)
        progress.logLines += lines.count
        progress.errors += 1
        try db.execute(
            sql: """
                UPDATE batches SET state = 'error', finished = ?, progress = ?, lease_owner = NULL, crashes = ?, stops = ? WHERE id = ?
                """, arguments: [Self.seconds(now), Self.encode(progress), counts.crashes, counts.stops, batch.id.rawValue])
        try Self.queueWebhookDeliveries(db, batch.id, state: BatchState.error.rawValue, now: now)
        try Self.audit(db, batch.id, "poisoned", crashed ? "\(counts.crashes) crashes without progress" : "\(counts.stops) stops without progress", now)
    }

    package func renewLease(_ id: BatchID, now: Date) async throws {
        // The write may wait behind a long transaction (the first chunk of a large file waits for
        // its well-formedness check): the lease runs from when it is written, not from `now`.
        let asked = ContinuousClock.now
        try await write { db in try self.renewLease(db, id, now: now.addingTimeInterval(Self.seconds(since: asked))) }
    }

    static func seconds(since instant: ContinuousClock.Instant) -> TimeInterval {
        let elapsed = ContinuousClock.now - instant
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// Extends the lease if it is ours; throws `LeaseLost` if the batch is running under another
    /// owner or has ended. Batches that do not exist (store-level tests) pass.
    func renewLease(_ db: Database, _ id: BatchID, now: Date) throws {
        try db.cachedStatement(
            sql: """
                UPDATE batches SET lease_expires = ? WHERE id = ? AND state = 'running' AND lease_owner = ?
                """
        ).execute(arguments: [leaseExpiry(now), id.rawValue, lease.owner])
        if db.changesCount == 0,
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM batches WHERE id = ?)", arguments: [id.rawValue]) == true
        {
            throw LeaseLost(batch: id)
        }
    }

    package func releaseLease(_ id: BatchID) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE batches SET lease_owner = NULL, lease_expires = 0 WHERE id = ? AND state = 'running' AND lease_owner = ?
                    """, arguments: [id.rawValue, self.lease.owner])
        }
    }

    package func finish(_ id: BatchID, state: BatchState, progress: RunProgress, logLines: [String], now: Date) async throws {
        try await write { db in
            try self.renewLease(db, id, now: now)
            var progress = progress
            try Self.appendLog(db, id, logLines, startingAt: progress.logLines)
            progress.logLines += logLines.count
            try db.execute(
                sql: "UPDATE batches SET state = ?, finished = ?, progress = ?, lease_owner = NULL WHERE id = ?",
                arguments: [state.rawValue, Self.seconds(now), Self.encode(progress), id.rawValue])
            try Self.queueWebhookDeliveries(db, id, state: state.rawValue, now: now)
            try Self.audit(db, id, "finished", state.rawValue, now)
        }
    }

    package func resultLines(of id: BatchID, from: Int, limit: Int) async throws -> [String] {
        try await read { db in
            // Each row holds one chunk's lines and is keyed by the index of its first line: start at
            // the row that holds line `from`, and read rows until `limit` lines are collected.
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT seq, lines FROM batch_results WHERE batch = ? AND seq >= COALESCE(
                        (SELECT MAX(seq) FROM batch_results WHERE batch = ? AND seq <= ?), 0) ORDER BY seq
                    """, arguments: [id.rawValue, id.rawValue, from])
            var out: [String] = []
            while out.count < limit, let row = try rows.next() {
                let seq: Int = row[0]
                let text: String = row[1]
                var index = seq
                for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                    if index >= from { out.append(String(line)) }
                    index += 1
                }
            }
            return out
        }
    }

    /// Stores a chunk's result lines as one row, keyed by the index of its first line.
    static func appendResults(_ db: Database, _ id: BatchID, _ lines: [String], startingAt index: Int) throws {
        guard !lines.isEmpty else { return }
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO batch_results (batch, seq, lines) VALUES (?, ?, ?)")
            .execute(arguments: [id.rawValue, index, lines.joined(separator: "\n")])
    }

    package func cancel(_ id: BatchID, now: Date) async throws -> Bool {
        try await write { db in
            guard let state = try String.fetchOne(db, sql: "SELECT state FROM batches WHERE id = ?", arguments: [id.rawValue]) else {
                throw StoreError.batchNotFound(id)
            }
            switch BatchState(rawValue: state) {
            case .running?:
                try db.execute(sql: "UPDATE batches SET cancel_requested = 1 WHERE id = ?", arguments: [id.rawValue])
            case .uploading?, .ready?, .scheduled?:
                try db.execute(
                    sql: "UPDATE batches SET state = 'cancelled', cancel_requested = 1, finished = ? WHERE id = ?",
                    arguments: [Self.seconds(now), id.rawValue])
                try Self.queueWebhookDeliveries(db, id, state: BatchState.cancelled.rawValue, now: now)
            case .held?:
                // What the held run did stays; what it held back is dropped, and the log says which.
                var progress = try Self.fetchBatch(db, id)?.progress ?? RunProgress()
                let line = HeldBatch.cancelLine(progress.held, now: now)
                progress.held = nil
                try Self.appendLog(db, id, [line], startingAt: progress.logLines)
                progress.logLines += 1
                try db.execute(
                    sql: "UPDATE batches SET state = 'cancelled', cancel_requested = 1, finished = ?, progress = ? WHERE id = ?",
                    arguments: [Self.seconds(now), Self.encode(progress), id.rawValue])
                try db.execute(sql: "DELETE FROM feed_seen WHERE batch = ?", arguments: [id.rawValue])
                try Self.queueWebhookDeliveries(db, id, state: BatchState.cancelled.rawValue, now: now)
            default:
                return false
            }
            try Self.audit(db, id, "cancel requested", state, now)
            return true
        }
    }

    package func approve(_ id: BatchID, by: String, now: Date) async throws {
        try await write { db in
            try Self.requireState(db, id, .held)
            var progress = try Self.fetchBatch(db, id)?.progress ?? RunProgress()
            progress.held = nil
            progress.approved = true
            try Self.appendLog(db, id, [HeldBatch.approvalLine(by: by, now: now)], startingAt: progress.logLines)
            progress.logLines += 1
            // Back in the queue, first in line (it keeps its scheduled time): the run continues
            // where it was held.
            try db.execute(
                sql: "UPDATE batches SET state = 'scheduled', finished = NULL, progress = ? WHERE id = ?",
                arguments: [Self.encode(progress), id.rawValue])
            try Self.audit(db, id, "approved", by, now)
        }
    }

    package func isCancelRequested(_ id: BatchID) async throws -> Bool {
        try await read { db in
            try Bool.fetchOne(db, sql: "SELECT cancel_requested FROM batches WHERE id = ?", arguments: [id.rawValue]) ?? false
        }
    }

    package func copy(_ id: BatchID, as newID: BatchID, state: BatchState, now: Date) async throws {
        try await write { db in
            guard try Self.fetchBatch(db, id) != nil else { throw StoreError.batchNotFound(id) }
            try db.execute(
                sql: """
                    INSERT INTO batches (id, state, comment, control, created, copied_from, feed, notify)
                    SELECT ?, ?, comment || ' (copy)', control, ?, id, feed, notify FROM batches WHERE id = ?
                    """, arguments: [newID.rawValue, state.rawValue, Self.seconds(now), id.rawValue])
            try db.execute(
                sql: """
                    INSERT INTO batch_files (batch, name, position, digest, size, filename)
                    SELECT ?, name, position, digest, size, filename FROM batch_files WHERE batch = ?
                    """, arguments: [newID.rawValue, id.rawValue])
            try Self.audit(db, newID, "copied", id.rawValue, now)
        }
    }

    static func encode(_ progress: RunProgress) -> String {
        String(decoding: (try? JSONEncoder().encode(progress)) ?? Data("{}".utf8), as: UTF8.self)
    }

    static func appendLog(_ db: Database, _ id: BatchID, _ lines: [String], startingAt index: Int) throws {
        let statement = try db.cachedStatement(sql: "INSERT OR REPLACE INTO batch_log (batch, seq, line) VALUES (?, ?, ?)")
        for (offset, line) in lines.enumerated() {
            try statement.execute(arguments: [id.rawValue, index + offset, line])
        }
    }

    package func logLines(of id: BatchID, skipping: Int, limit: Int) async throws -> [String] {
        try await read { db in
            try String.fetchAll(
                db, sql: "SELECT line FROM batch_log WHERE batch = ? AND seq >= ? ORDER BY seq LIMIT ?",
                arguments: [id.rawValue, skipping, limit])
        }
    }

    package func batchCount(state: BatchState?) async throws -> Int {
        try await read { db in
            if let state {
                try Int.fetchOne(db, sql: "SELECT count(*) FROM batches WHERE state = ?", arguments: [state.rawValue]) ?? 0
            } else {
                try Int.fetchOne(db, sql: "SELECT count(*) FROM batches") ?? 0
            }
        }
    }

    package func batches(state: BatchState?, limit: Int, offset: Int) async throws -> [Batch] {
        try await read { db in
            let ids: [String]
            if let state {
                ids = try String.fetchAll(
                    db, sql: "SELECT id FROM batches WHERE state = ? ORDER BY created DESC, rowid DESC LIMIT ? OFFSET ?",
                    arguments: [state.rawValue, limit, offset])
            } else {
                ids = try String.fetchAll(
                    db, sql: "SELECT id FROM batches ORDER BY created DESC, rowid DESC LIMIT ? OFFSET ?", arguments: [limit, offset])
            }
            return try ids.compactMap { try Self.fetchBatch(db, BatchID(rawValue: $0)) }
        }
    }

    /// The WHERE clause of a filter (states bound one by one; text compared with `instr`, so `%` and
    /// `_` mean themselves).
    private static func whereClause(_ filter: BatchFilter) -> (String, StatementArguments) {
        var conditions: [String] = []
        var arguments = StatementArguments()
        if !filter.states.isEmpty {
            conditions.append("state IN (" + filter.states.map { _ in "?" }.joined(separator: ", ") + ")")
            for state in filter.states { arguments += [state.rawValue] }
        }
        if let comment = filter.comment {
            conditions.append("instr(lower(comment), lower(?)) > 0")
            arguments += [comment]
        }
        if let prefix = filter.controlPrefix {
            conditions.append("substr(control, 1, ?) = lower(?)")
            arguments += [prefix.count, prefix]
        }
        return (conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "), arguments)
    }

    package func batches(matching filter: BatchFilter, limit: Int, offset: Int) async throws -> [Batch] {
        try await read { db in
            let (clause, arguments) = Self.whereClause(filter)
            return try String.fetchAll(
                db, sql: "SELECT id FROM batches \(clause) ORDER BY created DESC, rowid DESC LIMIT ? OFFSET ?",
                arguments: arguments + [limit, offset]
            ).compactMap { try Self.fetchBatch(db, BatchID(rawValue: $0)) }
        }
    }

    package func batchCount(matching filter: BatchFilter) async throws -> Int {
        try await read { db in
            let (clause, arguments) = Self.whereClause(filter)
            return try Int.fetchOne(db, sql: "SELECT count(*) FROM batches \(clause)", arguments: arguments) ?? 0
        }
    }

    package func batches(control: Digest, limit: Int) async throws -> [Batch] {
        try await read { db in
            try String.fetchAll(
                db, sql: "SELECT id FROM batches WHERE control = ? ORDER BY created DESC, rowid DESC LIMIT ?", arguments: [control.hex, limit]
            ).compactMap { try Self.fetchBatch(db, BatchID(rawValue: $0)) }
        }
    }
}
