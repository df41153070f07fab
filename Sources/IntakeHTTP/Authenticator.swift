import Foundation
import Hummingbird
import IntakeStore
import Logging

/// HTTP Basic authentication with API keys: the user name is ignored, the password is the key.
/// Only the key's SHA-256 is stored; the store compares it with every active key's hash in constant time.
/// Every failure is logged with the client's address and the reason, never with the key; an address
/// with too many failures is refused for a while (`FailedAuthenticationLimiter`).
struct Authenticator: Sendable {
    let store: any APIKeyStore
    let now: @Sendable () -> Date
    let limiter: FailedAuthenticationLimiter
    let logger: Logger

    init(
        store: any APIKeyStore, now: @escaping @Sendable () -> Date, limiter: FailedAuthenticationLimiter = FailedAuthenticationLimiter(),
        logger: Logger = Logger(label: "intake.auth")
    ) {
        self.store = store
        self.now = now
        self.limiter = limiter
        self.logger = logger
    }

    func authenticate(_ request: Request, context: IntakeRequestContext, scope: APIScope) async throws -> APIKeyRecord {
        let record = try await identify(request, context: context)
        guard covers(record, scope, request: request, context: context) else { throw APIError.forbidden }
        return record
    }

    /// The live key a request carries, whatever its scope; 401 (or 429) otherwise.
    func identify(_ request: Request, context: IntakeRequestContext) async throws -> APIKeyRecord {
        let address = context.remoteAddress ?? "unknown"
        if let seconds = limiter.retryAfter(address, now: now()) {
            throw APIError(
                .tooManyRequests, "Too many failed authentication attempts from this address; try again in \(seconds) s",
                headers: [.retryAfter: "\(seconds)"])
        }
        func fail(_ reason: String, _ error: APIError = .unauthorized) -> APIError {
            limiter.recordFailure(address, now: now())
            logger.warning(
                "authentication failed",
                metadata: [
                    "client.address": "\(address)", "intake.reason": "\(reason)",
                    "http.path": "\(request.uri.path)"
                ])
            return error
        }
        guard let header = request.headers[.authorization] else { throw fail("no credentials") }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let decoded = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
            let credentials = String(data: decoded, encoding: .utf8),
            let colon = credentials.firstIndex(of: ":")
        else {
            throw fail("malformed Authorization header")
        }
        let key = String(credentials[credentials.index(after: colon)...])
        guard !key.isEmpty, let record = try await store.useAPIKey(hash: APIKeyHashing.hash(key), now: now()) else {
            throw fail("unknown or revoked key")
        }
        return record
    }

    /// Whether a key's scope covers `scope`; a refusal is logged.
    func covers(_ record: APIKeyRecord, _ scope: APIScope, request: Request, context: IntakeRequestContext) -> Bool {
        guard record.scope.covers(scope) else {
            logger.warning(
                "authentication failed",
                metadata: [
                    "client.address": "\(context.remoteAddress ?? "unknown")",
                    "intake.reason": "scope \(record.scope.rawValue) does not cover \(scope.rawValue)",
                    "intake.key.id": "\(record.id)", "http.path": "\(request.uri.path)"
                ])
            return false
        }
        return true
    }
}
