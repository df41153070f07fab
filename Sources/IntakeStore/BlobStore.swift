import Crypto
import Foundation

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
/// hands over many small slices (it splits at every CR), so they are gathered into 1 MiB blocks
/// before hashing and writing.
public final class BlobWriter: @unchecked Sendable {
    private let store: BlobStore
    /// Where the bytes are until `finish()`; handlers may read them back to validate.
    public let temporary: URL
    private let handle: FileHandle
    private var hasher = SHA256()
    private var block: [UInt8] = []
    public private(set) var size: Int64 = 0
    private var finished = false
    static let blockSize = 1 << 20

    init(store: BlobStore) throws {
        self.store = store
        self.temporary = store.root.appendingPathComponent("tmp").appendingPathComponent(UUID().uuidString)
        guard FileManager().createFile(atPath: temporary.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown)
        }
        self.handle = try FileHandle(forWritingTo: temporary)
        block.reserveCapacity(Self.blockSize)
    }

    public func write<Bytes: Sequence>(_ bytes: Bytes) throws where Bytes.Element == UInt8 {
        for byte in bytes {
            block.append(byte)
            size += 1
            if block.count >= Self.blockSize { try flush() }
        }
    }

    public func write(_ buffer: UnsafeRawBufferPointer) throws {
        size += Int64(buffer.count)
        if block.count + buffer.count > Self.blockSize { try flush() }
        if buffer.count >= Self.blockSize {
            hasher.update(bufferPointer: buffer)
            try handle.write(contentsOf: Data(buffer))
        } else {
            block.append(contentsOf: buffer)
        }
    }

    /// Writes out the gathered block, so `temporary` holds everything written so far.
    public func flush() throws {
        guard !block.isEmpty else { return }
        try block.withUnsafeBytes { bytes in
            hasher.update(bufferPointer: bytes)
            try handle.write(contentsOf: Data(bytes))
        }
        block.removeAll(keepingCapacity: true)
    }

    /// Closes the file and moves it into the store.
    public func finish() throws -> (Digest, Int64) {
        try flush()
        finished = true
        try handle.close()
        let digest = Digest(hasher.finalize())
        try store.commit(temporary: temporary, digest: digest)
        return (digest, size)
    }

    /// Throws the partial upload away.
    public func discard() {
        guard !finished else { return }
        finished = true
        try? handle.close()
        try? FileManager().removeItem(at: temporary)
    }

    deinit { discard() }
}
