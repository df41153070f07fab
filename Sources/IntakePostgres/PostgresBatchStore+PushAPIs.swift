import Foundation
import IntakeStore
import PostgresNIO

extension PostgresBatchStore {
    package func createPushAPI(_ api: PushAPIRecord) async throws {
        let inserted = try await database.query(
            """
            INSERT INTO push_apis (name, description, enabled, response, control, body_limit, created, updated)
            VALUES (\(api.name), \(api.description), \(api.enabled), \(api.response.rawValue), \(api.control), \(Int64(api.bodyLimit)),
                    \(seconds(api.created)), \(seconds(api.updated)))
            ON CONFLICT (name) DO NOTHING
            """
        ).affectedRows
        if inserted == 0 { throw StoreError.pushAPIExists(api.name) }
    }

    package func updatePushAPI(_ api: PushAPIRecord) async throws -> Bool {
        try await database.query(
            """
            UPDATE push_apis SET description = \(api.description), enabled = \(api.enabled), response = \(api.response.rawValue),
                control = \(api.control), body_limit = \(Int64(api.bodyLimit)), updated = \(seconds(api.updated))
            WHERE name = \(api.name)
            """
        ).affectedRows > 0
    }

    package func pushAPIs() async throws -> [PushAPIRecord] {
        try await database.query("SELECT \(unescaped: Self.pushAPIColumns) FROM push_apis ORDER BY name").rows.map(Self.pushAPI)
    }

    package func pushAPI(named name: String) async throws -> PushAPIRecord? {
        try await database.query("SELECT \(unescaped: Self.pushAPIColumns) FROM push_apis WHERE name = \(name)").rows.first.map(Self.pushAPI)
    }

    package func deletePushAPI(name: String) async throws -> Bool {
        try await database.query("DELETE FROM push_apis WHERE name = \(name)").affectedRows > 0
    }

    private static let pushAPIColumns = "name, description, enabled, response, control, body_limit, created, updated"

    private static func pushAPI(_ row: PostgresRow) throws -> PushAPIRecord {
        let c = row.columns
        return PushAPIRecord(
            name: try c.value("name"), description: try c.value("description"), enabled: try c.value("enabled"),
            response: PushResponseFormat(rawValue: try c.value("response")) ?? .json, control: try c.value("control"),
            bodyLimit: Int(try c.value("body_limit") as Int64), created: try c.date("created"), updated: try c.date("updated"))
    }
}
