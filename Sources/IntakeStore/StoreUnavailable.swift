import Foundation

/// The store could not answer in time: another process holds the database's write lock (a backup,
/// a long transaction) past the wait the store allows. The request can be retried; the API answers 503.
package struct StoreUnavailable: Error, Sendable, CustomStringConvertible {
    package let reason: String
    package init(reason: String) { self.reason = reason }
    package var description: String { reason }
}
