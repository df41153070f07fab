import Foundation

/// The document `GET …/status?batch=ID` answers with (the fields the client uses).
package struct BatchStatus: Decodable, Sendable {
    package struct Progress: Decodable, Sendable {
        package var recordsRead: Int
        package var recordsApplied: Int
        package var recordsFailed: Int
        package var recordsUnchanged: Int
        /// Feeds only (older servers send neither).
        package var recordsSkipped: Int?
        package var recordsLeft: Int?
        /// All-or-nothing batches that applied nothing (older servers do not send it).
        package var recordsNotApplied: Int?
        package var bytesRead: Int64
        package var bytesTotal: Int64
    }

    package var identifier: String
    package var state: String
    package var comment: String
    package var dryRun: Bool
    package var progress: Progress
    package var errors: Int
    package var feed: String?
    package var summary: Summary?
    package var held: Held?

    /// What the batch changed (docs/feeds.md "Summaries").
    package struct Summary: Decodable, Sendable {
        package struct Counts: Decodable, Sendable {
            package var created: Int
            package var updated: Int
            package var unchanged: Int
            package var deleted: Int
        }
        package var destinations: [String: Counts]
        package var skipped: Int
        package var left: Int
        package var failed: Int
    }

    /// Why a held batch waits.
    package struct Held: Decodable, Sendable {
        package var reason: String
        package var count: Int
        package var of: Int
        package var limit: String
    }

    /// Whether the batch has stopped for good.
    package var isFinished: Bool { ["complete", "dry-run", "error", "cancelled", "held", "rolled-back"].contains(state) }
}
