import Foundation
import Hummingbird
import IntakeStore

/// HTTP Basic authentication with API keys: the user name is ignored, the password is the key.
/// Only the key's SHA-256 is stored; the store compares it with every active key's hash in constant time.
struct Authenticator: Sendable {
    let store: any BatchStore
    let now: @Sendable () -> Date

    func authenticate(_ request: Request, scope: APIScope) async throws -> APIKeyRecord {
        guard let header = request.headers[.authorization] else { throw APIError.unauthorized }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
              let decoded = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
              let credentials = String(data: decoded, encoding: .utf8),
              let colon = credentials.firstIndex(of: ":") else {
            throw APIError.unauthorized
        }
        let key = String(credentials[credentials.index(after: colon)...])
        guard !key.isEmpty, let record = try await store.useAPIKey(hash: APIKeyHashing.hash(key), now: now()) else {
            throw APIError.unauthorized
        }
        guard record.scope.covers(scope) else { throw APIError.forbidden }
        return record
    }
}
