import Foundation
import HummingbirdBcrypt
import IntakeCore
import IntakeStore

/// Accounts of the admin UI: names and bcrypt password hashes (cost 12, hashed off the caller's
/// thread: one hash takes a quarter of a second of CPU).
package struct AdminAccounts: Sendable {
    package let store: any AdminAccountStore
    package let now: @Sendable () -> Date
    package static let bcryptCost: UInt8 = 12
    package static let minimumPasswordLength = 12

    package init(store: any AdminAccountStore, now: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.now = now
    }

    package enum Refusal: UserFacingError, Equatable, CustomStringConvertible {
        case invalidName(String)
        case passwordTooShort
        case exists(String)
        case unknown(String)

        package var kind: ErrorKind {
            switch self {
            case .exists: .conflict
            case .invalidName, .passwordTooShort, .unknown: .invalidRequest
            }
        }

        package var userMessage: String { description }

        package var description: String {
            switch self {
            case .invalidName(let name):
                "Invalid account name: \(name) (use 1 to 64 letters, digits, dots, dashes or underscores)"
            case .passwordTooShort: "The password must have at least \(AdminAccounts.minimumPasswordLength) characters"
            case .exists(let name): "An admin account named \(name) exists already"
            case .unknown(let name): "There is no admin account named \(name)"
            }
        }
    }

    static func checkName(_ name: String) throws(Refusal) {
        let allowed = name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) }
        guard !name.isEmpty, name.count <= 64, allowed else { throw .invalidName(name) }
    }

    static func hash(_ password: String) async throws -> String {
        guard password.count >= minimumPasswordLength else { throw Refusal.passwordTooShort }
        return try await offloaded { Bcrypt.hash(password, cost: bcryptCost) }
    }

    package func create(name: String, password: String, role: AdminRole = .admin) async throws {
        try Self.checkName(name)
        let hash = try await Self.hash(password)
        do {
            try await store.createAdminAccount(name: name, passwordHash: hash, role: role, now: now())
        } catch StoreError.accountExists {
            throw Refusal.exists(name)
        }
    }

    package func changePassword(name: String, password: String) async throws {
        let hash = try await Self.hash(password)
        guard try await store.setAdminPassword(name: name, passwordHash: hash, now: now()) else { throw Refusal.unknown(name) }
    }

    /// Whether the name and password match an account that is not disabled. An unknown name costs a
    /// bcrypt check all the same, so the answer takes as long either way.
    package func verify(name: String, password: String) async throws -> Bool {
        let account = try await store.adminAccount(name: name)
        let hash = account?.passwordHash ?? Self.decoy
        let matches = try await offloaded { Bcrypt.verify(password, hash: hash) }
        return account.map { !$0.disabled } == true && matches
    }

    /// Disables or enables an account; disabling signs it out everywhere.
    package func setDisabled(name: String, _ disabled: Bool) async throws {
        guard try await store.setAdminAccountDisabled(name: name, disabled: disabled) else { throw Refusal.unknown(name) }
    }

    /// Gives an account another role; it applies from the account's next request.
    package func setRole(name: String, _ role: AdminRole) async throws {
        guard try await store.setAdminRole(name: name, role: role) else { throw Refusal.unknown(name) }
    }

    package func delete(name: String) async throws {
        guard try await store.deleteAdminAccount(name: name) else { throw Refusal.unknown(name) }
    }

    /// A hash no password is known for (checked against when the name is unknown).
    static let decoy = Bcrypt.hash(UUID().uuidString + UUID().uuidString, cost: bcryptCost)
}
