import Foundation
import GRDB
import IntakeCore
import IntakeStore

extension SQLiteBatchStore {
    static func objectRecord(_ row: Row) -> ObjectRecord {
        ObjectRecord(
            ref: ObjectRef(row["ref"]), type: row["type"], title: row["title"], version: row["version"],
            created: date(row["created"])!, updated: date(row["updated"])!,
            values: ObjectValueStorage.decode(row["data"]), deleted: (row["deleted"] as Int64? ?? 0) != 0)
    }

    package func object(_ ref: ObjectRef) async throws -> ObjectRecord? {
        try await read { db in
            try Row.fetchOne(
                db, sql: "SELECT o.*, v.data FROM objects o JOIN object_versions v ON v.ref = o.ref AND v.version = o.version WHERE o.ref = ?",
                arguments: [ref.number]
            ).map(Self.objectRecord)
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
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.objectRecord)
        }
    }

    /// Scans `object_versions` (as rollback does): an index on the batch would cost every import a
    /// write per version for the sake of an admin's page.
    package func objects(writtenBy batch: BatchID, after: ObjectRef?, limit: Int) async throws -> [ObjectRecord] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT o.*, v.data FROM objects o JOIN object_versions v ON v.ref = o.ref AND v.version = o.version
                    WHERE o.ref > ? AND o.ref IN (SELECT ref FROM object_versions WHERE batch = ?) ORDER BY o.ref LIMIT ?
                    """, arguments: [after?.number ?? 0, batch.rawValue, limit]
            ).map(Self.objectRecord)
        }
    }

    package func history(of ref: ObjectRef) async throws -> [ObjectVersionRecord] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM object_versions WHERE ref = ? ORDER BY version",
                arguments: [ref.number]
            ).map { row in
                ObjectVersionRecord(
                    version: row["version"], batch: row["batch"], saved: Self.date(row["saved"])!,
                    values: ObjectValueStorage.decode(row["data"]), deleted: (row["deleted"] as Int64) != 0)
            }
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
            return try Row.fetchAll(db, sql: sql + " ORDER BY id", arguments: arguments).map { row in
                let text: String = row["data"]
                return DictionaryDocument(
                    batch: row["batch"], record: row["record"],
                    values: (try? JSONParser.parse(text)) ?? .null)
            }
        }
    }

    package func ensureListObjects(_ objects: [ListObjectDefinition], now: Date) async throws {
        // Read first, for the same reason as the migrations in `init`: at start-up nothing is
        // usually missing, and then no write lock is needed.
        let behaviours = objects.map(\.behaviour)
        let missing = try await read { db in
            try behaviours.contains { try !Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM objects WHERE behaviour = ?)", arguments: [$0])! }
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
