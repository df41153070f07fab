import Crypto
import Foundation

/// What a webhook can be told about (docs/feeds.md "Webhooks").
package enum WebhookEvent: String, Sendable, CaseIterable, Codable {
    /// A batch ended (`complete`, `dry-run`, `error`, `cancelled`) or was rolled back (`rolled-back`).
    case finished = "batch.finished"
    /// A feed's guard held a batch for approval.
    case held = "batch.held"

    /// The event a batch entering `state` raises, if any.
    package static func on(_ state: BatchState) -> WebhookEvent? {
        switch state {
        case .complete, .dryRun, .error, .cancelled, .rolledBack: .finished
        case .held: .held
        default: nil
        }
    }
}

/// A receiver of events, defined by an administrator. Its secret signs every delivery; it is shown
/// once, when the webhook is made, and kept (it must be, to sign) only in the database.
package struct WebhookRecord: Sendable, Equatable {
    package var id: Int64
    package var name: String
    package var url: String
    package var events: [WebhookEvent]
    /// Told about every batch; otherwise only about the batches of feeds whose `notify` names it.
    package var everyBatch: Bool
    package var secret: String
    package var created: Date

    package init(id: Int64, name: String, url: String, events: [WebhookEvent], everyBatch: Bool, secret: String, created: Date) {
        (self.id, self.name, self.url, self.events, self.everyBatch, self.secret, self.created) =
            (id, name, url, events, everyBatch, secret, created)
    }

    /// Whether it wants `event` of a batch whose feed notifies `notify`.
    package func wants(_ event: WebhookEvent, notify: [String]) -> Bool {
        events.contains(event) && (everyBatch || notify.contains(name))
    }

    /// The stored form of `events`: names joined by commas.
    package static func eventsText(_ events: [WebhookEvent]) -> String { events.map(\.rawValue).joined(separator: ",") }
    package static func events(_ text: String) -> [WebhookEvent] {
        text.split(separator: ",").compactMap { WebhookEvent(rawValue: String($0)) }
    }
}

/// Where a delivery stands.
package enum DeliveryState: String, Sendable, Codable {
    /// Waiting for its first or next attempt.
    case pending
    /// A 2xx answer was had.
    case delivered
    /// Given up: 24 hours of failed attempts, or its webhook was removed.
    case failed
}

/// One try to deliver: when, and what came of it (an HTTP status, or an error such as a timeout).
package struct DeliveryAttempt: Sendable, Equatable {
    package var at: Date
    package var status: Int?
    package var error: String?
    package var milliseconds: Int

    package init(at: Date, status: Int?, error: String?, milliseconds: Int) {
        (self.at, self.status, self.error, self.milliseconds) = (at, status, error, milliseconds)
    }

    /// The stored form: one line per attempt, `unix-time status-or-0 milliseconds error…`.
    package var line: String {
        "\(Int64(at.timeIntervalSince1970)) \(status ?? 0) \(milliseconds) \(error ?? "")"
            .replacingOccurrences(of: "\n", with: " ")
    }

    package init?(line: Substring) {
        let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count >= 3, let time = Int64(parts[0]), let status = Int(parts[1]), let ms = Int(parts[2]) else { return nil }
        let error = parts.count == 4 && !parts[3].isEmpty ? String(parts[3]) : nil
        self.init(at: Date(timeIntervalSince1970: TimeInterval(time)), status: status == 0 ? nil : status, error: error, milliseconds: ms)
    }

    package static func decode(_ text: String) -> [DeliveryAttempt] {
        text.split(separator: "\n").compactMap(DeliveryAttempt.init(line:))
    }
}

/// One event for one webhook: stored in the transaction that gave the batch its state, sent after.
package struct WebhookDelivery: Sendable, Equatable {
    /// Unique; receivers use it to drop a delivery they have already had (delivery is at least once).
    package var id: String
    package var webhook: String
    package var url: String
    package var batch: BatchID
    package var event: WebhookEvent
    /// The batch's state when the event happened (it may have changed since); `rolled-back` for a
    /// rollback, which leaves the batch `complete`.
    package var batchState: String
    package var created: Date
    package var state: DeliveryState
    package var nextAttempt: Date?
    package var attempts: [DeliveryAttempt]

    package init(
        id: String, webhook: String, url: String, batch: BatchID, event: WebhookEvent, batchState: String, created: Date,
        state: DeliveryState, nextAttempt: Date?, attempts: [DeliveryAttempt]
    ) {
        (self.id, self.webhook, self.url, self.batch, self.event, self.batchState, self.created) =
            (id, webhook, url, batch, event, batchState, created)
        (self.state, self.nextAttempt, self.attempts) = (state, nextAttempt, attempts)
    }
}

/// A delivery taken by a sender for one attempt, with what it needs to send it. `body` is nil on the
/// first attempt: the sender makes it then, and every later attempt sends the same bytes.
package struct DueDelivery: Sendable {
    package var delivery: WebhookDelivery
    package var secret: String?
    package var body: String?

    package init(delivery: WebhookDelivery, secret: String?, body: String?) {
        (self.delivery, self.secret, self.body) = (delivery, secret, body)
    }
}

/// What an attempt leads to.
package enum DeliveryOutcome: Sendable, Equatable {
    case delivered
    case retry(at: Date)
    case failed

    /// The delivery's state after it, and when it is tried next (nil: never).
    package var stateAndNextAttempt: (DeliveryState, Date?) {
        switch self {
        case .delivered: (.delivered, nil)
        case .failed: (.failed, nil)
        case .retry(let at): (.pending, at)
        }
    }
}

/// When a failed delivery is tried again: 1 minute after the first attempt, doubling up to an hour
/// between attempts, for 24 hours after the event (docs/feeds.md "Webhooks"). Tests shorten it.
package struct DeliveryPolicy: Sendable {
    package var firstRetry: TimeInterval
    package var longestWait: TimeInterval
    package var giveUpAfter: TimeInterval
    /// How long an answer may take; a receiver that never answers counts as a failed attempt.
    package var timeout: TimeInterval
    /// How long a sender may hold a delivery it took before another node may take it.
    package var lease: TimeInterval

    package static let standard = DeliveryPolicy(firstRetry: 60, longestWait: 3600, giveUpAfter: 24 * 3600, timeout: 10, lease: 120)

    package init(firstRetry: TimeInterval, longestWait: TimeInterval, giveUpAfter: TimeInterval, timeout: TimeInterval, lease: TimeInterval) {
        (self.firstRetry, self.longestWait, self.giveUpAfter, self.timeout, self.lease) = (firstRetry, longestWait, giveUpAfter, timeout, lease)
    }

    /// After `failures` failed attempts of a delivery made at `created`.
    package func outcomeOfFailure(failures: Int, created: Date, now: Date) -> DeliveryOutcome {
        let wait = min(longestWait, firstRetry * pow(2, Double(max(0, failures - 1))))
        let next = now.addingTimeInterval(wait)
        return next.timeIntervalSince(created) > giveUpAfter ? .failed : .retry(at: next)
    }
}

/// Webhooks and their deliveries.
package protocol WebhookStore: Sendable {
    /// - Throws: `StoreError.webhookExists` when the name is taken.
    func createWebhook(name: String, url: String, events: [WebhookEvent], everyBatch: Bool, secret: String, now: Date) async throws
    /// Every webhook, by name.
    func webhooks() async throws -> [WebhookRecord]
    /// Removes a webhook; its pending deliveries fail. False when there is no such webhook.
    func deleteWebhook(name: String) async throws -> Bool
    /// A batch's deliveries, oldest first, with their attempts.
    func deliveries(batch: BatchID) async throws -> [WebhookDelivery]
    /// Takes up to `limit` pending deliveries whose next attempt is due, for `policy.lease` seconds:
    /// no other sender (of this node or another) takes them meanwhile.
    func takeDueDeliveries(now: Date, limit: Int, policy: DeliveryPolicy) async throws -> [DueDelivery]
    /// Records an attempt and what it leads to; `body` is stored on the first attempt.
    func recordAttempt(delivery: String, body: String, attempt: DeliveryAttempt, outcome: DeliveryOutcome) async throws
}

/// What both backends store a webhook's deliveries with when a batch changes state.
package enum WebhookFanOut {
    /// The audit detail of a schedule, as both backends write it.
    package static func scheduledDetail(by: String, dryRun: Bool, force: Bool, maxErrors: Int?) -> String {
        by + (dryRun ? " (dry run)" : "") + (force ? " (every record)" : "") + (maxErrors.map { " (at most \($0) errors)" } ?? "")
    }

    /// The state a rollback reports.
    package static let rolledBack = BatchState.rolledBack.rawValue

    /// The deliveries for `webhooks` of a batch entering `state`.
    package static func deliveries(
        for webhooks: [WebhookRecord], batch: BatchID, state: String, notify: [String], now: Date
    ) -> [WebhookDelivery] {
        let event = BatchState(rawValue: state).flatMap(WebhookEvent.on)
        guard let event else { return [] }
        return webhooks.filter { $0.wants(event, notify: notify) }.map { webhook in
            WebhookDelivery(
                id: "dl" + BatchID.random().rawValue, webhook: webhook.name, url: webhook.url, batch: batch, event: event,
                batchState: state, created: now, state: .pending, nextAttempt: now, attempts: [])
        }
    }

    /// The stored form of a feed's `notify` names.
    package static func notifyText(_ names: [String]) -> String? { names.isEmpty ? nil : names.joined(separator: "\n") }
    package static func notify(_ text: String?) -> [String] { text.map { $0.split(separator: "\n").map(String.init) } ?? [] }
}

/// The `Intake-Signature` header: `t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, the scheme
/// Stripe documents. A receiver recomputes it with the webhook's secret, compares in constant time,
/// and rejects old timestamps (a replayed delivery).
package enum WebhookSignature {
    package static func header(secret: String, timestamp: Int64, body: String) -> String {
        "t=\(timestamp),v1=\(hex(secret: secret, timestamp: timestamp, body: body))"
    }

    package static func hex(secret: String, timestamp: Int64, body: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(timestamp).\(body)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    /// A new secret: 32 random bytes, hex, with a prefix that says what it is.
    package static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return "whsec_" + (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
