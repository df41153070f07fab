import Foundation
import Hummingbird
import IntakeHTTP
import IntakeStore

extension AdminUI {
    /// Where to go after signing in: only a local `/admin` path, so the parameter cannot send a
    /// signed-in admin to another site.
    static func safeNext(_ next: String?) -> String {
        guard let next, next == AdminPath.home || next.hasPrefix(AdminPath.home + "/") || next.hasPrefix(AdminPath.home + "?"), !next.contains("//"),
            !next.contains("\\")
        else { return AdminPath.home }
        return next
    }

    @Sendable func signInPage(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let query = request.uri.formParameters
        var notice: String?
        if query["expired"] != nil { notice = "Your session has expired. Please sign in again." }
        if query["signed-out"] != nil { notice = "You have signed out." }
        if case .active = try await sessions.find(request), query["next"] == nil { return redirect(AdminPath.home) }
        return renderer.page(
            .login, title: "Sign in", session: nil, model: SignInPage(next: Self.safeNext(query["next"].map(String.init)), notice: notice))
    }

    @Sendable func signIn(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        guard isSameOrigin(request) else { return formExpired(nil) }
        let form: SubmittedForm
        do {
            form = try await signInForms.read(request)
        } catch let error as APIError where error.status == .contentTooLarge {
            return renderer.message(
                status: .contentTooLarge, title: "Sign in", text: "This is more than a sign-in form holds.", session: nil, back: AdminPath.login)
        }
        let username = form.fields["username"] ?? ""
        let password = form.fields["password"] ?? ""
        let next = Self.safeNext(form.fields["next"])
        let address = context.remoteAddress ?? "unknown"
        let now = environment.now()
        // A locked name or address is refused without a bcrypt check, with the same words as a wrong
        // password: the answer says nothing about whether the account exists.
        let locked = limiter.isLocked(account: username, address: address, now: now)
        let valid = locked ? false : try await accounts.verify(name: username, password: password)
        guard valid else {
            limiter.recordFailure(account: username, address: address, now: now)
            try await audit("sign-in failed", detail: "\(username) from \(address)\(locked ? " (locked)" : "")")
            // Also in the server log, for alerting on guessing; never the password.
            logger.notice(
                "admin sign-in refused",
                metadata: ["intake.account": "\(username)", "client.address": "\(address)", "intake.locked": "\(locked)"])
            return renderer.page(
                .login, title: "Sign in", session: nil, status: .unauthorized,
                model: SignInPage(next: next, username: username, error: "Incorrect username or password."))
        }
        let cookie = try await sessions.start(account: username, replacing: request)
        try await audit("sign-in", detail: "\(username) from \(address)")
        var response = redirect(next)
        response.headers[.setCookie] = cookie
        return response
    }

    @Sendable func home(_ request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws -> Response {
        let reachable = (try? await store.ping()) != nil
        let active = try await store.batches(matching: BatchFilter(states: [.held, .running, .scheduled]), limit: 20, offset: 0)
        let finished = try await store.batches(matching: BatchFilter(states: [.complete, .dryRun, .error, .cancelled, .rolledBack]), limit: 5, offset: 0)
        return try await render(
            .home, title: "Data import", session: &session,
            model: HomePage(databaseReachable: reachable, active: active, feeds: try await store.feeds(), finished: finished))
    }
}
