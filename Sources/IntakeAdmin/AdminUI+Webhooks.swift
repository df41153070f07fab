import Foundation
import Hummingbird
import IntakeApp
import IntakeCore
import IntakeHTTP
import IntakeStore

extension AdminUI {
    static let webhookEventDescriptions: [(WebhookEvent, String)] = [
        (.finished, "a batch ended or was rolled back"), (.held, "a feed's night was held for approval")
    ]

    /// The form's checkbox for an event (`event-finished`, `event-held`).
    static func formField(_ event: WebhookEvent) -> String { "event-" + event.rawValue.dropFirst("batch.".count) }

    func addWebhookRoutes(_ admin: RouterGroup<IntakeRequestContext>) {
        get(admin, "webhooks") { _, _, session in
            try await renderWebhooks(name: "", url: "", events: Set(WebhookEvent.allCases), every: true, errors: FormErrors(), status: .ok, session: &session)
        }
        post(admin, "webhooks", use: addWebhook)
        get(admin, "webhooks/:name/remove") { _, context, session in
            guard let webhook = try await webhook(context) else { return notFound("Webhook \(context.parameters.get("name") ?? "")", session: session) }
            return try await render(
                .confirm, title: "Remove webhook: \(webhook.name)", session: &session,
                crumbs: [Crumb.home, Crumb("Webhooks", AdminPath.webhooks), Crumb("Remove")],
                model: ConfirmPage(
                    question: "It will not be told about batches any more, and its deliveries not yet made are given up.",
                    button: "Remove webhook", action: AdminPath.webhook(webhook.name) + "/remove", back: AdminPath.webhooks))
        }
        post(admin, "webhooks/:name/remove") { _, context, _, session in
            guard let webhook = try await webhook(context) else { return notFound("Webhook \(context.parameters.get("name") ?? "")", session: session) }
            try await service.removeWebhook(name: webhook.name, by: session.account)
            return try await redirect(AdminPath.webhooks, flash: "Webhook \(webhook.name) removed.", session: &session)
        }
    }

    func webhook(_ context: IntakeRequestContext) async throws -> WebhookRecord? {
        guard let name = context.parameters.get("name") else { return nil }
        return try await service.webhooks().first { $0.name == name }
    }

    func renderWebhooks(
        name: String, url: String, events: Set<WebhookEvent>, every: Bool, errors: FormErrors, status: HTTPResponse.Status,
        session: inout AdminSession
    ) async throws -> Response {
        let page = WebhooksPage(webhooks: try await service.webhooks(), name: name, url: url, events: events, every: every, errors: errors)
        return try await render(.webhooks, title: "Webhooks", session: &session, status: status, crumbs: [Crumb.home, Crumb("Webhooks")], model: page)
    }

    @Sendable func addWebhook(_ request: Request, context: IntakeRequestContext, form: SubmittedForm, session: inout AdminSession) async throws
        -> Response
    {
        let name = (form.fields["name"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let url = (form.fields["url"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let events = Set(WebhookEvent.allCases.filter { form.fields[Self.formField($0)] == "on" })
        let every = form.fields["batches"] != "notified"
        var errors = FormErrors()
        do {
            let made = try await service.addWebhook(
                name: name, url: url, events: WebhookEvent.allCases.filter(events.contains).map(\.rawValue), everyBatch: every, by: session.account)
            // Shown once, in the answer to the form; it is not kept anywhere a later page could show it.
            return try await render(
                .webhookCreated, title: "Webhook added", session: &session,
                crumbs: [Crumb.home, Crumb("Webhooks", AdminPath.webhooks), Crumb("Added")],
                model: WebhookCreatedPage(
                    name: made.name, url: made.url, secret: made.secret,
                    events: WebhookRecord.eventsText(made.events).replacingOccurrences(of: ",", with: ", ")))
        } catch let error as WebhookError {
            switch error {
            case .invalidName, .exists: errors.add("name", error.userMessage)
            case .invalidURL: errors.add("url", error.userMessage)
            case .unknownEvent, .noEvents: errors.add("events", error.userMessage)
            case .notFound: errors.add("name", error.userMessage)
            }
        }
        return try await renderWebhooks(name: name, url: url, events: events, every: every, errors: errors, status: .badRequest, session: &session)
    }
}
