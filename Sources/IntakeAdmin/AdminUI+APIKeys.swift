import Foundation
import Hummingbird
import IntakeApp
import IntakeCore
import IntakeHTTP
import IntakeStore

extension AdminUI {
    static let maxKeyNameLength = 100
    static let scopeDescriptions: [(APIScope, String)] = [
        (.batch, "upload and run batches"), (.read, "read objects, models and batch summaries"),
        (.push, "call push APIs (/api/push-data/…)"), (.all, "all three")
    ]

    func addAPIKeyRoutes(_ admin: RouterGroup<IntakeRequestContext>) {
        get(admin, "api-keys", use: apiKeysPage)
        get(admin, "api-keys/new") { _, _, session in
            try await renderNewKey(name: "Batch import", scope: .batch, errors: FormErrors(), status: .ok, session: &session)
        }
        post(admin, "api-keys/new", use: createKey)
        get(admin, "api-keys/:kid/created", use: createdKeyPage)
        get(admin, "api-keys/:kid/revoke") { _, context, session in
            guard let key = try await apiKey(context) else { return notFound("API key \(context.parameters.get("kid") ?? "")", session: session) }
            return try await render(
                .confirm, title: "Revoke API key: \(key.name)", session: &session,
                crumbs: [Crumb.home, Crumb("API keys", AdminPath.apiKeys), Crumb("Revoke")],
                model: ConfirmPage(
                    question: "Scripts using this key will be refused from their next request.", button: "Revoke key",
                    action: AdminPath.apiKey(key.id) + "/revoke", back: AdminPath.apiKeys))
        }
        post(admin, "api-keys/:kid/revoke") { _, context, _, session in
            guard let key = try await apiKey(context) else { return notFound("API key \(context.parameters.get("kid") ?? "")", session: session) }
            _ = try await service.revokeAPIKey(id: key.id)
            try await audit("api key revoked", detail: "\(key.id) (\(key.name)) by \(session.account)")
            return try await redirect(AdminPath.apiKeys, flash: "API key \(key.name) revoked.", session: &session)
        }
    }

    func apiKey(_ context: IntakeRequestContext) async throws -> APIKeyRecord? {
        guard let id = context.parameters.get("kid").flatMap({ Int64($0) }) else { return nil }
        return try await service.apiKeys().first { $0.id == id }
    }

    @Sendable func apiKeysPage(_ request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws -> Response {
        let page = APIKeysPage(keys: try await service.apiKeys(), now: environment.now())
        return try await render(.apiKeys, title: "API keys", session: &session, crumbs: [Crumb.home, Crumb("API keys")], model: page)
    }

    func renderNewKey(
        name: String, scope: APIScope, expires: String = "", errors: FormErrors, status: HTTPResponse.Status, session: inout AdminSession
    ) async throws -> Response {
        try await render(
            .apiKeyNew, title: "Create API key", session: &session, status: status,
            crumbs: [Crumb.home, Crumb("API keys", AdminPath.apiKeys), Crumb("Create")],
            model: NewAPIKeyPage(name: name, scope: scope, expires: expires, errors: errors))
    }

    @Sendable func createKey(_ request: Request, context: IntakeRequestContext, form: SubmittedForm, session: inout AdminSession) async throws
        -> Response
    {
        let name = (form.fields["name"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let scope = form.fields["scope"].flatMap(APIScope.init(rawValue:)) ?? .batch
        let expires = (form.fields["expires"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        var errors = FormErrors()
        if name.isEmpty {
            errors.add("name", "Required field")
        } else if name.count > Self.maxKeyNameLength {
            errors.add("name", "At most \(Self.maxKeyNameLength) characters")
        } else if try await service.apiKeys().contains(where: { !$0.revoked && $0.name == name }) {
            errors.add("name", "An active key already has this name")
        }
        var made: (id: Int64, key: String)?
        if errors.isEmpty {
            do {
                made = try await service.createAPIKey(name: name, scope: scope, expiresAfter: expires)
            } catch let error as APIKeyError {
                errors.add("expires", error.userMessage)
            }
        }
        guard let (id, key) = made else {
            return try await renderNewKey(name: name, scope: scope, expires: expires, errors: errors, status: .badRequest, session: &session)
        }
        let until = expires.isEmpty ? "" : ", valid through \(expires)"
        try await audit("api key created", detail: "\(id) (\(name), \(scope.rawValue)\(until)) by \(session.account)")
        session.data.createdKey = SessionData.CreatedKey(id: id, key: key)
        try await sessions.save(session)
        return redirect(AdminPath.apiKey(id) + "/created")
    }

    /// Shows a new key once: it is taken out of the session as it is shown.
    @Sendable func createdKeyPage(_ request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws -> Response {
        guard let record = try await apiKey(context) else { return notFound("API key \(context.parameters.get("kid") ?? "")", session: session) }
        var page = APIKeyCreatedPage(name: record.name, scope: record.scope.rawValue)
        if let created = session.data.createdKey, created.id == record.id {
            page.key = created.key
            session.data.createdKey = nil
        }
        return try await render(
            .apiKeyCreated, title: "API key created", session: &session,
            crumbs: [Crumb.home, Crumb("API keys", AdminPath.apiKeys), Crumb("Created")], model: page)
    }
}
