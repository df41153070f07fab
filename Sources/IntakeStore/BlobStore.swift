import Crypto
import Foundation
import Synchronization

/// The content-addressed file store: each blob lives at `blobs/ab/abcdef…` named by its SHA-256.
/// Uploads stream into a temporary file while hashing, then move into place atomically.
public struct BlobStore: Sendable {
    public let root: URL

    public init(root: URL) throws {
        self.root = root
        try FileManager().createDirectory(at: root.appendingPathComponent("tmp"), withIntermediateDirectories: true,
                                          attributes: [.posixPermissions: 0o700])
    }

    /// Deletes the temporary files of uploads whose process no longer exists (killed mid-upload).
    /// Each temporary file's name starts with its process id, so a server can clean up at start-up
    /// while `intake run` or another process is uploading into the same folder. Returns the count.
    @discardableResult
    public func removeAbandonedTemporaries() -> Int {
        let folder = root.appendingPathComponent("tmp")
        let fm = FileManager()
        var removed = 0
        for name in (try? fm.contentsOfDirectory(atPath: folder.path)) ?? [] {
            let owner = name.split(separator: "-", maxSplits: 1).first.flatMap { Int32($0) }
            if let owner, owner == getpid() || kill(owner, 0) == 0 || errno != ESRCH { continue }
            if (try? fm.removeItem(at: folder.appendingPathComponent(name))) != nil { removed += 1 }
        }
        return removed
    }

    public func url(for digest: Digest) -> URL {
        root.appendingPathComponent(String(digest.hex.prefix(2))).appendingPathComponent(digest.hex)
    }

    public func contains(_ digest: Digest) -> Bool {
        FileManager().fileExists(atPath: url(for: digest).path)
    }

    public func makeWriter() throws -> BlobWriter {
        try BlobWriter(store: self)
    }

    /// Stores bytes held in memory (control files, tests).
    public func put(_ bytes: [UInt8]) throws -> (Digest, Int64) {
        let writer = try makeWriter()
        try writer.write(bytes)
        return try writer.finish()
    }

    /// Moves a synced temporary file into place and syncs the folder, so that once a digest is
    /// acknowledged its file survives a power loss whole.
    fileprivate func commit(temporary: URL, digest: Digest) throws {
        let destination = url(for: digest)
        let folder = destination.deletingLastPathComponent()
        let fm = FileManager()
        do {
            try fm.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw BlobStoreError(errno: errno == 0 ? EIO : errno, doing: "create the blob folder")
        }
        if fm.fileExists(atPath: destination.path) {
            try? fm.removeItem(at: temporary)
            return
        }
        guard rename(temporary.path, destination.path) == 0 else {
            throw BlobStoreError(errno: errno, doing: "move an upload into the blob store")
        }
        try Self.syncDirectory(folder.path)
    }

    static func syncDirectory(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw BlobStoreError(errno: errno, doing: "open the blob folder") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw BlobStoreError(errno: errno, doing: "sync the blob folder") }
    }
}

/// A failure of the disk under the blob store, told in words; `isOutOfSpace` lets the API answer 507.
public struct BlobStoreError: Error, Sendable, CustomStringConvertible {
    public let code: Int32
    public let operation: String

    public init(errno code: Int32, doing operation: String) {
        self.code = code
        self.operation = operation
    }

    /// No room: a full disk, a quota, or a file-size limit on the process.
    public var isOutOfSpace: Bool { code == ENOSPC || code == EDQUOT || code == EFBIG }

    public var description: String {
        "Could not \(operation): \(String(cString: strerror(code)))"
    }
}

/// Writes one upload: bytes go to disk as they arrive, and are hashed on the way. Multipart parsing
/// hands over many small slices (it splits at every CR), so they are gathered into 1 MiB blocks.
/// Full blocks are hashed and written on a queue of their own (at most three in flight), so a
/// large upload parses, hashes and writes on different cores at once.
public final class BlobWriter: @unchecked Sendable {
    private let store: BlobStore
    /// Where the bytes are until `finish()`; handlers may read them back to validate.
    public let temporary: URL
    private let sink: HashingFileSink
    private var block: [UInt8] = []
    public private(set) var size: Int64 = 0
    private var finished = false
    static let blockSize = 1 << 20

    init(store: BlobStore) throws {
        self.store = store
        // The process id first: see `BlobStore.removeAbandonedTemporaries()`.
        self.temporary = store.root.appendingPathComponent("tmp").appendingPathComponent("\(getpid())-\(UUID().uuidString)")
        sink = try HashingFileSink(path: temporary.path)
        block.reserveCapacity(Self.blockSize)
    }

    public func write<Bytes: Sequence>(_ bytes: Bytes) throws where Bytes.Element == UInt8 {
        for byte in bytes {
            block.append(byte)
            size += 1
            if block.count >= Self.blockSize { try submitBlock() }
        }
    }

    public func write(_ buffer: UnsafeRawBufferPointer) throws {
        size += Int64(buffer.count)
        var rest = buffer
        while !rest.isEmpty {
            let n = min(rest.count, Self.blockSize - block.count)
            block.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest.prefix(n)))
            rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst(n))
            if block.count >= Self.blockSize { try submitBlock() }
        }
    }

    private func submitBlock() throws {
        guard !block.isEmpty else { return try sink.throwIfFailed() }
        let full = block
        block = []
        block.reserveCapacity(Self.blockSize)
        try sink.submit(full)
    }

    /// Suspends while too many blocks are waiting to be hashed and written: the back-pressure of a
    /// fast client on a slow disk. Call it between chunks of input; it never blocks a thread.
    public func waitForCapacity() async throws {
        await sink.capacity()
        try sink.throwIfFailed()
    }

    /// Writes out everything gathered, so `temporary` holds everything written so far. Blocks the
    /// calling thread: for code outside the cooperative pool (async code gets the overload below).
    public func flush() throws {
        try submitBlock()
        try sink.wait()
    }

    /// Writes out everything gathered, suspending (not blocking) until it is on disk.
    public func flush() async throws {
        try submitBlock()
        await sink.drained()
        try sink.throwIfFailed()
    }

    /// Closes the file and moves it into the store, blocking the calling thread (see `flush()`).
    /// On failure the temporary file is removed: nothing of a failed upload stays behind.
    public func finish() throws -> (Digest, Int64) {
        do {
            try flush()
            let digest = try sink.finish()
            try store.commit(temporary: temporary, digest: digest)
            finished = true
            return (digest, size)
        } catch {
            discard()
            throw error
        }
    }

    /// Closes the file and moves it into the store. The syncs (file and folder) run on a thread of
    /// their own, so a large upload's fsync never holds up the cooperative pool that serves requests.
    public func finish() async throws -> (Digest, Int64) {
        do {
            try await flush()
            let (sink, store, temporary) = (self.sink, self.store, self.temporary)
            let digest = try await offloaded {
                let digest = try sink.finish()
                try store.commit(temporary: temporary, digest: digest)
                return digest
            }
            finished = true
            return (digest, size)
        } catch {
            discard()
            throw error
        }
    }

    /// Throws the partial upload away.
    public func discard() {
        guard !finished else { return }
        finished = true
        sink.close()
        try? FileManager().removeItem(at: temporary)
    }

    deinit { discard() }
}

/// Runs blocking work (file syncs, whole-file reads) on a Dispatch thread and waits for it without
/// blocking the caller's thread.
public func offloaded<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}

/// Hashes blocks in order on one serial queue and writes them in order on another, so hashing a
/// block overlaps writing the one before. Its blocks refer to this object, never to the
/// `BlobWriter`, so the writer is never released (and never waits for a queue) on a queue itself.
private final class HashingFileSink: @unchecked Sendable {
    private let descriptor: Int32
    private let queue = DispatchQueue(label: "intake.blob-hasher")
    private let writeQueue = DispatchQueue(label: "intake.blob-writer")
    /// Blocks submitted and not yet written, and who waits for that number to fall. Submitting never
    /// waits; callers suspend in `capacity()` or `drained()` instead of blocking a thread.
    private struct Flow {
        var inFlight = 0
        var capacityWaiters: [CheckedContinuation<Void, Never>] = []
        var drainWaiters: [CheckedContinuation<Void, Never>] = []
    }
    private let flow = Mutex(Flow())
    static let maxInFlight = 3
    /// Used on `queue` only.
    private var hasher = SHA256()
    private let failure = Mutex<(any Error)?>(nil)
    private var closed = false

    init(path: String) throws {
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw BlobStoreError(errno: errno, doing: "create a temporary file for an upload") }
    }

    func throwIfFailed() throws {
        if let error = failure.withLock({ $0 }) { throw error }
    }

    func submit(_ block: [UInt8]) throws {
        try throwIfFailed()
        flow.withLock { $0.inFlight += 1 }
        queue.async { [self] in
            block.withUnsafeBytes { hasher.update(bufferPointer: $0) }
            writeQueue.async { [self] in
                defer { blockWritten() }
                guard failure.withLock({ $0 == nil }) else { return }
                do {
                    try block.withUnsafeBytes { try Self.writeAll(descriptor, $0) }
                } catch {
                    failure.withLock { $0 = error }
                }
            }
        }
    }

    private func blockWritten() {
        let ready = flow.withLock { flow -> [CheckedContinuation<Void, Never>] in
            flow.inFlight -= 1
            var ready: [CheckedContinuation<Void, Never>] = []
            if flow.inFlight < Self.maxInFlight { ready += flow.capacityWaiters; flow.capacityWaiters = [] }
            if flow.inFlight == 0 { ready += flow.drainWaiters; flow.drainWaiters = [] }
            return ready
        }
        for waiter in ready { waiter.resume() }
    }

    /// Returns once fewer than `maxInFlight` blocks are waiting.
    func capacity() async {
        await withCheckedContinuation { continuation in
            let now = flow.withLock { flow -> Bool in
                if flow.inFlight < Self.maxInFlight { return true }
                flow.capacityWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Returns once every submitted block is hashed and written.
    func drained() async {
        await withCheckedContinuation { continuation in
            let now = flow.withLock { flow -> Bool in
                if flow.inFlight == 0 { return true }
                flow.drainWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Waits until every submitted block is hashed and written, blocking the calling thread.
    func wait() throws {
        queue.sync {}
        writeQueue.sync {}
        try throwIfFailed()
    }

    /// Syncs and closes the file: its bytes are on disk before the upload is acknowledged.
    func finish() throws -> Digest {
        let digest = queue.sync { Digest(hasher.finalize()) }
        closed = true
        guard fsync(descriptor) == 0 else {
            let code = errno
            _ = Foundation.close(descriptor)
            throw BlobStoreError(errno: code, doing: "sync an upload to disk")
        }
        guard Foundation.close(descriptor) == 0 else { throw BlobStoreError(errno: errno, doing: "close an upload") }
        return digest
    }

    func close() {
        guard !closed else { return }
        closed = true
        queue.sync {}
        writeQueue.sync {}
        _ = Foundation.close(descriptor)
    }

    deinit {
        if !closed { _ = Foundation.close(descriptor) }
    }

    private static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw BlobStoreError(errno: n < 0 ? errno : ENOSPC, doing: "write an upload to disk") }
            offset += n
        }
    }
}
