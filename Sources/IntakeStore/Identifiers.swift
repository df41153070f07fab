import Crypto
import Foundation
import IntakeCore

/// A lowercase hex SHA-256 of uploaded bytes (64 characters).
package struct Digest: Hashable, Sendable, Codable, CustomStringConvertible {
    package let hex: String

    package init?(hex: String) {
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { return nil }
        self.hex = hex
    }

    package init(_ digest: SHA256.Digest) {
        self.hex = digest.map { String(format: "%02x", $0) }.joined()
    }

    /// The digest of bytes held in memory.
    package init(of bytes: [UInt8]) { self.init(SHA256.hash(data: bytes)) }

    package var description: String { hex }
}

/// A batch identifier: 26 base32 characters from 130 random bits, URL-safe and unguessable.
package struct BatchID: Hashable, Sendable, Codable, CustomStringConvertible {
    package let rawValue: String

    package init(rawValue: String) { self.rawValue = rawValue }

    package static func random() -> BatchID {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        return BatchID(rawValue: String((0..<26).map { _ in alphabet[Int(generator.next() % 32)] }))
    }

    package var description: String { rawValue }
}

/// The batch lifecycle of docs/api.md.
package enum BatchState: String, Sendable, Codable, CaseIterable {
    case uploading, ready, scheduled, running, complete
    case dryRun = "dry-run"
    case error, cancelled
    /// A feed's guard stopped the run until someone approves or cancels it (docs/feeds.md).
    case held
    /// A complete batch that was rolled back (docs/api.md `rollback`); final.
    case rolledBack = "rolled-back"
}

package enum APIScope: String, Sendable, Codable, CaseIterable {
    case batch, read, push, all

    package func covers(_ needed: APIScope) -> Bool { self == .all || self == needed }
}

/// A key narrowed to one job (docs/api.md "Keys and scopes"): one push API, or the batches of one
/// feed.
package enum APIKeyRestriction: Sendable, Equatable {
    case pushAPI(String)
    case feed(String)

    /// As stored and listed: `push-api:NAME`, `feed:NAME`.
    package var text: String {
        switch self {
        case .pushAPI(let name): "push-api:" + name
        case .feed(let name): "feed:" + name
        }
    }

    package init?(text: String) {
        if text.hasPrefix("push-api:") {
            self = .pushAPI(String(text.dropFirst("push-api:".count)))
        } else if text.hasPrefix("feed:") {
            self = .feed(String(text.dropFirst("feed:".count)))
        } else {
            return nil
        }
    }
}

/// What an admin UI account may do (docs/admin-ui.md "Roles"): a viewer reads every page and
/// changes nothing; an operator also runs batches (uploads, dry runs, imports, approvals, retries,
/// rollbacks); an admin also manages keys, accounts, push APIs and webhooks.
package enum AdminRole: String, Sendable, CaseIterable, Codable {
    case viewer
    case `operator`
    case admin

    private var rank: Int {
        switch self {
        case .viewer: 0
        case .operator: 1
        case .admin: 2
        }
    }

    /// Whether this role may do what `needed` may.
    package func allows(_ needed: AdminRole) -> Bool { rank >= needed.rank }
}

/// ISO 8601 timestamps, UTC, whole seconds.
package enum Timestamp {
    package static func string(_ date: Date) -> String {
        CivilTime.iso8601(seconds: Int64(date.timeIntervalSince1970.rounded(.down)))
    }
}
