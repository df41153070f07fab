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
    package var metrics = IntakeMetrics()
    package var health = ServiceHealth()

    package init(
        store: any BatchStore, blobs: any BlobStorage, models: ModelRegistry,
        filters: [FilterDescriptor] = StandardFilters.all, readers: [ReaderDescriptor] = StandardReaders.all + [XLSXReader.descriptor],
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

    package var vocabulary: ControlFileVocabulary {
        ControlFileVocabulary(
            models: models, readers: Set(readers.keys), filters: Set(filters.map(\.name)),
            recordProcessors: Set(recordProcessors.keys))
    }

    /// The stored control file with this digest, parsed; nil when it is missing or not JSON. Every
    /// reader of a stored control file (the run, the use cases) goes through here.
    package func controlFile(_ digest: Digest) -> JSONValue? {
        (try? loadControlFile(digest)) ?? nil
    }

    /// As `controlFile`, but a database that cannot be used now is thrown (`StoreUnavailable`)
    /// rather than taken for a missing file: a run then waits for it.
    package func loadControlFile(_ digest: Digest) throws -> JSONValue? {
        let bytes: [UInt8]?
        do {
            bytes = try blobs.contents(of: digest, limit: Self.maxControlFileBytes)
        } catch let error as StoreUnavailable {
            throw error
        } catch {
            return nil
        }
        return bytes.flatMap(Self.parseControl)
    }

    /// Control files are configuration, not data; anything bigger is refused before parsing.
    package static let maxControlFileBytes = 16 * 1024 * 1024

    /// Parses control-file bytes; nil when they are not JSON.
    package static func parseControl(_ bytes: [UInt8]) -> JSONValue? {
        try? JSONParser.parse(bytes)
    }
}

/// Cancel requests seen by this process, so a running batch can stop after its current record.
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
