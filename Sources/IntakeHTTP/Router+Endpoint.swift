import Hummingbird

extension Router where Context == IntakeRequestContext {
    /// Registers a handler and answers every other common method on the same path with 405.
    func addEndpoint(_ path: String, method: HTTPRequest.Method,
                     handler: @escaping @Sendable (Request, IntakeRequestContext) async throws -> Response) {
        on(RouterPath(path), method: method, use: handler)
        for other in [HTTPRequest.Method.get, .post, .put, .delete, .patch] where other != method {
            on(RouterPath(path), method: other) { _, _ -> Response in throw APIError.methodNotAllowed }
        }
    }
}
