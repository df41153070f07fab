import Crypto
import Foundation

enum SHA256Hashing {
    static func hash(_ data: Data) -> SHA256.Digest { SHA256.hash(data: data) }
}
