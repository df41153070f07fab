import Crypto
import Foundation
import Synchronization

/// The content-addressed file store: each blob lives at `blobs/ab/abcdef…` named by its SHA-256.
/// Uploads stream into a temporary file while hashing, then move into place atomically.
public struct BlobStore: Sendable {
    public let root: URL

    public init(root: URL) throws {
        self.root = root
        try FileManager().createDirectory(at: root.appendingPathComponent("tmp"), withIntermediateDirectories: true)
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

    fileprivate func commit(temporary: URL, digest: Digest) throws {
        let destination = url(for: digest)
        let fm = FileManager()
        try fm.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        if fm.fileExists(atPath: destination.path) {
            try? fm.removeItem(at: temporary)
        } else if rename(temporary.path, destination.path) != 0 {
            throw CocoaError(.fileWriteUnknown)
        }
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
        self.temporary = store.root.appendingPathComponent("tmp").appendingPathComponent(UUID().uuidString)
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

    /// Writes out everything gathered, so `temporary` holds everything written so far.
    public func flush() throws {
        try submitBlock()
        try sink.wait()
    }

    /// Closes the file and moves it into the store.
    public func finish() throws -> (Digest, Int64) {
        try flush()
        finished = true
        let digest = try sink.finish()
        try store.commit(temporary: temporary, digest: digest)
        return (digest, size)
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

/// Hashes blocks in order on one serial queue and writes them in order on another, so hashing a
/// block overlaps writing the one before. Its blocks refer to this object, never to the
/// `BlobWriter`, so the writer is never released (and never waits for a queue) on a queue itself.
private final class HashingFileSink: @unchecked Sendable {
    private let descriptor: Int32
    private let queue = DispatchQueue(label: "intake.blob-hasher")
    private let writeQueue = DispatchQueue(label: "intake.blob-writer")
    private let blocksInFlight = DispatchSemaphore(value: 3)
    /// Used on `queue` only.
    private var hasher = SHA256()
    private let failure = Mutex<(any Error)?>(nil)
    private var closed = false

    init(path: String) throws {
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    func throwIfFailed() throws {
        if let error = failure.withLock({ $0 }) { throw error }
    }

    func submit(_ block: [UInt8]) throws {
        try throwIfFailed()
        blocksInFlight.wait()
        queue.async { [self] in
            block.withUnsafeBytes { hasher.update(bufferPointer: $0) }
            writeQueue.async { [self] in
                defer { blocksInFlight.signal() }
                guard failure.withLock({ $0 == nil }) else { return }
                do {
                    try block.withUnsafeBytes { try Self.writeAll(descriptor, $0) }
                } catch {
                    failure.withLock { $0 = error }
                }
            }
        }
    }

    /// Waits until every submitted block is hashed and written.
    func wait() throws {
        queue.sync {}
        writeQueue.sync {}
        try throwIfFailed()
    }

    func finish() throws -> Digest {
        let digest = queue.sync { Digest(hasher.finalize()) }
        closed = true
        guard Foundation.close(descriptor) == 0 else { throw CocoaError(.fileWriteUnknown) }
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
            guard n > 0 else { throw CocoaError(.fileWriteUnknown) }
            offset += n
        }
    }
}
