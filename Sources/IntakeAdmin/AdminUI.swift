import Foundation
import HTTPTypes
import Hummingbird
import IntakeApp
import IntakeCore
import IntakeHTTP
import IntakeRunner
import IntakeStore
import Logging

/// The admin web UI under `/admin` (docs/admin-ui.md): server-rendered pages over the same
/// application core as the HTTP API and the CLI (`ImportService`, `AdminAccounts`). Handlers read a
/// form, call the core and render a template; they hold no business rules of their own.
package struct AdminUI: Sendable {
    let service: ImportService
    let accounts: AdminAccounts
    let sessions: AdminSessions
    let limiter = SignInLimiter()
    let renderer: AdminRenderer
    let forms: FormReader
    /// The sign-in form comes from anyone: small, and never a file.
    let signInForms: FormReader
    let maxUploadBytes: Int64
    let logger: Logger

    var environment: ImportEnvironment { service.environment }
    var store: any BatchStore { environment.store }

    package init(environment: ImportEnvironment, maxUploadBytes: Int64, behindTLS: Bool, logger: Logger) throws {
        self.service = ImportService(environment: environment)
        self.accounts = AdminAccounts(store: environment.store, now: environment.now)
        self.sessions = AdminSessions(store: environment.store, now: environment.now, secure: behindTLS)
        self.renderer = try AdminRenderer()
        // Form parts named file or file_N are streamed to the blob store like API uploads.
        self.forms = FormReader(blobs: environment.blobs, maxUploadBytes: maxUploadBytes) { $0.hasPrefix("file_") }
        self.signInForms = FormReader(blobs: environment.blobs, maxUploadBytes: Self.maxSignInBytes)
        self.maxUploadBytes = maxUploadBytes
        self.logger = logger
    }

    static let maxSignInBytes: Int64 = 16 * 1024

    package func addRoutes(to router: Router<IntakeRequestContext>) {
        let admin = router.group("admin").add(middleware: AdminResponseMiddleware(renderer: renderer))
        admin.get("static/:file", use: staticFile)
        admin.get("login", use: signInPage)
        admin.post("login", use: signIn)
        get(admin, "logout") { _, _, session in try await render(.logout, title: "Sign out", session: &session, model: EmptyPage()) }
        post(admin, "logout") { _, _, form, session in
            try await sessions.end(session)
            try await audit("sign-out", detail: session.account)
            var response = redirect(AdminPath.login + "?signed-out=1")
            response.headers[.setCookie] = sessions.clearingCookie
            return response
        }
        get(admin, "", use: home)
        addControlFileRoutes(admin)
        addBatchRoutes(admin)
        addFeedRoutes(admin)
        addAPIKeyRoutes(admin)
        addWebhookRoutes(admin)
        addPushAPIRoutes(admin)
        addModelRoutes(admin)
        addAccountRoutes(admin)
        addObjectRoutes(admin)
    }

    // MARK: Signed-in routes

    typealias PageHandler = @Sendable (Request, IntakeRequestContext, inout AdminSession) async throws -> Response
    typealias FormHandler = @Sendable (Request, IntakeRequestContext, SubmittedForm, inout AdminSession) async throws -> Response

    func get(_ group: RouterGroup<IntakeRequestContext>, _ path: String, use handler: @escaping PageHandler) {
        let needed = AdminAccess.role(forGet: path)
        group.get(RouterPath(path)) { request, context in
            switch try await sessions.find(request) {
            case .none: return signInRedirect(request, expired: false)
            case .expired: return signInRedirect(request, expired: true)
            case .active(var session):
                context.requester.authenticated(as: "admin " + session.account)
                guard session.role.allows(needed) else { return forbidden(needed, session: session) }
                return try await handler(request, context, &session)
            }
        }
    }

    /// A POST handler: signed in, same origin, the form's `csrf` field matching the session's token.
    /// Otherwise nothing is done: streamed files are discarded with the form.
    func post(_ group: RouterGroup<IntakeRequestContext>, _ path: String, use handler: @escaping FormHandler) {
        let needed = AdminAccess.role(forPost: path)
        group.post(RouterPath(path)) { request, context in
            let session: AdminSession
            switch try await sessions.find(request) {
            case .none: return signInRedirect(request, expired: false)
            case .expired: return signInRedirect(request, expired: true)
            case .active(let active): session = active
            }
            context.requester.authenticated(as: "admin " + session.account)
            guard isSameOrigin(request) else { return formExpired(session) }
            let form: SubmittedForm
            do {
                form = try await forms.read(request)
            } catch let error as APIError where error.status == .contentTooLarge {
                return renderer.message(
                    status: .contentTooLarge, title: "File too large",
                    text: "The upload is larger than this server accepts (\(maxUploadBytes) bytes, \(Format.size(maxUploadBytes))). Nothing was kept.",
                    session: session)
            }
            guard let token = form.fields["csrf"], constantTimeEqual(token, session.csrfToken) else { return formExpired(session) }
            guard session.role.allows(needed) else { return forbidden(needed, session: session) }
            var mutable = session
            return try await handler(request, context, form, &mutable)
        }
    }

    /// A page or change the account's role does not allow: 403, whatever the page it came from showed.
    func forbidden(_ needed: AdminRole, session: AdminSession) -> Response {
        renderer.message(
            status: .forbidden, title: "Not allowed",
            text: "Your account (\(session.role.rawValue)) cannot do this: it needs the \(needed.rawValue) role. Ask an admin.", session: session)
    }

    func formExpired(_ session: AdminSession?) -> Response {
        renderer.message(
            status: .forbidden, title: "Form expired", text: "This form has expired. Go back, reload the page and try again.", session: session)
    }

    /// `Origin` (or else `Referer`), when the browser sends one, must be this server.
    func isSameOrigin(_ request: Request) -> Bool {
        guard let host = request.head.authority else { return true }
        let origin = "\(sessions.secure ? "https" : "http")://\(host)"
        if let given = request.headers[.origin] { return given == origin }
        if let referer = request.headers[.referer] { return referer == origin || referer.hasPrefix(origin + "/") }
        return true
    }

    func signInRedirect(_ request: Request, expired: Bool) -> Response {
        var next = request.uri.path
        if request.method == .get, let query = request.uri.query, !query.isEmpty { next += "?" + query }
        let encoded = next.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "/-_.:"))) ?? AdminPath.home
        return redirect(AdminPath.login + "?next=\(encoded)" + (expired ? "&expired=1" : ""))
    }

    // MARK: Rendering

    /// Renders a page for a signed-in admin from its typed model, showing (and so using up) the
    /// session's flash.
    func render<Model: Sendable>(
        _ template: AdminTemplate, title: String, session: inout AdminSession, status: HTTPResponse.Status = .ok, crumbs: [Crumb] = [],
        model: Model, refresh: Bool = false
    ) async throws -> Response {
        let flash = session.data.flash
        session.data.flash = nil
        try await sessions.save(session)
        return renderer.page(template, title: title, session: session, flash: flash, status: status, crumbs: crumbs, model: model, refresh: refresh)
    }

    /// Redirects (303) after a successful POST, with a one-time notice for the next page.
    func redirect(_ location: String, flash: String, session: inout AdminSession) async throws -> Response {
        session.data.flash = flash
        try await sessions.save(session)
        return redirect(location)
    }

    func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    func notFound(_ what: String, session: AdminSession) -> Response {
        renderer.message(status: .notFound, title: "Not found", text: "\(what) was not found.", session: session)
    }

    func notPossible(_ message: String, back: String, session: AdminSession) -> Response {
        renderer.message(status: .conflict, title: "Not possible", text: message, session: session, back: back)
    }

    func audit(_ event: String, batch: BatchID? = nil, detail: String) async throws {
        try await store.recordAudit(event: event, batch: batch, detail: detail, now: environment.now())
    }

    // MARK: Static files

    @Sendable func staticFile(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let name = context.parameters.get("file") ?? ""
        guard let file = renderer.staticFiles[name] else { throw HTTPError(.notFound) }
        return Response(
            status: .ok,
            headers: [.contentType: file.contentType, .cacheControl: "public, max-age=3600", .eTag: file.etag],
            body: .init(byteBuffer: ByteBuffer(string: file.text)))
    }
}

/// One item of a page's breadcrumb trail; the last has no link.
struct Crumb: Sendable {
    var label: String
    var href: String?

    init(_ label: String, _ href: String? = nil) {
        self.label = label
        self.href = href
    }
}

/// Compares without an early exit, so the time taken does not tell how much of a guess was right.
func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var difference: UInt8 = 0
    for i in x.indices { difference |= x[i] ^ y[i] }
    return difference == 0
}

/// Security headers on every admin response: a policy that allows only this server's own scripts,
/// styles and images and no framing, no MIME sniffing, no referrer to other sites, and no caching of
/// pages (they show object data, logs and, once, keys). Static files may be cached.
struct AdminResponseMiddleware: RouterMiddleware {
    typealias Context = IntakeRequestContext
    let renderer: AdminRenderer

    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; "
        + "frame-ancestors 'none'; base-uri 'none'"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            response = renderer.message(status: .notFound, title: "Not found", text: "There is no page at \(request.uri.path).", session: nil)
        }
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "same-origin"
        response.headers[.xFrameOptions] = "DENY"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}
