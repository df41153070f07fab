import Foundation
import Hummingbird
import IntakeCore
import IntakeRunner
import IntakeStore

/// Renders every refusal and failure the same way: a `UserFacingError` becomes its status and
/// message (text/plain), and anything else a 500 with a message instead of an empty body. Failures of
/// the server itself are logged once here, with their cause; a locked database also makes `/ready`
/// report it for a while. Handlers keep nothing partial on these paths (uploads are discarded, store
/// writes roll back), which is why the messages can say so.
struct ErrorReportingMiddleware: RouterMiddleware {
    typealias Context = IntakeRequestContext
    let health: ServiceHealth
    let now: @Sendable () -> Date

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError {
            throw error
        } catch let error as any UserFacingError {
            if let unavailable = error as? StoreUnavailable {
                health.recordStoreUnavailable(at: now(), reason: unavailable.reason)
            } else if error.kind == .unavailable {
                health.recordStoreUnavailable(at: now())
            }
            if error.isServerFailure {
                context.logger.error("request failed", metadata: ["error": "\(error)", "http.path": "\(request.uri.path)"])
            }
            var headers: HTTPFields = [:]
            if error.kind == .unavailable { headers[.retryAfter] = "5" }
            throw APIError(Self.status(error.kind), error.userMessage, headers: headers)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)", "http.path": "\(request.uri.path)"])
            throw APIError(.internalServerError, "The request failed on the server; the server log has the detail.")
        }
    }

    static func status(_ kind: ErrorKind) -> HTTPResponse.Status {
        switch kind {
        case .invalidRequest: .badRequest
        case .tooLarge: .contentTooLarge
        case .conflict: .conflict
        case .unavailable: .serviceUnavailable
        case .insufficientStorage: HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage")
        case .internalFailure: .internalServerError
        }
    }
}
