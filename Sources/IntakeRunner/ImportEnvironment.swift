import Foundation
import IntakeCore
import IntakeStore
import Synchronization

/// What a run needs: the store, blob files, models, filters and readers. Built once at start-up.
package struct ImportEnvironment: Sendable {
    package var store: any BatchStore
    package var blobs: any BlobStorage
    package var models: ModelRegistry
    package var filters: [FilterDescriptor]
    package var readers: [String: ReaderDescriptor]
    package var recordProcessors: [String: RecordProcessorDescriptor]
    package var now: @Sendable () -> Date
    /// Batches whose cancellation was requested through this process.
    package var cancellations = CancellationRegistry()
    /// Counts of the all-or-nothing runs of this process, whose stored progress is written only at
    /// their end.
    package var liveProgress = LiveProgress()
    package var metrics = IntakeMetrics()
    package var health = ServiceHealth()
    /// Push API calls, one at a time per API (docs/push-apis.md).
    package var pushLanes = SerialLanes()
    /// Import chunks end early while a push API call writes (`WriteYield`).
    package var writeYield = WriteYield()

    package init(
        store: any BatchStore, blobs: any BlobStorage, models: ModelRegistry,
        filters: [FilterDescriptor] = ImportEnvironment.standardFilters, readers: [ReaderDescriptor] = ImportEnvironment.standardReaders,
        recordProcessors: [RecordProcessorDescriptor] = [],
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.store = store
        self.blobs = blobs
        self.models = models
        self.filters = filters
        self.readers = Dictionary(readers.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.recordProcessors = Dictionary(recordProcessors.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.now = now
    }

    /// What a server has unless it is built with more: the filters and readers of the original,
    /// and workbooks.
    package static let standardFilters = StandardFilters.all
    package static let standardReaders = StandardReaders.all + [XLSXReader.descriptor]

    package var vocabulary: ControlFileVocabulary {
        ControlFileVocabulary(
            models: models, readers: Set(readers.keys), filters: Set(filters.map(\.name)),
            recordProcessors: Set(recordProcessors.keys))
    }

    /// The words a server with the standard filters and readers and these models accepts in a
    /// control file, without a store: `intake validate` checks offline with exactly them.
    package static func standardVocabulary(models: ModelRegistry) -> ControlFileVocabulary {
        ControlFileVocabulary(
            models: models, readers: Set(standardReaders.map(\.name)), filters: Set(standardFilters.map(\.name)), recordProcessors: [])
    }

    /// Parsed control files by digest. They are content-addressed, so an entry never goes stale.
    package let controlFiles = ControlFileCache()

    /// The stored control file with this digest, parsed; nil when it is missing or not JSON. Every
    /// reader of a stored control file in async code (the use cases, the admin UI) goes through
    /// here: from the cache, else read and parsed on the thread pool for blocking work (reading a
    /// blob blocks, and on PostgreSQL waits for the database).
    package func controlFile(_ digest: Digest) async -> JSONValue? {
        (try? await loadControlFile(digest)) ?? nil
    }

    /// As `controlFile`, but a database that cannot be used now is thrown (`StoreUnavailable`)
    /// rather than taken for a missing file.
    package func loadControlFile(_ digest: Digest) async throws -> JSONValue? {
        if let cached = controlFiles[digest] { return cached }
        return try await offloaded { [self] in try loadControlFileBlocking(digest) }
    }

    /// As `loadControlFile`, blocking the calling thread: for a run's own threads only.
    package func loadControlFileBlocking(_ digest: Digest) throws -> JSONValue? {
        if let cached = controlFiles[digest] { return cached }
        let bytes: [UInt8]?
        do {
            bytes = try blobs.contents(of: digest, limit: Self.maxControlFileBytes)
        } catch let error as StoreUnavailable {
            throw error
        } catch {
            return nil
        }
        guard let bytes, let control = Self.parseControl(bytes) else { return nil }
        controlFiles.insert(control, for: digest, size: bytes.count)
        return control
    }

    /// Control files are configuration, not data; anything bigger is refused before parsing.
    package static let maxControlFileBytes = 16 * 1024 * 1024

    /// Parses control-file bytes; nil when they are not JSON.
    package static func parseControl(_ bytes: [UInt8]) -> JSONValue? {
        try? JSONParser.parse(bytes)
    }
}

/// Parsed control files by digest, shared by every copy of an environment. Bounded: at most
/// `maxEntries` files, and none over `maxFileBytes` (a rare huge control file is parsed each time
/// rather than held); when full, the oldest entry goes.
package final class ControlFileCache: Sendable {
    package static let maxEntries = 256
    package static let maxFileBytes = 1 << 20
    private let entries = Mutex<(values: [Digest: JSONValue], order: [Digest])>(([:], []))

    package init() {}

    package subscript(digest: Digest) -> JSONValue? {
        entries.withLock { $0.values[digest] }
    }

    package func insert(_ control: JSONValue, for digest: Digest, size: Int) {
        guard size <= Self.maxFileBytes else { return }
        entries.withLock { state in
            guard state.values.updateValue(control, forKey: digest) == nil else { return }
            state.order.append(digest)
            if state.order.count > Self.maxEntries { state.values[state.order.removeFirst()] = nil }
        }
    }
}

/// Cancel requests seen by this process, so a running batch can stop after its current record.
/// The counts of runs whose progress is not stored while they run (all-or-nothing runs, one
/// transaction from start to end), so that the status of a running batch still moves. Only this
/// process's runs: on PostgreSQL another node's status shows the stored progress.
package final class LiveProgress: Sendable {
    private let running = Mutex<[BatchID: RunProgress]>([:])

    package init() {}

    func update(_ id: BatchID, _ progress: RunProgress?) {
        running.withLock { $0[id] = progress }
    }

    /// Whether an all-or-nothing run of this batch is going on in this process.
    package func isRunningHere(_ id: BatchID) -> Bool {
        running.withLock { $0[id] != nil }
    }

    /// `batch` with the counts of its run in this process, if it is running one.
    package func overlaid(_ batch: Batch) -> Batch {
        guard batch.state == .running, let live = running.withLock({ $0[batch.id] }) else { return batch }
        var batch = batch
        batch.progress.recordsRead = live.recordsRead
        batch.progress.recordsApplied = live.recordsApplied
        batch.progress.recordsFailed = live.recordsFailed
        batch.progress.recordsUnchanged = live.recordsUnchanged
        batch.progress.recordsSkipped = live.recordsSkipped
        batch.progress.recordsLeft = live.recordsLeft
        batch.progress.bytesRead = live.bytesRead
        batch.progress.errors = live.errors
        batch.progress.destinations = live.destinations
        return batch
    }
}

package final class CancellationRegistry: Sendable {
    private let requested = Mutex<Set<BatchID>>([])

    package init() {}

    package func request(_ id: BatchID) {
        requested.withLock { _ = $0.insert(id) }
    }

    package func contains(_ id: BatchID) -> Bool {
        requested.withLock { $0.contains(id) }
    }
}
