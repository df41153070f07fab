import IntakeStore

/// What a server's first start makes so that someone can sign in: the admin account `admin` with a
/// random password and an API key with the `all` scope, both stored only as hashes. Deciding that
/// (and that it happens once, whichever node sharing a database starts first) is the
/// application's; showing the secrets once is the caller's.
package enum FirstStartCredentials: Sendable, Equatable {
    /// Made now; the secrets exist nowhere else.
    case created(password: String, apiKey: String)
    /// There is an admin account already, or another node made one a moment ago.
    case notNeeded
    /// No admin account, but API keys or an old admin password exist: nothing is made, since the
    /// installation is not new; someone must create an account (`intake admin create NAME`).
    case noAdminAccount
}

extension ImportService {
    package func createFirstStartCredentials() async throws -> FirstStartCredentials {
        let store = environment.store
        guard try await store.adminAccounts().isEmpty else { return .notNeeded }
        guard try await store.apiKeys().isEmpty, try await store.setting("admin.password") == nil else { return .noAdminAccount }
        let password = String(APIKeyHashing.newKey().dropFirst(3).prefix(24))
        do {
            try await AdminAccounts(store: store).create(name: "admin", password: password)
        } catch AdminAccounts.Refusal.exists {
            return .notNeeded
        }
        let (_, key) = try await createAPIKey(name: "initial", scope: .all)
        return .created(password: password, apiKey: key)
    }
}
