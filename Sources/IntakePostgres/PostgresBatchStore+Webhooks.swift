import Foundation
import IntakeStore
import PostgresNIO

extension PostgresBatchStore {
    package func createWebhook(name: String, url: String, events: [WebhookEvent], everyBatch: Bool, secret: String, now: Date) async throws {
        let inserted = try await database.query(
            """
            INSERT INTO webhooks (name, url, events, every_batch, secret, created)
            VALUES (\(name), \(url), \(WebhookRecord.eventsText(events)), \(everyBatch), \(secret), \(seconds(now)))
            ON CONFLICT (name) DO NOTHING
            """
        ).affectedRows
        if inserted == 0 { throw StoreError.webhookExists(name) }
    }

    package func webhooks() async throws -> [WebhookRecord] {
        try await database.withConnection { connection in try await Self.webhooks(connection) }
    }

    static func webhooks(_ connection: AsyncConnection) async throws -> [WebhookRecord] {
        try await connection.query("SELECT id, name, url, events, every_batch, secret, created FROM webhooks ORDER BY name").rows.map { row in
            let c = row.columns
            return WebhookRecord(
                id: try c.value("id"), name: try c.value("name"), url: try c.value("url"), events: WebhookRecord.events(try c.value("events")),
                everyBatch: try c.value("every_batch"), secret: try c.value("secret"), created: try c.date("created"))
        }
    }

    package func deleteWebhook(name: String) async throws -> Bool {
        try await database.transaction { connection in
            guard try await connection.query("DELETE FROM webhooks WHERE name = \(name)").affectedRows > 0 else { return false }
            try await connection.query(
                "UPDATE webhook_deliveries SET state = 'failed', next_attempt = NULL WHERE webhook = \(name) AND state = 'pending'")
            return true
        }
    }

    /// As SQLite's: the deliveries of a batch entering `state`, in the caller's transaction.
    static func queueWebhookDeliveries(_ connection: AsyncConnection, _ id: BatchID, state: String, now: Date) async throws {
        let webhooks = try await webhooks(connection)
        guard !webhooks.isEmpty else { return }
        let notify = WebhookFanOut.notify(
            try await connection.query("SELECT notify FROM batches WHERE id = \(id.rawValue)").rows.first?.decode(String?.self))
        for delivery in WebhookFanOut.deliveries(for: webhooks, batch: id, state: state, notify: notify, now: now) {
            try await connection.query(
                """
                INSERT INTO webhook_deliveries (id, webhook, url, batch, event, batch_state, created, state, next_attempt)
                VALUES (\(delivery.id), \(delivery.webhook), \(delivery.url), \(id.rawValue), \(delivery.event.rawValue),
                    \(delivery.batchState), \(seconds(now)), 'pending', \(seconds(now)))
                """)
        }
    }

    private static let deliveryColumns = "d.id, d.webhook, d.url, d.batch, d.event, d.batch_state, d.created, d.state, d.next_attempt, d.attempts"

    private static func delivery(_ row: PostgresRow) throws -> WebhookDelivery {
        let c = row.columns
        return WebhookDelivery(
            id: try c.value("id"), webhook: try c.value("webhook"), url: try c.value("url"), batch: BatchID(rawValue: try c.value("batch")),
            event: WebhookEvent(rawValue: try c.value("event")) ?? .finished, batchState: try c.value("batch_state"),
            created: try c.date("created"), state: DeliveryState(rawValue: try c.value("state")) ?? .failed,
            nextAttempt: try c.optionalDate("next_attempt"), attempts: DeliveryAttempt.decode(try c.value("attempts")))
    }

    package func deliveries(batch: BatchID) async throws -> [WebhookDelivery] {
        try await database.query(
            "SELECT \(unescaped: Self.deliveryColumns) FROM webhook_deliveries d WHERE d.batch = \(batch.rawValue) ORDER BY d.created, d.seq"
        ).rows.map(Self.delivery)
    }

    package func takeDueDeliveries(now: Date, limit: Int, policy: DeliveryPolicy) async throws -> [DueDelivery] {
        // Asked every second by every node: one plain read first, and a transaction with row locks
        // only when something is due.
        let anyDue =
            try await database.query(
                """
                SELECT EXISTS (SELECT 1 FROM webhook_deliveries
                    WHERE state = 'pending' AND next_attempt <= \(seconds(now)) AND lease_until <= \(seconds(now)))
                """
            ).scalar(Bool.self) ?? false
        guard anyDue else { return [] }
        // Nodes take due deliveries at once: `SKIP LOCKED` gives each its own, and the lease keeps
        // them its own until it has recorded the attempt (or has gone away).
        return try await database.transaction { connection in
            let rows = try await connection.query(
                """
                SELECT \(unescaped: Self.deliveryColumns), d.body, w.secret FROM webhook_deliveries d LEFT JOIN webhooks w ON w.name = d.webhook
                WHERE d.state = 'pending' AND d.next_attempt <= \(seconds(now)) AND d.lease_until <= \(seconds(now))
                ORDER BY d.next_attempt, d.seq LIMIT \(limit) FOR UPDATE OF d SKIP LOCKED
                """
            ).rows
            let due = try rows.map { row in
                let c = row.columns
                return DueDelivery(
                    delivery: try Self.delivery(row), secret: try c.value("secret", as: String?.self), body: try c.value("body", as: String?.self))
            }
            let ids = due.map(\.delivery.id)
            if !ids.isEmpty {
                try await connection.query(
                    "UPDATE webhook_deliveries SET lease_until = \(seconds(now.addingTimeInterval(policy.lease))) WHERE id = ANY(\(ids))")
            }
            return due
        }
    }

    package func recordAttempt(delivery: String, body: String, attempt: DeliveryAttempt, outcome: DeliveryOutcome) async throws {
        let (state, nextAttempt) = outcome.stateAndNextAttempt
        let next = nextAttempt.map(seconds)
        try await database.query(
            """
            UPDATE webhook_deliveries SET state = \(state.rawValue), next_attempt = \(next), lease_until = 0, body = COALESCE(body, \(body)),
                attempts = attempts || \(attempt.line + "\n") WHERE id = \(delivery)
            """)
    }
}
