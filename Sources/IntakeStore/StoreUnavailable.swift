import Foundation

/// The store could not answer in time: another process holds the database's write lock (a backup,
/// a long transaction) past the wait the store allows. The request can be retried; the API answers 503.
public struct StoreUnavailable: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public init(reason: String) { self.reason = reason }
    public var description: String { reason }
}
