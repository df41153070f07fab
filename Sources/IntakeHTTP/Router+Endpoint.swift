import Hummingbird

extension Router where Context == IntakeRequestContext {
    /// Registers a handler, answers HEAD like GET without the body, and every other method on the
    /// same path with 405 and an `Allow` header (API.md: wrong method on a known path is 405).
    func addEndpoint(_ path: String, method: HTTPRequest.Method,
                     handler: @escaping @Sendable (Request, IntakeRequestContext) async throws -> Response) {
        on(RouterPath(path), method: method, use: handler)
        var allowed = [method]
        if method == .get {
            allowed.append(.head)
            on(RouterPath(path), method: .head) { request, context -> Response in
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
}
