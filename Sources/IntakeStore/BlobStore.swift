import Crypto
import Foundation
import IntakeCore
import NIOPosix
import Synchronization

/// Where uploaded bytes (control files and data files) live, named by their SHA-256. The HTTP layer,
/// the use cases and the runner see only this protocol; `LocalBlobStorage` keeps blobs as files in
/// the data directory, and a networked backend can keep them in its database.
package protocol BlobStorage: Sendable {
    /// Starts a new blob: its bytes are written as they arrive, then `finish()` names it by its
    /// digest, or `discard()` throws it away.
    func makeUpload() throws -> any BlobUpload
    func contains(_ digest: Digest) async throws -> Bool
    /// The blob's bytes from the start, read in blocks (never whole).
    /// - Throws: `BlobNotFound` when there is no such blob.
    func open(_ digest: Digest) throws -> any ByteSource
    /// A file on this machine holding the blob's bytes, for readers that need random access (a
    /// workbook's zip directory). Valid as long as the returned value is kept.
    /// - Throws: `BlobNotFound` when there is no such blob.
    func localFile(_ digest: Digest) throws -> LocalBlobFile
    /// Removes a blob; removing one that does not exist is not an error.
    func delete(_ digest: Digest) async throws
    /// When the blob was last written: by its first upload, or by a later upload of the same bytes
    /// (which must renew it). Nil when there is no such blob. `intake purge` leaves recently written
    /// blobs alone, so an upload that finds its bytes already stored does not lose them to a purge.
    func lastWritten(_ digest: Digest) async throws -> Date?
    /// Stored blobs in digest order, after `after`, at most `limit`: how `intake purge` finds blobs
    /// nothing refers to any more.
    func storedBlobs(after: Digest?, limit: Int) async throws -> [StoredBlob]
}

/// A blob as `storedBlobs` lists it.
package struct StoredBlob: Sendable, Equatable {
    package var digest: Digest
    package var size: Int64
    package var lastWritten: Date

    package init(digest: Digest, size: Int64, lastWritten: Date) {
        self.digest = digest
        self.size = size
        self.lastWritten = lastWritten
    }
}

/// One blob being written. Not for sharing between tasks: one request (or `intake run`) writes it.
package protocol BlobUpload: AnyObject {
    /// Bytes written so far.
    var size: Int64 { get }
    func write(_ buffer: UnsafeRawBufferPointer) throws
    /// Suspends while the bytes written are not yet on their way to storage: the back-pressure of
    /// a fast client on slow storage. Call it between chunks of input; it never blocks a thread.
    func waitForCapacity() async throws
    /// Everything written so far, up to `limit` bytes, for checks before the upload is accepted
    /// (a control file is parsed before it is stored). Nil when more than `limit` were written.
    func contents(limit: Int) async throws -> [UInt8]?
    /// Makes the bytes a blob and returns its digest and size. On failure nothing is kept.
    func finish() async throws -> (Digest, Int64)
    /// Throws the upload away, at once and without waiting; a finished upload is left alone.
    func discard()
}

extension BlobUpload {
    package func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }
}

extension BlobStorage {
    /// A whole blob in memory, for small ones only (control files); nil when it is missing or longer
    /// than `limit`.
    package func contents(of digest: Digest, limit: Int) throws -> [UInt8]? {
        var source: any ByteSource
        do {
            source = try open(digest)
        } catch let error as StoreUnavailable {
            throw error  // the database holding it cannot be used now: not the same as missing
        } catch {
            return nil
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            if n == 0 { return bytes }
            guard bytes.count + n <= limit else { return nil }
            bytes += buffer[0..<n]
        }
    }

    /// Stores bytes held in memory (small blobs, tests).
    package func put(_ bytes: [UInt8]) async throws -> (Digest, Int64) {
        let upload = try makeUpload()
        try upload.write(bytes)
        return try await upload.finish()
    }
}

/// There is no blob with this digest.
package struct BlobNotFound: Error, Sendable, CustomStringConvertible {
    package let digest: Digest
    package init(_ digest: Digest) { self.digest = digest }
    package var description: String { "No stored file has the digest \(digest.hex)" }
}

/// A blob as a file on this machine; whatever the storage made for it goes when this does.
package final class LocalBlobFile: Sendable {
    package let path: String
    private let release: (@Sendable () -> Void)?

    package init(path: String, release: (@Sendable () -> Void)? = nil) {
        self.path = path
        self.release = release
    }

    deinit { release?() }
}

/// Blobs as files: each lives at `blobs/ab/abcdef…` named by its SHA-256. Uploads stream into a
/// temporary file while hashing, then move into place atomically.
package struct LocalBlobStorage: BlobStorage {
    package let root: URL

    package init(root: URL) throws {
        self.root = root
        try FileManager().createDirectory(
            at: root.appendingPathComponent("tmp"), withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
    }

    /// Deletes the temporary files of uploads whose process no longer exists (killed mid-upload).
    /// Each temporary file's name starts with its process id, so a server can clean up at start-up
    /// while `intake run` or another process is uploading into the same folder. Returns the count.
    @discardableResult
    package func removeAbandonedTemporaries() -> Int {
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

    package func url(for digest: Digest) -> URL {
        root.appendingPathComponent(String(digest.hex.prefix(2))).appendingPathComponent(digest.hex)
    }

    package func contains(_ digest: Digest) -> Bool {
        FileManager().fileExists(atPath: url(for: digest).path)
    }

    package func makeUpload() throws -> any BlobUpload { try makeWriter() }

    package func makeWriter() throws -> BlobWriter { try BlobWriter(store: self) }

    package func open(_ digest: Digest) throws -> any ByteSource {
        let descriptor = Foundation.open(url(for: digest).path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { throw BlobNotFound(digest) }
            throw BlobStoreError(errno: errno, doing: "open a stored file")
        }
        return DescriptorByteSource(descriptor: descriptor)
    }

    package func localFile(_ digest: Digest) throws -> LocalBlobFile {
        let path = url(for: digest).path
        guard FileManager().fileExists(atPath: path) else { throw BlobNotFound(digest) }
        return LocalBlobFile(path: path)
    }

    package func lastWritten(_ digest: Digest) async throws -> Date? {
        let path = url(for: digest).path
        return try await offloaded { (try? FileManager().attributesOfItem(atPath: path))?[.modificationDate] as? Date }
    }

    /// Walks the 256 prefix folders in order; each holds the blobs whose digest starts with its name.
    package func storedBlobs(after: Digest?, limit: Int) async throws -> [StoredBlob] {
        let root = self.root
        return try await offloaded {
            let files = FileManager()
            var found: [StoredBlob] = []
            let folders = ((try? files.contentsOfDirectory(atPath: root.path)) ?? []).filter { $0.count == 2 }.sorted()
            for folder in folders where after.map({ folder >= String($0.hex.prefix(2)) }) ?? true {
                let names = ((try? files.contentsOfDirectory(atPath: root.appendingPathComponent(folder).path)) ?? []).sorted()
                for name in names {
                    guard let digest = Digest(hex: name), after.map({ name > $0.hex }) ?? true else { continue }
                    let path = root.appendingPathComponent(folder).appendingPathComponent(name).path
                    guard let attributes = try? files.attributesOfItem(atPath: path) else { continue }
                    found.append(
                        StoredBlob(
                            digest: digest, size: (attributes[.size] as? NSNumber)?.int64Value ?? 0,
                            lastWritten: attributes[.modificationDate] as? Date ?? Date.distantPast))
                    if found.count == limit { return found }
                }
            }
            return found
        }
    }

    package func delete(_ digest: Digest) async throws {
        let path = url(for: digest).path
        try await offloaded {
            guard unlink(path) == 0 || errno == ENOENT else { throw BlobStoreError(errno: errno, doing: "delete a stored file") }
        }
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
            // The same bytes again: renewed, so a purge running now leaves them alone.
            _ = utimes(destination.path, nil)
            return
        }
        guard rename(temporary.path, destination.path) == 0 else {
            throw BlobStoreError(errno: errno, doing: "move an upload into the blob store")
        }
        try Self.syncDirectory(folder.path)
    }

    static func syncDirectory(_ path: String) throws {
        let descriptor = Foundation.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw BlobStoreError(errno: errno, doing: "open the blob folder") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw BlobStoreError(errno: errno, doing: "sync the blob folder") }
    }
}

/// A failure of the disk under the blob store, told in words; `isOutOfSpace` lets the API answer 507.
package struct BlobStoreError: Error, Sendable, CustomStringConvertible {
    package let code: Int32
    package let operation: String

    package init(errno code: Int32, doing operation: String) {
        self.code = code
        self.operation = operation
    }

    /// No room: a full disk, a quota, or a file-size limit on the process.
    package var isOutOfSpace: Bool { code == ENOSPC || code == EDQUOT || code == EFBIG }

    package var description: String {
        "Could not \(operation): \(String(cString: strerror(code)))"
    }
}

/// Reads a file descriptor with plain `read(2)` calls and closes it when released.
final class DescriptorByteSource: ByteSource {
    private let descriptor: Int32

    init(descriptor: Int32) { self.descriptor = descriptor }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Foundation.read(descriptor, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno != EINTR { throw BlobStoreError(errno: errno, doing: "read a stored file") }
        }
    }

    deinit { _ = Foundation.close(descriptor) }
}

/// Writes one upload to `LocalBlobStorage`: bytes go to disk as they arrive, and are hashed on the way. Multipart parsing
/// hands over many small slices (it splits at every CR), so they are gathered into 1 MiB blocks.
/// Full blocks are hashed and written on a queue of their own (at most three in flight), so a
/// large upload parses, hashes and writes on different cores at once.
package final class BlobWriter: BlobUpload {
    private let store: LocalBlobStorage
    /// Where the bytes are until `finish()`; handlers may read them back to validate.
    package let temporary: URL
    private let sink: HashingFileSink
    private var block: [UInt8] = []
    package private(set) var size: Int64 = 0
    private var finished = false
    static let blockSize = 1 << 20

    init(store: LocalBlobStorage) throws {
        self.store = store
        // The process id first: see `LocalBlobStorage.removeAbandonedTemporaries()`.
        self.temporary = store.root.appendingPathComponent("tmp").appendingPathComponent("\(getpid())-\(UUID().uuidString)")
        sink = try HashingFileSink(path: temporary.path)
        block.reserveCapacity(Self.blockSize)
    }

    package func write(_ buffer: UnsafeRawBufferPointer) throws {
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
    package func waitForCapacity() async throws {
        await sink.capacity()
        try sink.throwIfFailed()
    }

    /// Writes out everything gathered, suspending (not blocking) until it is on disk.
    package func flush() async throws {
        try submitBlock()
        await sink.drained()
        try sink.throwIfFailed()
    }

    /// Closes the file and moves it into the store. The syncs (file and folder) run on a thread of
    /// their own, so a large upload's fsync never holds up the cooperative pool that serves requests.
    package func finish() async throws -> (Digest, Int64) {
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

    package func contents(limit: Int) async throws -> [UInt8]? {
        try await flush()
        guard size <= Int64(limit) else { return nil }
        let path = temporary.path
        return try await offloaded {
            guard let data = FileManager().contents(atPath: path) else {
                throw BlobStoreError(errno: EIO, doing: "read back an upload")
            }
            return Array(data)
        }
    }

    /// Throws the partial upload away: the file is unlinked at once, and closed once the blocks
    /// still on their way to it are written (nothing waits for that).
    package func discard() {
        guard !finished else { return }
        finished = true
        unlink(temporary.path)
        sink.closeLater()
    }

    deinit { discard() }
}

/// Runs blocking work (file syncs, whole-file reads, a PostgreSQL call that waits for its answer) on
/// SwiftNIO's thread pool for blocking work and suspends until it is done: the cooperative pool's
/// few threads (one per core) must never wait on I/O, or every request waits with them.
/// Dispatch's global queue, used before, would start a thread per blocked item under load.
package func offloaded<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await NIOThreadPool.singleton.runIfActive(body)
}

/// Hashes blocks in order on one serial queue and writes them in order on another, so hashing a
/// block overlaps writing the one before. Its blocks refer to this object, never to the
/// `BlobWriter`, so the writer is never released (and never waits for a queue) on a queue itself.
///
/// Sendable without locks of its own: the hasher and the closed flag are in `Mutex`es (taken on the
/// hashing queue only, so never contended), the rest is immutable.
private final class HashingFileSink: Sendable {
    private let descriptor: Int32
    private let queue = DispatchQueue(label: "intake.blob-hasher")
    private let writeQueue = DispatchQueue(label: "intake.blob-writer")
    /// Blocks submitted and not yet written. Submitting never waits; callers suspend in
    /// `capacity()` or `drained()` instead of blocking a thread.
    private let flow = InFlightLimit(limit: 3)
    private let hasher = Mutex(SHA256())
    private let failure = Mutex<(any Error)?>(nil)
    private let closed = Atomic<Bool>(false)

    init(path: String) throws {
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw BlobStoreError(errno: errno, doing: "create a temporary file for an upload") }
    }

    func throwIfFailed() throws {
        if let error = failure.withLock({ $0 }) { throw error }
    }

    func submit(_ block: [UInt8]) throws {
        try throwIfFailed()
        flow.started()
        queue.async { [self] in
            hasher.withLock { hasher in block.withUnsafeBytes { hasher.update(bufferPointer: $0) } }
            writeQueue.async { [self] in
                defer { flow.finished() }
                guard failure.withLock({ $0 == nil }) else { return }
                do {
                    try block.withUnsafeBytes { try Self.writeAll(descriptor, $0) }
                } catch {
                    failure.withLock { $0 = error }
                }
            }
        }
    }

    /// Returns once fewer than three blocks are waiting.
    func capacity() async { await flow.capacity() }

    /// Returns once every submitted block is hashed and written.
    func drained() async { await flow.drained() }

    /// Syncs and closes the file: its bytes are on disk before the upload is acknowledged. Blocks
    /// (the caller runs it `offloaded`).
    func finish() throws -> Digest {
        let digest = queue.sync { hasher.withLock { Digest($0.finalize()) } }
        closed.store(true, ordering: .relaxed)
        guard fsync(descriptor) == 0 else {
            let code = errno
            _ = Foundation.close(descriptor)
            throw BlobStoreError(errno: code, doing: "sync an upload to disk")
        }
        guard Foundation.close(descriptor) == 0 else { throw BlobStoreError(errno: errno, doing: "close an upload") }
        return digest
    }

    /// Closes the file after the blocks already submitted, without waiting for them.
    func closeLater() {
        guard !closed.exchange(true, ordering: .relaxed) else { return }
        queue.async { [self] in
            writeQueue.async { [self] in _ = Foundation.close(descriptor) }
        }
    }

    deinit {
        if !closed.load(ordering: .relaxed) { _ = Foundation.close(descriptor) }
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

/// Copies of stored files that check what they copy: a blob's name is its SHA-256, so a copy (a
/// backup, a restore) proves itself by hashing.
package enum BlobFileCopy {
    /// Copies `source` to `destination` (mode 0600, its folder 0700), hashing the bytes on the way;
    /// returns the size. Throws when the bytes are not those `expected` names (nil: any bytes).
    package static func copy(_ source: URL, to destination: URL, expected: Digest?) throws -> Int64 {
        let folder = destination.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard FileManager.default.createFile(atPath: destination.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: destination.path])
        }
        let input = try FileHandle(forReadingFrom: source)
        defer { try? input.close() }
        let output = try FileHandle(forWritingTo: destination)
        defer { try? output.close() }
        var hasher = SHA256()
        var size: Int64 = 0
        while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
            try output.write(contentsOf: chunk)
            size += Int64(chunk.count)
        }
        try output.synchronize()
        let found = Digest(hasher.finalize())
        guard expected == nil || found == expected else { throw BlobDamaged(path: source.path, found: found) }
        return size
    }

    /// The SHA-256 of a file, read in pieces.
    package static func digest(of file: URL) throws -> Digest {
        let input = try FileHandle(forReadingFrom: file)
        defer { try? input.close() }
        var hasher = SHA256()
        while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return Digest(hasher.finalize())
    }
}

/// A stored file whose bytes no longer match its name.
package struct BlobDamaged: Error, CustomStringConvertible {
    package var path: String
    package var found: Digest
    package var description: String { "\(path) is damaged: its SHA-256 is \(found.hex)" }

    package init(path: String, found: Digest) {
        self.path = path
        self.found = found
    }
}

/// A blob read in blocks from async code: opening it and each read run on the thread pool for
/// blocking work (`offloaded`), since a blob's reads block (a file, or a PostgreSQL query waited for).
/// The caller awaits each read before the next, so the lock around the source is never waited for.
package final class OffloadedBlobReader: Sendable {
    private struct Reading {
        var source: any ByteSource
        var buffer: [UInt8]
    }
    private let reading: Mutex<Reading>

    private init(source: sending any ByteSource, blockSize: Int) {
        reading = Mutex(Reading(source: source, buffer: [UInt8](repeating: 0, count: blockSize)))
    }

    package static func open(_ digest: Digest, in blobs: any BlobStorage, blockSize: Int = 64 * 1024) async throws -> OffloadedBlobReader {
        try await offloaded { OffloadedBlobReader(source: try blobs.open(digest), blockSize: blockSize) }
    }

    /// The next block; nil at the end.
    package func next() async throws -> [UInt8]? {
        try await offloaded { [self] in
            try reading.withLock { reading in
                let count = try reading.buffer.withUnsafeMutableBytes { try reading.source.read(into: $0) }
                return count == 0 ? nil : Array(reading.buffer[0..<count])
            }
        }
    }
}
