import Foundation
import IntakeCore
import IntakeStore

/// The transaction the engine sees while its writes go through a `StoreWriter`.
///
/// Writes that need no answer (new objects, documents, log lines, results, the run position) are
/// collected into `ChunkWrites` and handed to the writer every `rowsPerHandOver` rows, at the end of
/// the chunk, and before any read, so a read sees every earlier write. Reads wait for the writer.
/// Refs are handed out here from ranges reserved in the store (the reservation commits with the
/// chunk it was made in), so a run never waits for the writer to allocate one, and another
/// process's run never gets the same refs.
final class PipelinedTransaction: ImportTransaction, ForwardingFeedTransaction {
    private let writer: StoreWriter
    /// The reserved refs, and the next one to hand out.
    private var reserved: ClosedRange<Int64>?
    private var nextRef: Int64 = 0
    private(set) var readsInChunk = 0
    private var collected = ChunkWrites()

    /// Large, because reserving waits for the writer to catch up with the run loop (docs/DECISIONS.md,
    /// "Measurements behind the code"). The unused end goes back at the end of each file, so refs
    /// stay contiguous all the same.
    static let refsPerReservation = 1_000_000

    /// Small enough that the writer starts on a chunk while the engine is still filling it (the two
    /// overlap on two cores), large enough that the queue is not the cost. The writer's queue holds
    /// 64 hand-overs, about two chunks of records.
    static let rowsPerHandOver = 128

    init(writer: StoreWriter) { self.writer = writer }

    /// Before chunks run in direct transactions, which allocate refs from the stored counter.
    func forgetRefCounter() { reserved = nil }

    /// Called by the run loop at the end of each chunk, before the commit is queued.
    func endChunk() throws {
        try handOver()
        readsInChunk = 0
    }

    /// Gives the unused end of the reservation back to the store (at the end of a file, or before
    /// direct transactions), so refs stay contiguous when nothing else allocated meanwhile.
    func releaseUnusedRefs() throws {
        guard let reserved else { return }
        self.reserved = nil
        if nextRef <= reserved.upperBound {
            try releaseRefs(after: nextRef - 1, reservedThrough: reserved.upperBound)
        }
    }

    /// Sends what has been collected to the writer.
    private func handOver() throws {
        guard !collected.isEmpty else { return }
        let writes = collected
        collected = ChunkWrites()
        try writer.write { tx in try tx.apply(writes) }
    }

    private func collect(_ add: (inout ChunkWrites) -> Bool) throws {
        if !add(&collected) {
            try handOver()
            guard add(&collected) else { preconditionFailure("an empty ChunkWrites takes any write") }
        }
        if collected.count >= Self.rowsPerHandOver { try handOver() }
    }

    private func read<T: Sendable>(_ body: @escaping @Sendable (any ImportTransaction) throws -> T) throws -> T {
        try handOver()
        readsInChunk += 1
        return try writer.read(body)
    }

    /// Feed memory is read and written in turn with everything else (feed batches run in direct
    /// transactions; this is here for completeness).
    func forwardingFeed<T: Sendable>(_ body: @escaping @Sendable (any FeedTransaction) throws -> T) throws -> T {
        try read { try body($0) }
    }

    // A commit stops half-way only on a database error, and that fails the whole chunk here.
    func atomically<T>(_ body: () throws -> T) throws -> T { try body() }

    func apply(_ writes: ChunkWrites) throws {
        try handOver()
        try writer.write { tx in try tx.apply(writes) }
    }

    func appendLog(_ lines: [String], startingAt index: Int) throws {
        guard !lines.isEmpty else { return }
        try collect { $0.appendLog(lines, startingAt: index) }
    }

    func appendResults(_ lines: [String], startingAt index: Int) throws {
        guard !lines.isEmpty else { return }
        try collect { $0.appendResults(lines, startingAt: index) }
    }

    func isCancelRequested() throws -> Bool { writer.isCancelRequested }

    func saveProgress(_ progress: RunProgress) throws {
        try collect { writes in
            writes.progress = progress
            return true
        }
    }

    func reserveRefs(count: Int) throws -> ClosedRange<Int64> { try read { try $0.reserveRefs(count: count) } }

    func releaseRefs(after used: Int64, reservedThrough end: Int64) throws {
        try handOver()
        try writer.write { tx in try tx.releaseRefs(after: used, reservedThrough: end) }
    }

    func allocateRef() throws -> ObjectRef {
        if reserved == nil || nextRef > reserved!.upperBound {
            // Another run's reservation may have come in between: a new range starts where the
            // counter stands, not where the last one ended.
            let range = try reserveRefs(count: Self.refsPerReservation)
            (reserved, nextRef) = (range, range.lowerBound)
        }
        defer { nextRef += 1 }
        return ObjectRef(nextRef)
    }

    func save(ref: ObjectRef, values: [ObjectValue], isNew: Bool) throws -> SaveOutcome {
        // A new object's save needs nothing from the store; an existing one's outcome does.
        guard isNew else { return try read { try $0.save(ref: ref, values: values, isNew: false) } }
        try collect { writes in
            writes.newObjects.append(.init(ref: ref, values: values))
            return true
        }
        return .created
    }

    func plannedOutcome(ref: ObjectRef, values: [ObjectValue]) throws -> SaveOutcome {
        try read { try $0.plannedOutcome(ref: ref, values: values) }
    }

    func delete(ref: ObjectRef, values: [ObjectValue]) throws -> SaveOutcome {
        try read { try $0.delete(ref: ref, values: values) }
    }

    func appendDocument(model: String, destination: String, record: String, values: JSONObject) throws {
        try collect { writes in
            writes.documents.append(.init(model: model, destination: destination, record: record, values: values))
            return true
        }
    }

    func object(_ ref: ObjectRef) throws -> StoredObject? { try read { try $0.object(ref) } }

    func oldestObject(linkingTo target: ObjectRef, through attribute: String, types: Set<String>) throws -> StoredObject? {
        try read { try $0.oldestObject(linkingTo: target, through: attribute, types: types) }
    }

    func ref(forBehaviour code: String) throws -> ObjectRef? { try read { try $0.ref(forBehaviour: code) } }
    func ref(forUsername username: String) throws -> ObjectRef? { try read { try $0.ref(forUsername: username) } }

    func titles(ofTypes types: Set<String>, limit: Int) throws -> [(title: String, ref: ObjectRef)]? {
        try read { try $0.titles(ofTypes: types, limit: limit) }.map { $0.map { ($0.title, $0.ref) } }
    }
}
