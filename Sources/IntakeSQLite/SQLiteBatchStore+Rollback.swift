import Foundation
import GRDB
import IntakeCore
import IntakeStore

extension SQLiteBatchStore {
    package func rollbackPlan(_ id: BatchID) async throws -> [(ref: ObjectRef, step: RollbackStep)] {
        try await read { db in
            guard let state = try String.fetchOne(db, sql: "SELECT state FROM batches WHERE id = ?", arguments: [id.rawValue]) else {
                throw StoreError.batchNotFound(id)
            }
            guard state == BatchState.complete.rawValue else { throw StoreError.wrongState(id, expected: .complete) }
            let refs = try Int64.fetchAll(
                db, sql: "SELECT DISTINCT ref FROM object_versions WHERE batch = ? ORDER BY ref", arguments: [id.rawValue])
            return try refs.map { number in
                let history = try ObjectVersionRow.fetchAll(
                    db, sql: "SELECT version, batch, data, deleted FROM object_versions WHERE ref = ? ORDER BY version", arguments: [number]
                ).map(\.rollbackEntry)
                return (ObjectRef(number), RollbackStep.plan(versions: history, rollingBack: id.rawValue))
            }
        }
    }

    package func rollback(_ id: BatchID, by: String, now: Date) async throws -> RollbackOutcome {
        try await write { db in
            guard let state = try String.fetchOne(db, sql: "SELECT state FROM batches WHERE id = ?", arguments: [id.rawValue]) else {
                throw StoreError.batchNotFound(id)
            }
            guard state == BatchState.complete.rawValue else { throw StoreError.wrongState(id, expected: .complete) }
            // Restored versions are labelled with the rollback, so history shows what happened.
            let restorer = SQLiteImportTransaction(db: db, batch: BatchID(rawValue: RollbackStep.restorerLabel(rollingBack: id.rawValue)), now: now)
            var outcome = RollbackOutcome()
            let refs = try Int64.fetchAll(
                db, sql: "SELECT DISTINCT ref FROM object_versions WHERE batch = ? ORDER BY ref",
                arguments: [id.rawValue])
            for number in refs {
                let ref = ObjectRef(number)
                let versions = try ObjectVersionRow.fetchAll(
                    db, sql: "SELECT version, batch, data, deleted FROM object_versions WHERE ref = ? ORDER BY version",
                    arguments: [number])
                let history = versions.map(\.rollbackEntry)
                switch RollbackStep.plan(versions: history, rollingBack: id.rawValue) {
                case .conflict:
                    outcome.conflicts.append(ref)
                case .delete:
                    // A deleted version, not a removed row: the object's history shows the rollback.
                    outcome.deleted += 1
                    // `plan` said delete: the object has versions, the last one this batch's.
                    if let current = versions.last, !current.deleted {
                        try restorer.writeVersion(ref: ref, values: ObjectValueStorage.decode(current.data), deleted: true)
                    }
                case .restore(let version):
                    outcome.restored += 1
                    // `plan` restores a version it found in `history`, which is `versions`.
                    guard let previous = versions.first(where: { $0.version == version }) else { continue }
                    let values = ObjectValueStorage.decode(previous.data)
                    let wasDeleted = previous.deleted
                    let isDeleted = try Bool.fetchOne(db, sql: "SELECT deleted FROM objects WHERE ref = ?", arguments: [number]) ?? false
                    if wasDeleted == isDeleted {
                        _ = try restorer.save(ref: ref, values: values, isNew: false)
                    } else {
                        try restorer.writeVersion(ref: ref, values: values, deleted: wasDeleted)
                    }
                }
            }
            try restorer.finish()
            try db.execute(sql: "DELETE FROM documents WHERE batch = ?", arguments: [id.rawValue])
            try Self.restoreFeedMemory(db, changedBy: id)
            var progress = try Self.fetchBatch(db, id)?.progress ?? RunProgress()
            let lines = outcome.logLines(by: by, now: now)
            try Self.appendLog(db, id, lines, startingAt: progress.logLines)
            progress.logLines += lines.count
            try db.execute(
                sql: "UPDATE batches SET state = ?, progress = ? WHERE id = ?",
                arguments: [BatchState.rolledBack.rawValue, Self.encode(progress), id.rawValue])
            try Self.queueWebhookDeliveries(db, id, state: WebhookFanOut.rolledBack, now: now)
            try Self.audit(db, id, "rolled back", by, now)
            return outcome
        }
    }
}
