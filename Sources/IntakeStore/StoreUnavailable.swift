import Foundation
import IntakeCore

/// The store could not answer in time: another process holds the database's write lock (a backup,
/// a long transaction) past the wait the store allows, or the database server cannot be reached
/// (restarting, out of connections, gone). The work can be retried: the API answers 503 with
/// `Retry-After`, and a run stops and resumes once the database answers again.
package struct StoreUnavailable: RetryableFailure, Sendable, CustomStringConvertible {
    package let reason: String
    /// The disk under the database is full: writes fail until space is freed (the API answers 507),
    /// while reads go on.
    package let isOutOfSpace: Bool
    package init(reason: String, isOutOfSpace: Bool = false) {
        self.reason = reason
        self.isOutOfSpace = isOutOfSpace
    }
    package var description: String { reason }

    /// SQLite's write lock held by another process.
    package static let locked = StoreUnavailable(reason: "the database is locked by another process")
    package var isLock: Bool { reason == Self.locked.reason }

    package static let outOfSpace = StoreUnavailable(reason: "the disk under the database is full", isOutOfSpace: true)
}

/// The store's own data is not as it must be (a row every database has is missing): a retry will not
/// get over it, so unlike `StoreUnavailable` it fails the work.
package struct StoreDamaged: Error, Sendable, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}
