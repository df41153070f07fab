import Crypto
import Foundation

/// API keys: 256 random bits, shown once, stored as a SHA-256 hash.
package enum APIKeyHashing {
    package static func newKey() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return "ik_" + bytes.map { String(format: "%02x", $0) }.joined()
    }

    package static func hash(_ key: String) -> String {
        Digest(SHA256.hash(data: Data(key.utf8))).hex
    }

    /// Compares two strings in time that depends only on their length.
    package static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<x.count { difference |= x[i] ^ y[i] }
        return difference == 0
    }
}
