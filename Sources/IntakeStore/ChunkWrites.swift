import Foundation
import IntakeCore

/// The writes of part of an import chunk, handed to the store in one call
/// (`ImportTransaction.apply`).
///
/// The engine produces its writes one record at a time; a run collects the ones that need no answer
/// from the store (new objects, dictionary documents, log lines, results, the run position) and
/// passes them over together. This is the seam a networked backend needs: it can send each kind as
/// one multi-row statement or COPY instead of a round trip per record. Saves of existing objects are
/// not in it: their outcome (updated or unchanged) is an answer the engine waits for.
package struct ChunkWrites: Sendable {
    /// A new object with its stored columns worked out where it is made: a run makes these on
    /// its own thread, so the store writer's thread (the slower of the two) only writes them.
    package struct NewObject: Sendable {
        package let ref: ObjectRef
        package let values: [ObjectValue]
        package let encoded: EncodedObject
        package init(ref: ObjectRef, values: [ObjectValue]) {
            self.ref = ref
            self.values = values
            encoded = EncodedObject(values)
        }
    }

    package struct Document: Sendable {
        package var model: String
        package var destination: String
        package var record: String
        package var values: JSONObject
        package init(model: String, destination: String, record: String, values: JSONObject) {
            self.model = model
            self.destination = destination
            self.record = record
            self.values = values
        }
    }

    /// Objects created by this run, in creation order (their refs were reserved by the run).
    package var newObjects: [NewObject] = []
    package var documents: [Document] = []
    /// Log lines to append, the first at index `logStart` of the batch's log.
    package var logLines: [String] = []
    package var logStart = 0
    /// Result lines to append, the first at index `resultStart` of the batch's results.
    package var resultLines: [String] = []
    package var resultStart = 0
    /// The run position to save once everything above is written.
    package var progress: RunProgress?

    package init() {}

    /// How many rows the writes come to, to decide when to hand them over.
    package var count: Int { newObjects.count + documents.count + logLines.count + resultLines.count + (progress == nil ? 0 : 1) }
    package var isEmpty: Bool { count == 0 }

    /// Adds log lines; false (nothing added) when they do not follow the lines already held.
    package mutating func appendLog(_ lines: [String], startingAt index: Int) -> Bool {
        if logLines.isEmpty { logStart = index } else if logStart + logLines.count != index { return false }
        logLines += lines
        return true
    }

    /// Adds result lines; false (nothing added) when they do not follow the lines already held.
    package mutating func appendResults(_ lines: [String], startingAt index: Int) -> Bool {
        if resultLines.isEmpty { resultStart = index } else if resultStart + resultLines.count != index { return false }
        resultLines += lines
        return true
    }
}

extension ImportTransaction {
    /// Saves the object through `save`, working its columns out again.
    package func saveNew(_ object: ChunkWrites.NewObject) throws {
        _ = try save(ref: object.ref, values: object.values, isNew: true)
    }

    /// Applies `writes` one row at a time through the per-record requirements, in the documented
    /// order. A store whose round trips are cheap (an embedded database) can use this as it is.
    package func applyRowByRow(_ writes: ChunkWrites) throws {
        for object in writes.newObjects { try saveNew(object) }
        for document in writes.documents {
            try appendDocument(
                model: document.model, destination: document.destination, record: document.record,
                values: document.values)
        }
        if !writes.logLines.isEmpty { try appendLog(writes.logLines, startingAt: writes.logStart) }
        if !writes.resultLines.isEmpty { try appendResults(writes.resultLines, startingAt: writes.resultStart) }
        if let progress = writes.progress { try saveProgress(progress) }
    }
}

/// The columns every backend stores for one object version, worked out once from its values.
package struct EncodedObject: Sendable {
    /// `ObjectValueStorage.encodedBytes(values)`.
    package let data: [UInt8]
    package let title: String
    package let titles: String
    package let type: String?
    package let behaviour: String?
    package let username: String?

    /// `data`, when given, is `ObjectValueStorage.encodedBytes(values)` already made.
    package init(_ values: [ObjectValue], data: [UInt8]? = nil) {
        self.data = data ?? ObjectValueStorage.encodedBytes(values)
        (title, titles) = ObjectValueStorage.titleColumns(values)
        type = ObjectValueStorage.type(values)
        behaviour = ObjectValueStorage.firstText(values, StandardSchema.behaviourAttribute)
        username = ObjectValueStorage.firstText(values, StandardSchema.usernameAttribute)
    }
}
