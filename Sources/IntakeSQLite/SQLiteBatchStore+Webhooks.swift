import Foundation
import GRDB
import IntakeStore

extension SQLiteBatchStore {
    package func createWebhook(name: String, url: String, events: [WebhookEvent], everyBatch: Bool, secret: String, now: Date) async throws {
        try await write { db in
            guard try !Self.exists(db, "SELECT 1 FROM webhooks WHERE name = ?", [name]) else {
                throw StoreError.webhookExists(name)
            }
            try db.execute(
                sql: "INSERT INTO webhooks (name, url, events, every_batch, secret, created) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [name, url, WebhookRecord.eventsText(events), everyBatch, secret, Self.seconds(now)])
        }
    }

    package func webhooks() async throws -> [WebhookRecord] {
        try await read { db in try Self.webhooks(db) }
    }

    static func webhooks(_ db: Database) throws -> [WebhookRecord] {
        try WebhookRow.fetchAll(db, sql: "SELECT * FROM webhooks ORDER BY name").map { $0.record() }
    }

    package func deleteWebhook(name: String) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM webhooks WHERE name = ?", arguments: [name])
            guard db.changesCount > 0 else { return false }
            try db.execute(
                sql: "UPDATE webhook_deliveries SET state = 'failed', next_attempt = NULL WHERE webhook = ? AND state = 'pending'",
                arguments: [name])
            return true
        }
    }

    /// Stores the deliveries of a batch entering `state` (a state name, or `rolled-back`), in the
    /// caller's transaction: the event and the state it reports commit together or not at all.
    static func queueWebhookDeliveries(_ db: Database, _ id: BatchID, state: String, now: Date) throws {
        let webhooks = try webhooks(db)
        guard !webhooks.isEmpty else { return }
        let notify = WebhookFanOut.notify(try String.fetchOne(db, sql: "SELECT notify FROM batches WHERE id = ?", arguments: [id.rawValue]))
        for delivery in WebhookFanOut.deliveries(for: webhooks, batch: id, state: state, notify: notify, now: now) {
            try db.execute(
                sql: """
                    INSERT INTO webhook_deliveries (id, webhook, url, batch, event, batch_state, created, state, next_attempt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)
                    """,
                arguments: [
                    delivery.id, delivery.webhook, delivery.url, id.rawValue, delivery.event.rawValue, delivery.batchState,
                    seconds(now), seconds(now)
                ])
        }
    }

    package func deliveries(batch: BatchID) async throws -> [WebhookDelivery] {
        try await read { db in
            try DeliveryRow.fetchAll(db, sql: "SELECT * FROM webhook_deliveries WHERE batch = ? ORDER BY created, rowid", arguments: [batch.rawValue])
                .map { $0.record() }
        }
    }

    package func takeDueDeliveries(now: Date, limit: Int, policy: DeliveryPolicy) async throws -> [DueDelivery] {
        // Asked every second by every sender: a read first, so that the write lock an import run
        // needs is taken only when something is due.
        let anyDue = try await read { db in
            try Bool.fetchOne(
                db,
                sql: """
                    SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE state = 'pending' AND next_attempt <= ?1 AND lease_until <= ?1)
                    """, arguments: [Self.seconds(now)]) ?? false
        }
        guard anyDue else { return [] }
        return try await write { db in
            // Several processes may share one database file: the write lock makes take-and-lease one
            // step, so a delivery is taken by one sender at a time.
            let rows = try DeliveryRow.fetchAll(
                db,
                sql: """
                    SELECT d.*, w.secret FROM webhook_deliveries d LEFT JOIN webhooks w ON w.name = d.webhook
                    WHERE d.state = 'pending' AND d.next_attempt <= ? AND d.lease_until <= ? ORDER BY d.next_attempt, d.rowid LIMIT ?
                    """, arguments: [Self.seconds(now), Self.seconds(now), limit])
            let leaseUntil = Self.seconds(now.addingTimeInterval(policy.lease))
            for row in rows {
                try db.execute(sql: "UPDATE webhook_deliveries SET lease_until = ? WHERE id = ?", arguments: [leaseUntil, row.id])
            }
            return rows.map { DueDelivery(delivery: $0.record(), secret: $0.secret, body: $0.body) }
        }
    }

    package func recordAttempt(delivery: String, body: String, attempt: DeliveryAttempt, outcome: DeliveryOutcome) async throws {
        try await write { db in
            let (state, next) = outcome.stateAndNextAttempt
            try db.execute(
                sql: """
                    UPDATE webhook_deliveries SET state = ?, next_attempt = ?, lease_until = 0, body = COALESCE(body, ?),
                        attempts = attempts || ? || char(10) WHERE id = ?
                    """, arguments: [state.rawValue, next.map(Self.seconds), body, attempt.line, delivery])
        }
    }
}
