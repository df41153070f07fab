import Foundation
import GRDB
import IntakeCore
import IntakeStore
import Testing

@testable import IntakeSQLite

/// The per-record write path against a real SQLite file: outcomes, versions and the savepoint that
/// keeps one record atomic inside a chunk's transaction.
@Suite struct ImportTransactionTests {
    struct Failure: Error {}

    private func makeStore() throws -> (SQLiteBatchStore, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("intake-tx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: directory.appendingPathComponent("intake.sqlite").path)
        return (try SQLiteBatchStore(writer: queue), directory)
    }

    private func person(_ name: String, extra: [ObjectValue] = []) -> [ObjectValue] {
        [
            ObjectValue(attribute: StandardSchema.titleAttribute, value: .text(.text, name)),
            ObjectValue(attribute: StandardSchema.typeAttribute, value: .objectType("std:type:person"))
        ] + extra
    }

    @Test func savesCreateUpdateAndSkipUnchangedObjects() async throws {
        let (store, directory) = try makeStore()
        defer { try? FileManager.default.removeItem(at: directory) }
        let outcomes = try store.inImportTransaction(batch: BatchID(rawValue: "b1"), now: Date()) { tx in
            let ref = try tx.allocateRef()
            let link = ObjectValue(attribute: "dc:attribute:author", value: .ref(ObjectRef(40000)))
            return [
                try tx.save(ref: ref, values: person("Ada", extra: [link]), isNew: true),
                try tx.save(ref: ref, values: person("Ada", extra: [link]), isNew: false),
                try tx.save(ref: ref, values: person("Ada Lovelace"), isNew: false),
                try tx.save(ref: ref, values: person("", extra: [ObjectValue(attribute: "x:attribute:e", value: .text(.text, ""))]), isNew: false)
            ]
        }
        #expect(outcomes == [.created, .unchanged, .updated, .updated])
        let stored = try #require(try await store.object(ObjectRef(32768)))
        #expect(stored.version == 3)
        #expect(stored.title == "")
        #expect(stored.values.contains { $0.attribute == "x:attribute:e" && $0.value == .text(.text, "") })
    }

    @Test func aFailedRecordLeavesNothingAndTheChunkGoesOn() async throws {
        let (store, directory) = try makeStore()
        defer { try? FileManager.default.removeItem(at: directory) }
        try store.inImportTransaction(batch: BatchID(rawValue: "b1"), now: Date()) { tx in
            #expect(throws: Failure.self) {
                try tx.atomically {
                    _ = try tx.save(ref: ObjectRef(32768), values: person("Half"), isNew: true)
                    throw Failure()
                }
            }
            // A database error half-way through a record: the second save reuses the first's ref.
            #expect(throws: DatabaseError.self) {
                try tx.atomically {
                    _ = try tx.save(ref: ObjectRef(32769), values: person("First"), isNew: true)
                    _ = try tx.save(ref: ObjectRef(32769), values: person("Clash"), isNew: true)
                }
            }
            try tx.atomically { _ = try tx.save(ref: ObjectRef(32770), values: person("Whole"), isNew: true) }
        }
        #expect(try await store.object(ObjectRef(32768)) == nil)
        #expect(try await store.object(ObjectRef(32769)) == nil)
        #expect(try await store.object(ObjectRef(32770))?.title == "Whole")
    }
}

@Suite struct MigrationTests {
    @Test func titlesAreFilledInForObjectsStoredBeforeTheColumn() async throws {
        let queue = try DatabaseQueue()
        try SQLiteMigrations.migrator().migrate(queue, upTo: "v1")
        let values = [
            ObjectValue(attribute: StandardSchema.titleAttribute, value: .text(.text, "Old")),
            ObjectValue(attribute: StandardSchema.titleAttribute, value: .text(.text, "Older"))
        ]
        try await queue.write { db in
            try db.execute(sql: "INSERT INTO objects (ref, title, version, created, updated) VALUES (40000, 'Old', 1, 0, 0)")
            try db.execute(
                sql: "INSERT INTO object_versions (ref, version, saved, data) VALUES (40000, 1, 0, ?)",
                arguments: [ObjectValueStorage.encode(values)])
        }
        let store = try SQLiteBatchStore(writer: queue)
        #expect(try await store.objects(types: nil, title: "Older", after: nil, limit: 10).map(\.ref) == [ObjectRef(40000)])
        #expect(try await store.objects(types: nil, title: "Ol", after: nil, limit: 10).isEmpty)
    }
}
