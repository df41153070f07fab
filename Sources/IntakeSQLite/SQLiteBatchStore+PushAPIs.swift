import Foundation
import GRDB
import IntakeStore

extension SQLiteBatchStore {
    package func createPushAPI(_ api: PushAPIRecord) async throws {
        try await write { db in
            guard try !Self.exists(db, "SELECT 1 FROM push_apis WHERE name = ?", [api.name]) else {
                throw StoreError.pushAPIExists(api.name)
            }
            try db.execute(
                sql: """
                    INSERT INTO push_apis (name, description, enabled, response, control, body_limit, created, updated)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    api.name, api.description, api.enabled, api.response.rawValue, api.control, api.bodyLimit, Self.seconds(api.created),
                    Self.seconds(api.updated)
                ])
        }
    }

    package func updatePushAPI(_ api: PushAPIRecord) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: "UPDATE push_apis SET description = ?, enabled = ?, response = ?, control = ?, body_limit = ?, updated = ? WHERE name = ?",
                arguments: [api.description, api.enabled, api.response.rawValue, api.control, api.bodyLimit, Self.seconds(api.updated), api.name])
            return db.changesCount > 0
        }
    }

    package func pushAPIs() async throws -> [PushAPIRecord] {
        try await read { db in try PushAPIRow.fetchAll(db, sql: "SELECT * FROM push_apis ORDER BY name").map { $0.record() } }
    }

    package func pushAPI(named name: String) async throws -> PushAPIRecord? {
        try await read { db in try PushAPIRow.fetchOne(db, sql: "SELECT * FROM push_apis WHERE name = ?", arguments: [name])?.record() }
    }

    package func deletePushAPI(name: String) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM push_apis WHERE name = ?", arguments: [name])
            return db.changesCount > 0
        }
    }

}
