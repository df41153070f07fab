import Foundation

/// The document `GET …/status?batch=ID` answers with (the fields the client uses).
package struct BatchStatus: Decodable, Sendable {
    package struct Progress: Decodable, Sendable {
        package var recordsRead: Int
        package var recordsApplied: Int
        package var recordsFailed: Int
        package var recordsUnchanged: Int
        package var bytesRead: Int64
        package var bytesTotal: Int64
    }

    package var identifier: String
    package var state: String
    package var comment: String
    package var dryRun: Bool
    package var progress: Progress
    package var errors: Int

    /// Whether the batch has stopped for good.
    package var isFinished: Bool { ["complete", "dry-run", "error", "cancelled"].contains(state) }
}
