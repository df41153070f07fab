import Foundation
import IntakeCore
import IntakeStore
import PostgresNIO

extension PostgresBatchStore {
    /// Every ref a batch wrote a version of, with its history of (version, batch), after locking
    /// the batch row (`FOR UPDATE` in `lockedState`), so a rollback and its plan agree.
    /// What each version holds is compared by a digest of its values and its deleted flag (see
    /// `RollbackStep`), not by the values themselves.
    private static func versionHistories(_ connection: AsyncConnection, _ id: BatchID) async throws -> [(
        ref: Int64, history: [(version: Int, batch: String?, state: String)]
    )] {
        let rows = try await connection.query(
            """
            SELECT ref, version, batch, md5(data) || CASE WHEN deleted THEN ' deleted' ELSE '' END FROM object_versions
            WHERE ref IN (SELECT DISTINCT ref FROM object_versions WHERE batch = \(id.rawValue)) ORDER BY ref, version
            """
        ).rows
        var result: [(ref: Int64, history: [(version: Int, batch: String?, state: String)])] = []
        for row in rows {
            let (ref, version, batch, state) = try row.decode((Int64, Int, String?, String).self)
            if result.last?.ref != ref { result.append((ref, [])) }
            result[result.count - 1].history.append((version, batch, state))
        }
        return result
    }

    package func rollbackPlan(_ id: BatchID) async throws -> [(ref: ObjectRef, step: RollbackStep)] {
        try await database.transaction { connection in
            guard try await Self.lockedState(connection, id) == BatchState.complete.rawValue else { throw StoreError.wrongState(id, expected: .complete) }
            return try await Self.versionHistories(connection, id).map { entry in
                (ObjectRef(entry.ref), RollbackStep.plan(versions: entry.history, rollingBack: id.rawValue))
            }
        }
    }

    package func rollback(_ id: BatchID, by: String, now: Date) async throws -> RollbackOutcome {
        try await database.transaction { connection in
            guard try await Self.lockedState(connection, id) == BatchState.complete.rawValue else { throw StoreError.wrongState(id, expected: .complete) }
            // Restored versions are labelled with the rollback, so history shows what happened.
            let restorer = BatchID(rawValue: RollbackStep.restorerLabel(rollingBack: id.rawValue))
            var outcome = RollbackOutcome()
            for entry in try await Self.versionHistories(connection, id) {
                let ref = ObjectRef(entry.ref)
                switch RollbackStep.plan(versions: entry.history, rollingBack: id.rawValue) {
                case .conflict:
                    outcome.conflicts.append(ref)
                case .delete:
                    // A deleted version, not a removed row: the object's history shows the rollback.
                    outcome.deleted += 1
                    guard
                        let current = try await connection.query(
                            "SELECT o.version, v.data FROM objects o JOIN object_versions v ON v.ref = o.ref AND v.version = o.version WHERE o.ref = \(entry.ref) AND NOT o.deleted"
                        ).rows.first
                    else { continue }
                    let (currentVersion, currentData) = try current.decode((Int, String).self)
                    let row = ObjectRow(ObjectValueStorage.decode(currentData))
                    try await connection.query(ObjectSQL.save(ref: ref, row: row, version: currentVersion + 1, batch: restorer, now: seconds(now)))
                    try await connection.query(ObjectSQL.markDeleted(ref, version: currentVersion + 1, deleted: true))
                case .restore(let version):
                    outcome.restored += 1
                    guard
                        let restored = try await connection.query(
                            "SELECT data, deleted FROM object_versions WHERE ref = \(entry.ref) AND version = \(version)"
                        ).rows.first,
                        let current = try await connection.query(
                            "SELECT o.version, v.data, o.deleted FROM objects o JOIN object_versions v ON v.ref = o.ref AND v.version = o.version WHERE o.ref = \(entry.ref)"
                        ).rows.first
                    else { continue }
                    let (data, wasDeleted) = try restored.decode((String, Bool).self)
                    let (currentVersion, currentData, isDeleted) = try current.decode((Int, String, Bool).self)
                    let row = ObjectRow(ObjectValueStorage.decode(data))
                    if row.data == currentData && wasDeleted == isDeleted { continue }
                    try await connection.query(ObjectSQL.save(ref: ref, row: row, version: currentVersion + 1, batch: restorer, now: seconds(now)))
                    if wasDeleted || isDeleted {
                        try await connection.query(ObjectSQL.markDeleted(ref, version: currentVersion + 1, deleted: wasDeleted))
                    }
                }
            }
            try await connection.query("DELETE FROM documents WHERE batch = \(id.rawValue)")
            try await Self.restoreFeedMemory(connection, changedBy: id)
            var progress = try await Self.fetchBatch(connection, id)?.progress ?? RunProgress()
            let lines = outcome.logLines(by: by, now: now)
            try await Self.appendLog(connection, id, lines, startingAt: progress.logLines)
            progress.logLines += lines.count
            try await connection.query(
                "UPDATE batches SET state = \(BatchState.rolledBack.rawValue), progress = \(Self.encode(progress)) WHERE id = \(id.rawValue)")
            try await Self.queueWebhookDeliveries(connection, id, state: WebhookFanOut.rolledBack, now: now)
            try await Self.audit(
                connection, id, "rolled back", by, now)
            return outcome
        }
    }
}
