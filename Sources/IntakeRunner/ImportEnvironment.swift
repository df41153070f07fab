import Foundation
import Synchronization
import IntakeCore
import IntakeStore

/// What a run needs: the store, blob files, models, filters and readers. Built once at start-up.
public struct ImportEnvironment: Sendable {
    public var store: any BatchStore
    public var blobs: any BlobStorage
    public var models: ModelRegistry
    public var filters: [FilterDescriptor]
    public var readers: [String: ReaderDescriptor]
    public var recordProcessors: [String: RecordProcessorDescriptor]
    public var now: @Sendable () -> Date
    /// Batches whose cancellation was requested through this process.
    public var cancellations = CancellationRegistry()
    public var metrics = IntakeMetrics()
    public var health = ServiceHealth()

    public init(store: any BatchStore, blobs: any BlobStorage, models: ModelRegistry,
                filters: [FilterDescriptor] = StandardFilters.all, readers: [ReaderDescriptor] = StandardReaders.all + [XLSXReader.descriptor],
                recordProcessors: [RecordProcessorDescriptor] = [],
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.blobs = blobs
        self.models = models
        self.filters = filters
        self.readers = Dictionary(readers.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.recordProcessors = Dictionary(recordProcessors.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.now = now
    }

    public var vocabulary: ControlFileVocabulary {
        ControlFileVocabulary(models: models, readers: Set(readers.keys), filters: Set(filters.map(\.name)),
                              recordProcessors: Set(recordProcessors.keys))
    }

    /// The stored control file with this digest, parsed; nil when it is missing or not JSON. Every
    /// reader of a stored control file (the run, the use cases) goes through here.
    public func controlFile(_ digest: Digest) -> JSONValue? {
        guard let bytes = try? blobs.contents(of: digest, limit: Self.maxControlFileBytes) else { return nil }
        return Self.parseControl(bytes)
    }

    /// Control files are configuration, not data; anything bigger is refused before parsing.
    public static let maxControlFileBytes = 16 * 1024 * 1024

    /// Parses control-file bytes; nil when they are not JSON.
    public static func parseControl(_ bytes: [UInt8]) -> JSONValue? {
        try? JSONParser.parse(bytes)
    }
}

/// Cancel requests seen by this process, so a running batch can stop after its current record.
public final class CancellationRegistry: Sendable {
    private let requested = Mutex<Set<BatchID>>([])

    public init() {}

    public func request(_ id: BatchID) {
        requested.withLock { _ = $0.insert(id) }
    }

    public func contains(_ id: BatchID) -> Bool {
        requested.withLock { $0.contains(id) }
    }
}
