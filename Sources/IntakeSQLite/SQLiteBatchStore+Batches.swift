import Foundation
import GRDB
import IntakeCore
import IntakeStore

extension SQLiteBatchStore {
    public func createBatch(id: BatchID, control: Digest, comment: String, state: BatchState, now: Date) async throws {
        try await writer.write { db in
            try db.execute(sql: "INSERT INTO batches (id, state, comment, control, created) VALUES (?, ?, ?, ?, ?)",
                           arguments: [id.rawValue, state.rawValue, comment, control.hex, Self.seconds(now)])
            try Self.audit(db, id, "created", comment, now)
        }
    }

    static func audit(_ db: Database, _ batch: BatchID?, _ event: String, _ detail: String, _ now: Date) throws {
        try db.execute(sql: "INSERT INTO audit (time, batch, event, detail) VALUES (?, ?, ?, ?)",
                       arguments: [seconds(now), batch?.rawValue, event, detail])
    }

    static func fetchBatch(_ db: Database, _ id: BatchID) throws -> Batch? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM batches WHERE id = ?", arguments: [id.rawValue]) else {
            return nil
        }
        let files = try Row.fetchAll(db, sql: "SELECT * FROM batch_files WHERE batch = ? ORDER BY position",
                                     arguments: [id.rawValue]).map { f in
            BatchFile(name: f["name"], digest: Digest(hex: f["digest"])!, size: f["size"], filename: f["filename"])
        }
        let progressText: String = row["progress"]
        let progress = (try? JSONDecoder().decode(RunProgress.self, from: Data(progressText.utf8))) ?? RunProgress()
        return Batch(id: id, state: BatchState(rawValue: row["state"]) ?? .error, comment: row["comment"],
                     control: Digest(hex: row["control"])!, dryRun: row["dry_run"], created: date(row["created"])!,
                     scheduled: date(row["scheduled"]), started: date(row["started"]), finished: date(row["finished"]),
                     scheduledBy: row["scheduled_by"], files: files, progress: progress)
    }

    public func batch(_ id: BatchID) async throws -> Batch? {
        try await writer.read { db in try Self.fetchBatch(db, id) }
    }

    private static func requireState(_ db: Database, _ id: BatchID, _ state: BatchState) throws {
        guard let current = try String.fetchOne(db, sql: "SELECT state FROM batches WHERE id = ?", arguments: [id.rawValue]) else {
            throw StoreError.batchNotFound(id)
        }
        guard current == state.rawValue else { throw StoreError.wrongState(id, expected: state) }
    }

    public func addFile(_ file: BatchFile, to id: BatchID) async throws {
        try await writer.write { db in
            try Self.requireState(db, id, .uploading)
            let position = try Int.fetchOne(db, sql: "SELECT position FROM batch_files WHERE batch = ? AND name = ?",
                                            arguments: [id.rawValue, file.name])
                ?? (try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(position), -1) + 1 FROM batch_files WHERE batch = ?",
                                     arguments: [id.rawValue]) ?? 0)
            try db.execute(sql: """
                INSERT OR REPLACE INTO batch_files (batch, name, position, digest, size, filename) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [id.rawValue, file.name, position, file.digest.hex, file.size, file.filename])
        }
    }

    public func schedule(_ id: BatchID, dryRun: Bool, by: String, now: Date) async throws {
        try await writer.write { db in
            try Self.requireState(db, id, .uploading)
            try db.execute(sql: """
                UPDATE batches SET state = 'scheduled', dry_run = ?, scheduled = ?, scheduled_by = ? WHERE id = ?
                """, arguments: [dryRun, Self.seconds(now), by, id.rawValue])
            try Self.audit(db, id, "scheduled", "\(by)\(dryRun ? " (dry run)" : "")", now)
        }
    }

    public func startDirectRun(_ id: BatchID, dryRun: Bool, by: String, now: Date) async throws {
        try await writer.write { db in
            try Self.requireState(db, id, .uploading)
            try db.execute(sql: "UPDATE batches SET state = 'running', dry_run = ?, scheduled = ?, started = ?, scheduled_by = ? WHERE id = ?",
                           arguments: [dryRun, Self.seconds(now), Self.seconds(now), by, id.rawValue])
            try Self.audit(db, id, "started", by + (dryRun ? " (dry run)" : ""), now)
        }
    }

    /// Puts batches that were running when the process stopped back in the queue; their saved
    /// progress makes the next run resume where they stopped. Call once at start-up.
    public func requeueInterruptedBatches() async throws -> Int {
        try await writer.write { db in
            try db.execute(sql: "UPDATE batches SET state = 'scheduled' WHERE state = 'running'")
            return db.changesCount
        }
    }

    public func claimNextBatch(now: Date) async throws -> Batch? {
        try await writer.write { db in
            guard let id = try String.fetchOne(db, sql: """
                SELECT id FROM batches WHERE state = 'scheduled' ORDER BY scheduled, created LIMIT 1
                """) else { return nil }
            try db.execute(sql: "UPDATE batches SET state = 'running', started = COALESCE(started, ?) WHERE id = ?",
                           arguments: [Self.seconds(now), id])
            return try Self.fetchBatch(db, BatchID(rawValue: id))
        }
    }

    public func finish(_ id: BatchID, state: BatchState, progress: RunProgress, logLines: [String], now: Date) async throws {
        try await writer.write { db in
            var progress = progress
            try Self.appendLog(db, id, logLines, startingAt: progress.logLines)
            progress.logLines += logLines.count
            try db.execute(sql: "UPDATE batches SET state = ?, finished = ?, progress = ? WHERE id = ?",
                           arguments: [state.rawValue, Self.seconds(now), Self.encode(progress), id.rawValue])
            try Self.audit(db, id, "finished", state.rawValue, now)
        }
    }

    public func results(of id: BatchID) async throws -> [String] {
        try await writer.read { db in
            try String.fetchAll(db, sql: "SELECT lines FROM batch_results WHERE batch = ? ORDER BY seq", arguments: [id.rawValue])
                .flatMap { $0.split(separator: "\n").map(String.init) }
        }
    }

    /// Stores a chunk's result lines as one row, keyed by the index of its first line.
    static func appendResults(_ db: Database, _ id: BatchID, _ lines: [String], startingAt index: Int) throws {
        guard !lines.isEmpty else { return }
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO batch_results (batch, seq, lines) VALUES (?, ?, ?)")
            .execute(arguments: [id.rawValue, index, lines.joined(separator: "\n")])
    }

    public func cancel(_ id: BatchID, now: Date) async throws -> Bool {
        try await writer.write { db in
            guard let state = try String.fetchOne(db, sql: "SELECT state FROM batches WHERE id = ?", arguments: [id.rawValue]) else {
                throw StoreError.batchNotFound(id)
            }
            switch BatchState(rawValue: state) {
            case .running?:
                try db.execute(sql: "UPDATE batches SET cancel_requested = 1 WHERE id = ?", arguments: [id.rawValue])
            case .uploading?, .ready?, .scheduled?:
                try db.execute(sql: "UPDATE batches SET state = 'cancelled', cancel_requested = 1, finished = ? WHERE id = ?",
                               arguments: [Self.seconds(now), id.rawValue])
            default:
                return false
            }
            try Self.audit(db, id, "cancel requested", state, now)
            return true
        }
    }

    public func isCancelRequested(_ id: BatchID) async throws -> Bool {
        try await writer.read { db in
            try Bool.fetchOne(db, sql: "SELECT cancel_requested FROM batches WHERE id = ?", arguments: [id.rawValue]) ?? false
        }
    }

    public func copy(_ id: BatchID, as newID: BatchID, now: Date) async throws {
        try await writer.write { db in
            guard try Self.fetchBatch(db, id) != nil else { throw StoreError.batchNotFound(id) }
            try db.execute(sql: """
                INSERT INTO batches (id, state, comment, control, created)
                SELECT ?, 'uploading', comment || ' (copy)', control, ? FROM batches WHERE id = ?
                """, arguments: [newID.rawValue, Self.seconds(now), id.rawValue])
            try db.execute(sql: """
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

    public func log(of id: BatchID) async throws -> [String] {
        try await writer.read { db in
            try String.fetchAll(db, sql: "SELECT line FROM batch_log WHERE batch = ? ORDER BY seq", arguments: [id.rawValue])
        }
    }

    public func batches(state: BatchState?, limit: Int) async throws -> [Batch] {
        try await writer.read { db in
            let ids: [String]
            if let state {
                ids = try String.fetchAll(db, sql: "SELECT id FROM batches WHERE state = ? ORDER BY created DESC, rowid DESC LIMIT ?",
                                          arguments: [state.rawValue, limit])
            } else {
                ids = try String.fetchAll(db, sql: "SELECT id FROM batches ORDER BY created DESC, rowid DESC LIMIT ?", arguments: [limit])
            }
            return try ids.compactMap { try Self.fetchBatch(db, BatchID(rawValue: $0)) }
        }
    }
}
