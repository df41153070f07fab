import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import IntakeStore
import Synchronization

/// A signed-in admin's session as a request sees it: the stored record plus its decoded data.
struct AdminSession: Sendable {
    var record: AdminSessionRecord
    var data: SessionData
    /// The account's role as the request found it (a change applies from the next request).
    var role: AdminRole = .admin
    var account: String { record.account }
    var csrfToken: String { record.csrfToken }
}

/// The small state a session carries between requests. Kept in the session row (never in the
/// cookie), so it is gone when the session ends.
struct SessionData: Codable, Sendable, Equatable {
    /// A one-time notice for the next page.
    var flash: String?
    /// A key just created, shown once on its "created" page and then forgotten.
    var createdKey: CreatedKey?
    /// Files received by a refused "new batch" form, offered again so they need not be re-sent.
    var pendingFiles: [PendingFile]?

    struct CreatedKey: Codable, Sendable, Equatable {
        var id: Int64
        var key: String
    }

    struct PendingFile: Codable, Sendable, Equatable {
        var token: String
        var digest: String
        var size: Int64
        var filename: String
        var received: Date
    }
}

/// Sessions in the store, identified by a random token in a cookie. Only the token's SHA-256 is
/// stored. Idle sessions end after 60 minutes, any session after 12 hours.
struct AdminSessions: Sendable {
    let store: any BatchStore
    let now: @Sendable () -> Date
    /// Over HTTPS (behind a TLS proxy) the cookie is `Secure` and uses the `__Host-` prefix, which
    /// browsers accept only from secure origins with `Path=/` and no `Domain`.
    let secure: Bool
    static let idleTimeout: TimeInterval = 60 * 60
    static let absoluteLifetime: TimeInterval = 12 * 60 * 60

    var cookieName: String { secure ? "__Host-intake_session" : "intake_session" }

    enum Lookup {
        case none
        case expired
        case active(AdminSession)
    }

    static func randomToken() -> String {
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    func token(in request: Request) -> String? {
        for field in request.headers[values: .cookie] {
            for pair in field.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if parts.count == 2, parts[0] == cookieName, !parts[1].isEmpty { return parts[1] }
            }
        }
        return nil
    }

    func find(_ request: Request) async throws -> Lookup {
        guard let token = token(in: request) else { return .none }
        guard let record = try await store.adminSession(idHash: Self.hash(token)) else { return .expired }
        let now = now()
        if now.timeIntervalSince(record.lastSeen) > Self.idleTimeout || now.timeIntervalSince(record.created) > Self.absoluteLifetime {
            try await store.deleteAdminSession(idHash: record.idHash)
            return .expired
        }
        // An account disabled or deleted since signing in has no session any more (its rows are
        // deleted with it; this also covers a store changed by another process mid-request).
        guard let account = try await store.adminAccount(name: record.account), !account.disabled else {
            try await store.deleteAdminSession(idHash: record.idHash)
            return .expired
        }
        let data = (try? JSONDecoder().decode(SessionData.self, from: Data(record.data.utf8))) ?? SessionData()
        return .active(AdminSession(record: record, data: data, role: account.role))
    }

    /// A new session for an account that just signed in; returns the cookie to set. Any previous
    /// session of this browser is ended first, so the identifier changes at sign-in.
    func start(account: String, replacing request: Request) async throws -> String {
        if let old = token(in: request) { try await store.deleteAdminSession(idHash: Self.hash(old)) }
        let token = Self.randomToken()
        let now = now()
        try await store.createAdminSession(
            AdminSessionRecord(idHash: Self.hash(token), account: account, csrfToken: Self.randomToken(), created: now, lastSeen: now))
        _ = try? await store.deleteAdminSessions(
            idleBefore: now.addingTimeInterval(-Self.idleTimeout), createdBefore: now.addingTimeInterval(-Self.absoluteLifetime))
        return cookie(token)
    }

    /// Saves the session's data and restarts its idle time.
    func save(_ session: AdminSession) async throws {
        let data = String(decoding: try JSONEncoder().encode(session.data), as: UTF8.self)
        try await store.updateAdminSession(idHash: session.record.idHash, lastSeen: now(), data: data)
    }

    func end(_ session: AdminSession) async throws {
        try await store.deleteAdminSession(idHash: session.record.idHash)
    }

    func cookie(_ token: String) -> String {
        "\(cookieName)=\(token); Path=/; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    var clearingCookie: String {
        "\(cookieName)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }
}

/// Failed sign-ins: five for one account name within 15 minutes lock that name for 15 minutes, and
/// twenty from one address do the same for the address. In memory, per process: a restart forgets,
/// which only shortens a lock; bcrypt's cost bounds guessing in any case.
final class SignInLimiter: Sendable {
    static let window: TimeInterval = 15 * 60
    static let perAccount = 5
    static let perAddress = 20
    private let failures = Mutex<[String: [Date]]>([:])

    func isLocked(account: String, address: String, now: Date) -> Bool {
        failures.withLock { failures in
            let recentAccount = failures["account:" + account.lowercased(), default: []].filter { now.timeIntervalSince($0) < Self.window }
            let recentAddress = failures["address:" + address, default: []].filter { now.timeIntervalSince($0) < Self.window }
            return recentAccount.count >= Self.perAccount || recentAddress.count >= Self.perAddress
        }
    }

    func recordFailure(account: String, address: String, now: Date) {
        failures.withLock { failures in
            for key in ["account:" + account.lowercased(), "address:" + address] {
                failures[key] = failures[key, default: []].filter { now.timeIntervalSince($0) < Self.window } + [now]
            }
            if failures.count > 10_000 {
                failures = failures.filter { $0.value.contains { now.timeIntervalSince($0) < Self.window } }
            }
        }
    }
}
