import Foundation
import IntakeCore
import IntakeStore

/// The refusals of the webhook use cases.
package enum WebhookError: UserFacingError, Equatable {
    case invalidName(String)
    case invalidURL(String)
    case unknownEvent(String)
    case noEvents
    case exists(String)
    case notFound(String)

    package var kind: ErrorKind {
        switch self {
        case .exists: .conflict
        default: .invalidRequest
        }
    }

    package var userMessage: String {
        switch self {
        case .invalidName(let name):
            "Invalid webhook name: \(name.escapingControlCharacters) (use 1 to 64 letters, digits, '-', '_' or '.')"
        case .invalidURL(let url): "Invalid webhook URL: \(url.escapingControlCharacters) (use an http or https URL of at most 2000 characters)"
        case .unknownEvent(let event): "Unknown webhook event: \(event.escapingControlCharacters) (use batch.finished or batch.held)"
        case .noEvents: "A webhook needs at least one event"
        case .exists(let name): "A webhook named \(name.escapingControlCharacters) exists already"
        case .notFound(let name): "No webhook named \(name.escapingControlCharacters)"
        }
    }
}

extension ImportService {
    /// Defines a webhook and returns it with its new secret, which is shown to the caller once.
    /// `events` nil means every event.
    package func addWebhook(name: String, url: String, events: [String]?, everyBatch: Bool, by: String) async throws -> WebhookRecord {
        guard (1...64).contains(name.count), name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw WebhookError.invalidName(name)
        }
        guard url.count <= 2000, let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""),
            !(parsed.host ?? "").isEmpty
        else { throw WebhookError.invalidURL(url) }
        let chosen = try (events ?? WebhookEvent.allCases.map(\.rawValue)).map { text in
            guard let event = WebhookEvent(rawValue: text) else { throw WebhookError.unknownEvent(text) }
            return event
        }
        guard !chosen.isEmpty else { throw WebhookError.noEvents }
        let secret = WebhookSignature.newSecret()
        do {
            try await store.createWebhook(name: name, url: url, events: chosen, everyBatch: everyBatch, secret: secret, now: environment.now())
        } catch StoreError.webhookExists {
            throw WebhookError.exists(name)
        }
        try await store.recordAudit(event: "webhook added", batch: nil, detail: "\(name) \(url) by \(by)", now: environment.now())
        guard let made = try await store.webhooks().first(where: { $0.name == name }) else { throw WebhookError.notFound(name) }
        return made
    }

    package func webhooks() async throws -> [WebhookRecord] { try await store.webhooks() }

    package func removeWebhook(name: String, by: String) async throws {
        guard try await store.deleteWebhook(name: name) else { throw WebhookError.notFound(name) }
        try await store.recordAudit(event: "webhook removed", batch: nil, detail: "\(name) by \(by)", now: environment.now())
    }

    /// What a batch's events were and how their deliveries went.
    package func deliveries(batch text: String?) async throws -> [WebhookDelivery] {
        try await store.deliveries(batch: try await batch(text).id)
    }

    /// The `notify` names of a control file that no webhook has (`intake validate` warns about them).
    package func unknownNotifyNames(in control: JSONValue) async throws -> [String] {
        guard case .object(let root) = control, let feed = FeedDeclaration(control: root), !feed.notify.isEmpty else { return [] }
        let known = Set(try await store.webhooks().map(\.name))
        return feed.notify.filter { !known.contains($0) }
    }
}
