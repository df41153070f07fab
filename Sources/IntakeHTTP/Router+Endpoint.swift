import Hummingbird
import IntakeStore

extension Router where Context == IntakeRequestContext {
    /// Registers a handler (in `group`, behind its middleware, when given), answers HEAD like GET
    /// without the body, and every other method on the same path with 405 and an `Allow` header.
    /// The 405 answers are registered on the bare router, outside any authentication: docs/api.md wants a
    /// wrong method on a known path to be 405 whoever asks.
    func addEndpoint(
        _ path: String, method: HTTPRequest.Method, in group: RouterGroup<Context>? = nil,
        handler: @escaping @Sendable (Request, IntakeRequestContext) async throws -> Response
    ) {
        let target: any RouterMethods<Context> = group ?? self
        target.on(RouterPath(path), method: method, use: handler)
        var allowed = [method]
        if method == .get {
            allowed.append(.head)
            target.on(RouterPath(path), method: .head) { request, context -> Response in
                let response = try await handler(request, context)
                return Response(status: response.status, headers: response.headers, body: ResponseBody())
            }
        }
        let allow = allowed.map(\.rawValue).joined(separator: ", ")
        for other in [HTTPRequest.Method.get, .head, .post, .put, .delete, .patch, .options] where !allowed.contains(other) {
            on(RouterPath(path), method: other) { _, _ -> Response in
                throw APIError(.methodNotAllowed, "Method Not Allowed", headers: [.allow: allow])
            }
        }
    }

    /// A group of routes that need an API key covering `scope`.
    func authenticated(_ scope: APIScope, by authenticator: Authenticator) -> RouterGroup<Context> {
        group().add(middleware: APIKeyMiddleware(scope: scope, authenticator: authenticator))
    }
}

/// API-key authentication for a group of routes: the key must be live and its scope must cover the
/// group's. The key is left in the context for handlers that record who acted.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = IntakeRequestContext
    let scope: APIScope
    let authenticator: Authenticator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let key = try await authenticator.authenticate(request, context: context, scope: scope)
        context.apiKey = key
        context.requester.authenticated(as: key.name)
        return try await next(request, context)
    }
}
