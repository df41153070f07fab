import Foundation
import IntakeCore
import IntakeStore
import PostgresNIO

extension PostgresBatchStore {
    static let finishedStates = ["complete", "dry-run", "error", "cancelled", "rolled-back"]

    package func createBatch(id: BatchID, control: Digest, comment: String, state: BatchState, files: [BatchFile], now: Date) async throws {
        try await database.transaction { connection in
            try await connection.query(
                "INSERT INTO batches (id, state, comment, control, created) VALUES (\(id.rawValue), \(state.rawValue), \(comment), \(control.hex), \(seconds(now)))"
            )
            try await Self.insertFiles(connection, id, files)
            try await Self.audit(connection, id, "created", comment, now)
        }
    }

    /// One multi-row insert for all of a batch's files.
    static func insertFiles(_ connection: AsyncConnection, _ id: BatchID, _ files: [BatchFile]) async throws {
        guard !files.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO batch_files (batch, name, position, digest, size, filename)
            SELECT \(id.rawValue), name, position::integer - 1, digest, size, filename
            FROM unnest(\(files.map(\.name)), \(files.map(\.digest.hex)), \(files.map(\.size)), \(files.map(\.filename)))
                WITH ORDINALITY AS f (name, digest, size, filename, position)
            """)
    }

    static let batchColumns =
        "id, state, comment, control, dry_run, created, scheduled, started, finished, scheduled_by, progress, purged, copied_from, feed, force, max_errors"

    /// Batches with their files, in the order of `ids`.
    static func fetchBatches(_ connection: AsyncConnection, _ ids: [String]) async throws -> [Batch] {
        guard !ids.isEmpty else { return [] }
        var files: [String: [BatchFile]] = [:]
        for row in try await connection.query(
            "SELECT batch, name, digest, size, filename FROM batch_files WHERE batch = ANY(\(ids)) ORDER BY batch, position"
        ).rows {
            let (batch, name, digest, size, filename) = try row.decode((String, String, String, Int64, String).self)
            files[batch, default: []].append(BatchFile(name: name, digest: Digest(hex: digest)!, size: size, filename: filename))
        }
        var batches: [String: Batch] = [:]
        for row in try await connection.query("SELECT \(unescaped: batchColumns) FROM batches WHERE id = ANY(\(ids))").rows {
            let c = row.columns
            let id: String = try c.value("id")
            let progressText: String = try c.value("progress")
            let progress = (try? JSONDecoder().decode(RunProgress.self, from: Data(progressText.utf8))) ?? RunProgress()
            batches[id] = Batch(
                id: BatchID(rawValue: id), state: BatchState(rawValue: try c.value("state")) ?? .error, comment: try c.value("comment"),
                control: Digest(hex: try c.value("control"))!, dryRun: try c.value("dry_run"), created: try c.date("created"),
                scheduled: try c.optionalDate("scheduled"), started: try c.optionalDate("started"), finished: try c.optionalDate("finished"),
                scheduledBy: try c.value("scheduled_by"), files: files[id] ?? [], progress: progress, purged: try c.optionalDate("purged"),
                copiedFrom: try c.value("copied_from", as: String?.self).map(BatchID.init(rawValue:)),
                feed: try c.value("feed", as: String?.self), force: try c.value("force"),
                maxErrors: try c.value("max_errors", as: Int64?.self).map(Int.init))
        }
        return ids.compactMap { batches[$0] }
    }

    static func fetchBatch(_ connection: AsyncConnection, _ id: BatchID) async throws -> Batch? {
        try await fetchBatches(connection, [id.rawValue]).first
    }

    static func ids(_ result: PostgresQueryResult) throws -> [String] { try result.rows.map { try $0.decode(String.self) } }

    package func batch(_ id: BatchID) async throws -> Batch? {
        try await database.withConnection { connection in try await Self.fetchBatch(connection, id) }
    }

    package func purgeableBatches(finishedBefore date: Date, limit: Int) async throws -> [Batch] {
        try await database.withConnection { connection in
            let ids = try Self.ids(
                try await connection.query(
                    """
                    SELECT id FROM batches
                    WHERE state = ANY(\(Self.finishedStates)) AND purged IS NULL AND COALESCE(finished, created) <= \(seconds(date))
                    ORDER BY COALESCE(finished, created), id LIMIT \(limit)
                    """))
            return try await Self.fetchBatches(connection, ids)
        }
    }

    /// The batch's state, read under a row lock held to the end of the transaction.
    static func lockedState(_ connection: AsyncConnection, _ id: BatchID) async throws -> String {
        guard let state = try await connection.query("SELECT state FROM batches WHERE id = \(id.rawValue) FOR UPDATE").scalar(String.self) else {
            throw StoreError.batchNotFound(id)
        }
        return state
    }

    static func requireState(_ connection: AsyncConnection, _ id: BatchID, _ state: BatchState) async throws {
        guard try await lockedState(connection, id) == state.rawValue else { throw StoreError.wrongState(id, expected: state) }
    }

    package func purgeRecords(of id: BatchID, now: Date) async throws -> (logLines: Int, resultLines: Int) {
        try await database.transaction { connection in
            guard Self.finishedStates.contains(try await Self.lockedState(connection, id)) else { throw StoreError.wrongState(id, expected: .complete) }
            let logLines = try await connection.query("DELETE FROM batch_log WHERE batch = \(id.rawValue)").affectedRows
            try await connection.query("DELETE FROM batch_results WHERE batch = \(id.rawValue)")
            let progress = try await Self.fetchBatch(connection, id)?.progress ?? RunProgress()
            try await connection.query("UPDATE batches SET purged = \(seconds(now)) WHERE id = \(id.rawValue)")
            try await Self.audit(connection, id, "purged", "\(logLines) log lines, \(progress.resultLines) results", now)
            return (logLines, progress.resultLines)
        }
    }

    package func isDigestInUse(_ digest: Digest, ignoring: Set<BatchID>) async throws -> Bool {
        try await database.query(
            """
            SELECT EXISTS (SELECT 1 FROM control_files WHERE digest = \(digest.hex))
                OR EXISTS (SELECT 1 FROM batch_files f JOIN batches b ON b.id = f.batch
                           WHERE f.digest = \(digest.hex) AND b.purged IS NULL AND NOT (b.id = ANY(\(ignoring.map(\.rawValue)))))
            """
        ).scalar(Bool.self) ?? true
    }

    package func addFile(_ file: BatchFile, to id: BatchID) async throws {
        try await database.transaction { connection in
            try await Self.requireState(connection, id, .uploading)
            try await connection.query(
                """
                INSERT INTO batch_files (batch, name, position, digest, size, filename)
                VALUES (\(id.rawValue), \(file.name), (SELECT COALESCE(MAX(position), -1) + 1 FROM batch_files WHERE batch = \(id.rawValue)),
                        \(file.digest.hex), \(file.size), \(file.filename))
                ON CONFLICT (batch, name) DO UPDATE SET digest = excluded.digest, size = excluded.size, filename = excluded.filename
                """)
        }
    }

    package func replaceFiles(of id: BatchID, with files: [BatchFile]) async throws {
        try await database.transaction { connection in
            try await Self.requireState(connection, id, .ready)
            try await connection.query("DELETE FROM batch_files WHERE batch = \(id.rawValue)")
            try await Self.insertFiles(connection, id, files)
        }
    }

    package func schedule(_ id: BatchID, from: BatchState, dryRun: Bool, force: Bool, maxErrors: Int?, by: String, now: Date) async throws {
        try await database.transaction { connection in
            try await Self.requireState(connection, id, from)
            try await connection.query(
                """
                UPDATE batches SET state = 'scheduled', dry_run = \(dryRun), force = \(force), max_errors = \(maxErrors.map(Int64.init)),
                    scheduled = \(seconds(now)),
                    scheduled_by = \(by) WHERE id = \(id.rawValue)
                """
            )
            try await Self.audit(
                connection, id, "scheduled", WebhookFanOut.scheduledDetail(by: by, dryRun: dryRun, force: force, maxErrors: maxErrors), now)
        }
    }

    package func startDirectRun(_ id: BatchID, dryRun: Bool, by: String, now: Date) async throws {
        try await database.transaction { connection in
            try await Self.requireState(connection, id, .uploading)
            try await connection.query(
                """
                UPDATE batches SET state = 'running', dry_run = \(dryRun), scheduled = \(seconds(now)), started = \(seconds(now)),
                    scheduled_by = \(by), lease_owner = \(self.lease.owner), lease_expires = \(self.leaseExpiry(now)), claim_position = 0
                WHERE id = \(id.rawValue)
                """)
            try await Self.audit(connection, id, "started", by + (dryRun ? " (dry run)" : ""), now)
        }
    }

    func leaseExpiry(_ now: Date) -> Int64 { seconds(now.addingTimeInterval(lease.duration)) }

    /// Several nodes claim at once: every candidate row is locked with `FOR UPDATE SKIP LOCKED`, so
    /// two nodes never take the same batch, and neither waits for the other.
    package func claimNextBatch(now: Date) async throws -> Batch? {
        try await database.transaction { connection -> Batch? in
            if let resumed = try await self.takeOverRunningBatch(connection, now: now) { return resumed }
            // As SQLite's `feedIsFree`; two nodes claiming nights of one feed at once are put in
            // turn by a lock on the feed's name, and the second then sees the first running.
            guard
                let row = try await connection.query(
                    """
                    SELECT id, feed, dry_run FROM batches b WHERE state = 'scheduled' AND (b.feed IS NULL OR b.dry_run OR NOT EXISTS (
                        SELECT 1 FROM batches r WHERE r.feed = b.feed AND r.id <> b.id AND NOT r.dry_run AND r.state IN ('running', 'held')))
                    ORDER BY scheduled, created, seq LIMIT 1 FOR UPDATE SKIP LOCKED
                    """
                ).rows.first
            else { return nil }
            let (id, feed, dryRun) = try row.decode((String, String?, Bool).self)
            if let feed, !dryRun {
                try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\("intake-feed " + feed)))")
                let busy =
                    try await connection.query(
                        """
                        SELECT EXISTS (SELECT 1 FROM batches WHERE feed = \(feed) AND id <> \(id) AND NOT dry_run AND state IN ('running', 'held'))
                        """
                    ).scalar(Bool.self) ?? false
                if busy { return nil }
            }
            try await connection.query(
                """
                UPDATE batches SET state = 'running', started = COALESCE(started, \(seconds(now))), lease_owner = \(self.lease.owner),
                    lease_expires = \(self.leaseExpiry(now)), crashes = 0, stops = 0, claim_position = 0
                WHERE id = \(id)
                """)
            return try await Self.fetchBatch(connection, BatchID(rawValue: id))
        }
    }

    /// A running batch whose owner released it or is gone, claimed for this store; poisonous ones
    /// (see `JobLease.maxCrashes`) are finished as `error` on the way. Rows another node is
    /// committing a chunk of (their lease row is locked) are skipped: that owner is alive.
    private func takeOverRunningBatch(_ connection: AsyncConnection, now: Date) async throws -> Batch? {
        let rows = try await connection.query(
            """
            SELECT id, lease_owner, lease_expires, crashes, stops, claim_position FROM batches
            WHERE state = 'running' AND lease_owner IS DISTINCT FROM \(lease.owner)
            ORDER BY scheduled, created, seq FOR UPDATE SKIP LOCKED
            """
        ).rows
        for row in rows {
            let (rawID, owner, expires, crashes, stops, claimPosition) = try row.decode((String, String?, Int64, Int, Int, Int64).self)
            let id = BatchID(rawValue: rawID)
            if let owner, expires > seconds(now), !JobLease.isDeadLocalProcess(owner) { continue }
            guard var batch = try await Self.fetchBatch(connection, id) else { continue }
            var counts = JobLease.Restarts(crashes: crashes, stops: stops)
            if let owner {
                // The owner did not let go: its process died or hung. Stopping again before a single
                // record was committed counts towards the poison-batch guard.
                let next = lease.afterTakeover(counts, progressed: Int64(batch.progress.recordsRead) != claimPosition)
                counts = next.counts
                if next.giveUp {
                    try await endPoisonedBatch(connection, batch, counts: counts, crashed: false, now: now)
                    continue
                }
                try await Self.audit(connection, id, "taken over", "from \(owner) by \(lease.owner) at record \(batch.progress.recordsRead)", now)
                if batch.progress.logLines > 0 {
                    let line = JobLease.takeoverLine(from: owner, by: lease.owner, atRecord: batch.progress.recordsRead, now: now)
                    try await Self.appendLog(connection, id, [line], startingAt: batch.progress.logLines)
                    batch.progress.logLines += 1
                    try await connection.query("UPDATE batches SET progress = \(Self.encode(batch.progress)) WHERE id = \(id.rawValue)")
                }
            }
            try await connection.query(
                """
                UPDATE batches SET lease_owner = \(lease.owner), lease_expires = \(leaseExpiry(now)), crashes = \(counts.crashes),
                    stops = \(counts.stops), claim_position = \(Int64(batch.progress.recordsRead))
                WHERE id = \(id.rawValue)
                """)
            return batch
        }
        return nil
    }

    package func reportCrash(_ id: BatchID, now: Date) async throws {
        try await database.transaction { connection in
            guard
                let row = try await connection.query(
                    "SELECT crashes, stops, claim_position FROM batches WHERE id = \(id.rawValue) AND state = 'running' FOR UPDATE"
                ).rows.first,
                let batch = try await Self.fetchBatch(connection, id)
            else { return }
            let (crashes, stops, claimPosition) = try row.decode((Int, Int, Int64).self)
            let progressed = Int64(batch.progress.recordsRead) != claimPosition
            try await Self.audit(connection, id, "crash reported", "at record \(batch.progress.recordsRead)", now)
            let next = self.lease.afterCrashReport(JobLease.Restarts(crashes: crashes, stops: stops), progressed: progressed)
            if next.giveUp {
                try await self.endPoisonedBatch(connection, batch, counts: next.counts, crashed: true, now: now)
                return
            }
            // The position the count is measured from: a later report without progress counts on.
            try await connection.query(
                "UPDATE batches SET crashes = \(next.counts.crashes), claim_position = \(Int64(batch.progress.recordsRead)) WHERE id = \(id.rawValue)")
        }
    }

    private func endPoisonedBatch(_ connection: AsyncConnection, _ batch: Batch, counts: JobLease.Restarts, crashed: Bool, now: Date) async throws {
        var progress = batch.progress
        let lines = [JobLease.poisonLine(counts, crashed: crashed, atRecord: progress.recordsRead), "END: \(Timestamp.string(now))"]
        try await Self.appendLog(connection, batch.id, lines, startingAt: progress.logLines)
        progress.logLines += lines.count
        progress.errors += 1
        try await connection.query(
            """
            UPDATE batches SET state = 'error', finished = \(seconds(now)), progress = \(Self.encode(progress)), lease_owner = NULL,
                crashes = \(counts.crashes), stops = \(counts.stops)
            WHERE id = \(batch.id.rawValue)
            """)
        try await Self.queueWebhookDeliveries(connection, batch.id, state: BatchState.error.rawValue, now: now)
        try await Self.audit(
            connection, batch.id, "poisoned", crashed ? "\(counts.crashes) crashes without progress" : "\(counts.stops) stops without progress", now)
    }

    package func renewLease(_ id: BatchID, now: Date) async throws {
        try await database.withConnection { connection in try await self.renewLease(connection, id, now: now) }
    }

    /// Extends the lease if it is ours; throws `LeaseLost` if the batch is running under another
    /// owner or has ended. Batches that do not exist (store-level tests) pass.
    func renewLease(_ connection: AsyncConnection, _ id: BatchID, now: Date) async throws {
        let renewed = try await connection.query(
            """
            UPDATE batches SET lease_expires = \(leaseExpiry(now)) WHERE id = \(id.rawValue) AND state = 'running' AND lease_owner = \(lease.owner)
            """
        ).affectedRows
        if renewed == 0, try await connection.query("SELECT EXISTS (SELECT 1 FROM batches WHERE id = \(id.rawValue))").scalar(Bool.self) == true {
            throw LeaseLost(batch: id)
        }
    }

    package func releaseLease(_ id: BatchID) async throws {
        try await database.query(
            """
            UPDATE batches SET lease_owner = NULL, lease_expires = 0 WHERE id = \(id.rawValue) AND state = 'running' AND lease_owner = \(lease.owner)
            """)
    }

    package func finish(_ id: BatchID, state: BatchState, progress: RunProgress, logLines: [String], now: Date) async throws {
        try await database.transaction { connection in
            try await self.renewLease(connection, id, now: now)
            var progress = progress
            try await Self.appendLog(connection, id, logLines, startingAt: progress.logLines)
            progress.logLines += logLines.count
            try await connection.query(
                """
                UPDATE batches SET state = \(state.rawValue), finished = \(seconds(now)), progress = \(Self.encode(progress)), lease_owner = NULL
                WHERE id = \(id.rawValue)
                """)
            try await Self.queueWebhookDeliveries(connection, id, state: state.rawValue, now: now)
            try await Self.audit(connection, id, "finished", state.rawValue, now)
        }
    }

    package func resultLines(of id: BatchID, from: Int, limit: Int) async throws -> [String] {
        // Each row holds one chunk's lines and is keyed by the index of its first line: start at the
        // row that holds line `from`, and read rows until `limit` lines are collected (a page of rows
        // at a time, so a million results are never fetched at once).
        try await database.withConnection { connection in
            var out: [String] = []
            var next =
                try await connection.query(
                    "SELECT COALESCE(MAX(seq), 0) FROM batch_results WHERE batch = \(id.rawValue) AND seq <= \(from)"
                ).scalar(Int.self) ?? 0
            while out.count < limit {
                let rows = try await connection.query(
                    "SELECT seq, lines FROM batch_results WHERE batch = \(id.rawValue) AND seq >= \(next) ORDER BY seq LIMIT 16"
                ).rows
                if rows.isEmpty { break }
                for row in rows where out.count < limit {
                    let (seq, text) = try row.decode((Int, String).self)
                    var index = seq
                    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                        if index >= from { out.append(String(line)) }
                        index += 1
                    }
                    next = seq + 1
                }
            }
            return out
        }
    }

    package func cancel(_ id: BatchID, now: Date) async throws -> Bool {
        try await database.transaction { connection in
            let state = try await Self.lockedState(connection, id)
            switch BatchState(rawValue: state) {
            case .running?:
                try await connection.query("UPDATE batches SET cancel_requested = true WHERE id = \(id.rawValue)")
            case .uploading?, .ready?, .scheduled?:
                try await connection.query(
                    "UPDATE batches SET state = 'cancelled', cancel_requested = true, finished = \(seconds(now)) WHERE id = \(id.rawValue)")
                try await Self.queueWebhookDeliveries(connection, id, state: BatchState.cancelled.rawValue, now: now)
            case .held?:
                // What the held run did stays; what it held back is dropped, and the log says which.
                var progress = try await Self.fetchBatch(connection, id)?.progress ?? RunProgress()
                let line = HeldBatch.cancelLine(progress.held, now: now)
                progress.held = nil
                try await Self.appendLog(connection, id, [line], startingAt: progress.logLines)
                progress.logLines += 1
                try await connection.query(
                    """
                    UPDATE batches SET state = 'cancelled', cancel_requested = true, finished = \(seconds(now)),
                        progress = \(Self.encode(progress)) WHERE id = \(id.rawValue)
                    """)
                try await connection.query("DELETE FROM feed_seen WHERE batch = \(id.rawValue)")
                try await Self.queueWebhookDeliveries(connection, id, state: BatchState.cancelled.rawValue, now: now)
            default:
                return false
            }
            try await Self.audit(connection, id, "cancel requested", state, now)
            return true
        }
    }

    package func approve(_ id: BatchID, by: String, now: Date) async throws {
        try await database.transaction { connection in
            guard try await Self.lockedState(connection, id) == BatchState.held.rawValue else {
                throw StoreError.wrongState(id, expected: .held)
            }
            var progress = try await Self.fetchBatch(connection, id)?.progress ?? RunProgress()
            progress.held = nil
            progress.approved = true
            try await Self.appendLog(connection, id, [HeldBatch.approvalLine(by: by, now: now)], startingAt: progress.logLines)
            progress.logLines += 1
            try await connection.query(
                "UPDATE batches SET state = 'scheduled', finished = NULL, progress = \(Self.encode(progress)) WHERE id = \(id.rawValue)")
            try await Self.audit(connection, id, "approved", by, now)
        }
    }

    package func isCancelRequested(_ id: BatchID) async throws -> Bool {
        try await database.query("SELECT cancel_requested FROM batches WHERE id = \(id.rawValue)").scalar(Bool.self) ?? false
    }

    package func copy(_ id: BatchID, as newID: BatchID, state: BatchState, now: Date) async throws {
        try await database.transaction { connection in
            let copied = try await connection.query(
                """
                INSERT INTO batches (id, state, comment, control, created, copied_from, feed, notify)
                SELECT \(newID.rawValue), \(state.rawValue), comment || ' (copy)', control, \(seconds(now)), id, feed, notify
                FROM batches WHERE id = \(id.rawValue)
                """
            ).affectedRows
            guard copied == 1 else { throw StoreError.batchNotFound(id) }
            try await connection.query(
                """
                INSERT INTO batch_files (batch, name, position, digest, size, filename)
                SELECT \(newID.rawValue), name, position, digest, size, filename FROM batch_files WHERE batch = \(id.rawValue)
                """)
            try await Self.audit(connection, newID, "copied", id.rawValue, now)
        }
    }

    static func encode(_ progress: RunProgress) -> String {
        String(decoding: (try? JSONEncoder().encode(progress)) ?? Data("{}".utf8), as: UTF8.self)
    }

    static func appendLog(_ connection: AsyncConnection, _ id: BatchID, _ lines: [String], startingAt index: Int) async throws {
        guard !lines.isEmpty else { return }
        try await connection.query(logInsert(id, lines, startingAt: index))
    }

    /// All of `lines` in one statement; a line already stored at an index is replaced (a resumed run
    /// may write its carried lines again).
    static func logInsert(_ id: BatchID, _ lines: [String], startingAt index: Int) -> PostgresQuery {
        """
        INSERT INTO batch_log (batch, seq, line)
        SELECT \(id.rawValue), \(index) + ordinality::integer - 1, line FROM unnest(\(lines)) WITH ORDINALITY AS l (line, ordinality)
        ON CONFLICT (batch, seq) DO UPDATE SET line = excluded.line
        """
    }

    package func logLines(of id: BatchID, skipping: Int, limit: Int) async throws -> [String] {
        try await database.query(
            "SELECT line FROM batch_log WHERE batch = \(id.rawValue) AND seq >= \(skipping) ORDER BY seq LIMIT \(limit)"
        ).rows.map { try $0.decode(String.self) }
    }

    package func batchCount(state: BatchState?) async throws -> Int {
        try await batchCount(matching: BatchFilter(states: state.map { [$0] } ?? []))
    }

    package func batches(state: BatchState?, limit: Int, offset: Int) async throws -> [Batch] {
        try await batches(matching: BatchFilter(states: state.map { [$0] } ?? []), limit: limit, offset: offset)
    }

    /// The WHERE clause of a filter (text compared with `strpos`, so `%` and `_` mean themselves).
    private static func whereClause(_ filter: BatchFilter, _ bindings: inout PostgresBindings) -> String {
        var conditions: [String] = []
        if !filter.states.isEmpty {
            bindings.append(filter.states.map(\.rawValue))
            conditions.append("state = ANY($\(bindings.count))")
        }
        if let comment = filter.comment {
            bindings.append(comment)
            conditions.append("strpos(lower(comment), lower($\(bindings.count))) > 0")
        }
        if let prefix = filter.controlPrefix {
            bindings.append(prefix.lowercased())
            conditions.append("left(control, length($\(bindings.count))) = $\(bindings.count)")
        }
        return conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
    }

    package func batches(matching filter: BatchFilter, limit: Int, offset: Int) async throws -> [Batch] {
        var bindings = PostgresBindings()
        let clause = Self.whereClause(filter, &bindings)
        bindings.append(limit)
        bindings.append(offset)
        let query = PostgresQuery(
            unsafeSQL: "SELECT id FROM batches \(clause) ORDER BY created DESC, seq DESC LIMIT $\(bindings.count - 1) OFFSET $\(bindings.count)",
            binds: bindings)
        return try await database.withConnection { connection in
            try await Self.fetchBatches(connection, try Self.ids(try await connection.query(query)))
        }
    }

    package func batchCount(matching filter: BatchFilter) async throws -> Int {
        var bindings = PostgresBindings()
        let clause = Self.whereClause(filter, &bindings)
        return try await database.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM batches \(clause)", binds: bindings)).scalar(Int.self) ?? 0
    }

    package func batches(control: Digest, limit: Int) async throws -> [Batch] {
        try await database.withConnection { connection in
            let ids = try Self.ids(
                try await connection.query("SELECT id FROM batches WHERE control = \(control.hex) ORDER BY created DESC, seq DESC LIMIT \(limit)"))
            return try await Self.fetchBatches(connection, ids)
        }
    }
}
