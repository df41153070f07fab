import Foundation
import Hummingbird
import IntakeRunner
import IntakeStore

/// Turns failures that are not the client's into clear answers, and logs each once with its cause:
/// a disk without space is 507, a database locked by another process 503 (with `Retry-After`), any
/// other failure 500 with a message instead of an empty body. Handlers keep nothing partial on these
/// paths (uploads are discarded, store writes roll back), so the messages can say so.
struct ErrorReportingMiddleware: RouterMiddleware {
    typealias Context = IntakeRequestContext
    let health: ServiceHealth
    let now: @Sendable () -> Date

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError {
            throw error
        } catch let error as StoreUnavailable {
            health.recordStoreUnavailable(at: now())
            context.logger.error("database unavailable", metadata: ["error": "\(error)", "http.path": "\(request.uri.path)"])
            throw APIError(.serviceUnavailable, "The database is busy: another process holds its lock. Nothing was changed; try again shortly.",
                           headers: [.retryAfter: "5"])
        } catch let error as BlobStoreError {
            context.logger.error("blob store failure", metadata: ["error": "\(error)", "http.path": "\(request.uri.path)"])
            if error.isOutOfSpace {
                throw APIError(HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage"),
                               "Insufficient storage: the server has no room for this upload (a full disk or a quota), so nothing of it was kept. Free some space and try again.")
            }
            throw APIError(.internalServerError, "The server could not store the upload (\(error)); nothing was kept. The server log has the detail.")
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)", "http.path": "\(request.uri.path)"])
            throw APIError(.internalServerError, "The request failed on the server; the server log has the detail.")
        }
    }
}
