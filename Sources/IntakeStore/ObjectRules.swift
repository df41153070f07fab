import Foundation
import IntakeCore

extension ListObjectDefinition {
    /// The values a list object is created with (title, type, behaviour), the same in every backend.
    package var values: [ObjectValue] {
        [
            ObjectValue(attribute: StandardSchema.titleAttribute, value: .text(.text, title)),
            ObjectValue(attribute: StandardSchema.typeAttribute, value: .objectType(type)),
            ObjectValue(attribute: StandardSchema.behaviourAttribute, value: .text(.configurationName, behaviour))
        ]
    }
}

/// What rolling back a batch does to one object, decided from the object's versions alone, so every
/// backend rolls back the same way: an object the batch created is deleted, one it changed goes back
/// to the version before the batch's first, and one that a later change touched is left alone and
/// reported as a conflict.
///
/// Batches can be rolled back newest first: a rollback's own restore is a later version, but one
/// that leaves exactly what the earlier batch wrote (the same values, deleted or not) is no
/// conflict for that batch.
package enum RollbackStep: Equatable, Sendable {
    case delete
    case restore(version: Int)
    case conflict

    /// How the versions a rollback writes are labelled (their `batch`), so history shows it.
    package static func restorerLabel(rollingBack batch: String) -> String { "rollback of \(batch)" }

    /// - Parameter versions: the object's versions in order, each with the batch that wrote it and
    ///   what it holds (anything equal when the values and the deleted flag are).
    package static func plan<State: Equatable>(
        versions: [(version: Int, batch: String?, state: State)], rollingBack batch: String
    ) -> RollbackStep {
        guard let latest = versions.last, let last = versions.last(where: { $0.batch == batch }),
            let first = versions.first(where: { $0.batch == batch })
        else { return .conflict }
        if latest.version != last.version {
            guard latest.batch?.hasPrefix(restorerLabel(rollingBack: "")) == true, latest.state == last.state else { return .conflict }
        }
        if first.version == 1 { return .delete }
        guard versions.contains(where: { $0.version == first.version - 1 }) else { return .conflict }
        return .restore(version: first.version - 1)
    }
}

/// What a rollback did, for the API's answer and the line it adds to the batch's log.
package struct RollbackOutcome: Sendable, Equatable {
    /// Objects the batch created: each got a deleted version.
    package var deleted = 0
    /// Objects the batch changed: each went back to the version before the batch.
    package var restored = 0
    /// Objects left alone because a later change touched them, by ref.
    package var conflicts: [ObjectRef] = []

    package init(deleted: Int = 0, restored: Int = 0, conflicts: [ObjectRef] = []) {
        self.deleted = deleted
        self.restored = restored
        self.conflicts = conflicts
    }

    /// The lines the rollback adds to the batch's log: what it did, who did it and when, and the
    /// refs it left alone (on a line of their own, so the first line stays short).
    package func logLines(by: String, now: Date) -> [String] {
        let objects = deleted == 1 ? "object" : "objects"
        var lines = [
            "ROLLED BACK: \(Timestamp.string(now)) by \(by): \(deleted) \(objects) deleted, \(restored) restored, "
                + "\(conflicts.count) left alone because later changes touched them"
        ]
        if !conflicts.isEmpty { lines.append("LEFT ALONE: " + conflicts.map(\.text).joined(separator: " ")) }
        return lines
    }
}
