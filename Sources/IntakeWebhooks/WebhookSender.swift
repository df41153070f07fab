import AsyncHTTPClient
import Crypto
import Foundation
import IntakeStore
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization

/// Sends the deliveries the stores queue when a batch ends or is held (docs/feeds.md "Webhooks").
///
/// Every node runs one. It takes due deliveries with a lease (so two nodes never send one at once),
/// posts each, and records the attempt: a 2xx answer delivers it; anything else (a timeout, a refused
/// connection, a redirect, which is not followed, or another status) schedules the next attempt by
/// `DeliveryPolicy`, until it gives up after 24 hours. Deliveries live in the database, so a restart
/// or another node carries on where this one stopped: at least once, never lost.
package final class WebhookSender: Service, Sendable {
    /// Makes the body of a delivery's first attempt (the batch as it is then, with its state at the
    /// event); later attempts send the stored body again.
    package typealias Payload = @Sendable (WebhookDelivery) async throws -> String

    private let store: any WebhookStore
    private let policy: DeliveryPolicy
    private let payload: Payload
    private let logger: Logger
    private let pollInterval: Duration
    private let now: @Sendable () -> Date
    private let stopping = Atomic<Bool>(false)

    package init(
        store: any WebhookStore, policy: DeliveryPolicy = .standard, pollInterval: Duration = .seconds(1), logger: Logger,
        now: @escaping @Sendable () -> Date = Date.init, payload: @escaping Payload
    ) {
        (self.store, self.policy, self.pollInterval, self.logger, self.now, self.payload) = (store, policy, pollInterval, logger, now, payload)
    }

    package func run() async throws {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: policy.timeAmount, read: policy.timeAmount))
        configuration.httpVersion = .http1Only
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        await withGracefulShutdownHandler {
            await loop(client)
        } onGracefulShutdown: {
            self.stopping.store(true, ordering: .relaxed)
        }
        try? await client.shutdown()
    }

    private func loop(_ client: HTTPClient) async {
        var failing = false
        while !stopping.load(ordering: .relaxed) && !Task.isCancelled {
            do {
                let due = try await store.takeDueDeliveries(now: now(), limit: 16, policy: policy)
                if failing { logger.info("webhook deliveries can be read again") }
                failing = false
                await withTaskGroup(of: Void.self) { group in
                    for delivery in due { group.addTask { await self.attempt(delivery, client) } }
                }
                if !due.isEmpty { continue }
            } catch {
                // Said once per outage (a stopped database, a full disk), not every second.
                if !failing { logger.warning("could not read the webhook deliveries", metadata: ["error": "\(error)"]) }
                failing = true
            }
            await pause()
        }
    }

    /// Waits for the next poll in short steps, so that a graceful shutdown is not held up by it.
    private func pause() async {
        let until = ContinuousClock.now + pollInterval
        while !stopping.load(ordering: .relaxed) && !Task.isCancelled && ContinuousClock.now < until {
            try? await Task.sleep(for: min(.milliseconds(100), until - ContinuousClock.now))
        }
    }

    private func attempt(_ due: DueDelivery, _ client: HTTPClient) async {
        let delivery = due.delivery
        let started = now()
        let clock = ContinuousClock.now
        var body = due.body ?? ""
        var status: Int?
        var failure: String?
        do {
            if due.body == nil { body = try await payload(delivery) }
            guard let secret = due.secret else { throw WebhookRemoved() }
            status = try await post(delivery, body: body, secret: secret, client: client)
        } catch is WebhookRemoved {
            failure = "the webhook was removed"
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            failure = "no answer within \(policy.timeout.formatted()) s"
        } catch {
            failure = "\(error)"
        }
        let elapsed = ContinuousClock.now - clock
        let milliseconds = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        let succeeded = status.map { (200..<300).contains($0) } ?? false
        let outcome: DeliveryOutcome =
            succeeded
            ? .delivered
            : (due.secret == nil ? .failed : policy.outcomeOfFailure(failures: delivery.attempts.count + 1, created: delivery.created, now: now()))
        let attempt = DeliveryAttempt(at: started, status: status, error: failure, milliseconds: milliseconds)
        do {
            try await store.recordAttempt(delivery: delivery.id, body: body, attempt: attempt, outcome: outcome)
        } catch {
            // Its lease runs out and it is sent again: at least once.
            logger.warning("could not record a webhook attempt", metadata: ["intake.delivery": "\(delivery.id)", "error": "\(error)"])
        }
        let level: Logger.Level = succeeded ? .info : .warning
        logger.log(
            level: level, "webhook delivery attempt",
            metadata: [
                "intake.delivery": "\(delivery.id)", "intake.webhook": "\(delivery.webhook)", "intake.batch.id": "\(delivery.batch)",
                "intake.status": "\(status.map(String.init) ?? failure ?? "-")", "intake.outcome": "\(outcome)"
            ])
    }

    /// Posts the body and returns the answer's status; the answer's body is read (up to 64 KiB) and
    /// dropped.
    private func post(_ delivery: WebhookDelivery, body: String, secret: String, client: HTTPClient) async throws -> Int {
        var request = HTTPClientRequest(url: delivery.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Intake-Webhooks")
        request.headers.add(name: "Intake-Event", value: delivery.event.rawValue)
        request.headers.add(name: "Intake-Delivery", value: delivery.id)
        let timestamp = Int64(now().timeIntervalSince1970)
        request.headers.add(name: "Intake-Signature", value: WebhookSignature.header(secret: secret, timestamp: timestamp, body: body))
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await client.execute(request, timeout: policy.timeAmount)
        _ = try? await response.body.collect(upTo: 64 * 1024)
        return Int(response.status.code)
    }
}

private struct WebhookRemoved: Error {}

extension DeliveryPolicy {
    var timeAmount: TimeAmount { .milliseconds(Int64(timeout * 1000)) }
}
