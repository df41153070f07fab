import Hummingbird
import IntakeApp
import IntakeStore
import Logging

/// `POST /api/push-data/NAME` (docs/push-apis.md): a push API's call, answered as the original's
/// "REST APIs for data push" answered. Its checks go in the original's order (the API exists, the
/// key may push, the API is enabled), after the key itself: a request without a live key gets the
/// 401 of every other endpoint and learns nothing about which APIs exist.
struct PushAPIController: Sendable {
    let service: ImportService
    let authenticator: Authenticator
    let logger: Logger

    func addRoutes(to router: Router<IntakeRequestContext>) {
        router.on(RouterPath(APIPath.pushData + "/:name"), method: .post, use: push)
        router.on(RouterPath(APIPath.pushData + "/:name"), method: .get) { _, _ in
            PushResponse.response(.refused(PushOutcome.onlyPOST), format: .json, withActions: false)
        }
    }

    func push(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let key = try await authenticator.identify(request, context: context)
        var context = context
        context.apiKey = key
        context.requester.authenticated(as: key.name)
        let name = context.parameters.get("name") ?? ""
        guard let api = try await service.pushAPI(named: name) else { return PushResponse.response(.notDefined(name), format: .json) }
        // A key for one push API (or one feed) may not call the others.
        guard authenticator.covers(key, .push, request: request, context: context), key.restriction.map({ $0 == .pushAPI(name) }) ?? true
        else {
            return PushResponse.response(.notAuthorised, format: .json)
        }
        guard api.enabled else { return PushResponse.response(.disabled(name), format: api.response) }
        var body = ByteBuffer()
        for try await var chunk in request.body {
            guard body.readableBytes + chunk.readableBytes <= api.bodyLimit else {
                throw APIError(.contentTooLarge, "Request body too large: push API \(name) takes at most \(api.bodyLimit) bytes")
            }
            body.writeBuffer(&chunk)
        }
        let outcome = try await service.push(to: api, body: Array(buffer: body), by: "push \(name) (key \(key.name))", logger: logger)
        return PushResponse.response(outcome, format: api.response)
    }
}
