import Foundation
import GRDB
import IntakeCore
import IntakeStore

extension SQLiteBatchStore {
    package func object(_ ref: ObjectRef) async throws -> ObjectRecord? {
        try await read { db in
            try ObjectRow.fetchOne(
                db, sql: "SELECT o.*, v.data FROM objects o JOIN object_versions v ON v.ref = o.ref AND v.version = o.version WHERE o.ref = ?",
                arguments: [ref.number]
            )?.record()
        }
    }

    package func objects(types: Set<String>?, title: String?, after: ObjectRef?, limit: Int) async throws -> [ObjectRecord] {
        try await read { db in
            var sql = "SELECT o.*, v.data FROM objects o JOIN object_versions v ON v.ref = o.ref AND v.version = o.version WHERE o.ref > ? AND o.deleted = 0"
            var arguments: StatementArguments = [after?.number ?? 0]
            if let types {
                sql += " AND o.type IN (\(types.map { _ in "?" }.joined(separator: ",")))"
                for t in types.sorted() { arguments += [t] }
            }
            if let title {
                sql += " AND instr(o.titles, ?) > 0"
                arguments += [ObjectValueStorage.titleSearchKey(title)]
            }
            sql += " ORDER BY o.ref LIMIT ?"
            arguments += [limit]
            return try ObjectRow.fetchAll(db, sql: sql, arguments: arguments).map { $0.record() }
        }
    }

    /// Scans `object_versions` (as rollback does): an index on the batch would cost every import a
    /// write per version for the sake of an admin's page.
    package func objects(writtenBy batch: BatchID, after: ObjectRef?, limit: Int) async throws -> [ObjectRecord] {
        try await read { db in
            try ObjectRow.fetchAll(
                db,
                sql: """
                    SELECT o.*, v.data FROM objects o JOIN object_versions v ON v.ref = o.ref AND v.version = o.version
                    WHERE o.ref > ? AND o.ref IN (SELECT ref FROM object_versions WHERE batch = ?) ORDER BY o.ref LIMIT ?
                    """, arguments: [after?.number ?? 0, batch.rawValue, limit]
            ).map { $0.record() }
        }
    }

    package func history(of ref: ObjectRef) async throws -> [ObjectVersionRecord] {
        try await read { db in
            try ObjectVersionRow.fetchAll(db, sql: "SELECT * FROM object_versions WHERE ref = ? ORDER BY version", arguments: [ref.number])
                .map { $0.record() }
        }
    }

    package func documents(model: String, destination: String, batch: BatchID?) async throws -> [DictionaryDocument] {
        try await read { db in
            var sql = "SELECT batch, record, data FROM documents WHERE model = ? AND destination = ?"
            var arguments: StatementArguments = [model, destination]
            if let batch {
                sql += " AND batch = ?"
                arguments += [batch.rawValue]
            }
            return try DocumentRow.fetchAll(db, sql: sql + " ORDER BY id", arguments: arguments).map { $0.document() }
        }
    }

    package func ensureListObjects(_ objects: [ListObjectDefinition], now: Date) async throws {
        // Read first, for the same reason as the migrations in `init`: at start-up nothing is
        // usually missing, and then no write lock is needed.
        let behaviours = objects.map(\.behaviour)
        let missing = try await read { db in
            try behaviours.contains { try !Self.exists(db, "SELECT 1 FROM objects WHERE behaviour = ?", [$0]) }
        }
        guard missing else { return }
        try await write { db in
            let transaction = SQLiteImportTransaction(db: db, batch: nil, now: now)
            for object in objects where try transaction.ref(forBehaviour: object.behaviour) == nil {
                _ = try transaction.save(ref: try transaction.allocateRef(), values: object.values, isNew: true)
            }
            try transaction.finish()
        }
    }
}
