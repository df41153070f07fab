import Foundation
import IntakeCore
import IntakeStore
import NIOCore
import PostgresNIO
import Synchronization

import struct Crypto.SHA256

/// Uploaded files in the database, so any node can read what another received.
///
/// An upload's bytes are cut into 1 MiB chunks, each inserted as it fills (at most three on their way
/// at once: the back-pressure of a fast client on the database), under an id of the upload's own
/// while the SHA-256 is worked out on the way. `finish()` then names the chunks by the digest in
/// `blobs`; if the same bytes were stored before, the new chunks are dropped and the old blob is
/// renewed. Reads fetch one chunk at a time, so neither direction holds a file in memory.
package struct PostgresBlobStorage: BlobStorage {
    package let database: PostgresDatabase
    static let chunkSize = 1 << 20

    package init(database: PostgresDatabase) {
        self.database = database
    }

    package func makeUpload() throws -> any BlobUpload { PostgresBlobUpload(database: database) }

    package func contains(_ digest: Digest) async throws -> Bool {
        try await database.query("SELECT EXISTS (SELECT 1 FROM blobs WHERE digest = \(digest.hex))").scalar(Bool.self) ?? false
    }

    private func location(_ digest: Digest) throws -> (upload: String, size: Int64) {
        let row = try database.withBlockingConnection { connection in
            try connection.query("SELECT upload, size FROM blobs WHERE digest = \(digest.hex)").rows.first
        }
        guard let row else { throw BlobNotFound(digest) }
        return try row.decode((String, Int64).self)
    }

    package func open(_ digest: Digest) throws -> any ByteSource {
        let (upload, size) = try location(digest)
        return PostgresBlobSource(database: database, upload: upload, size: size)
    }

    /// Copies the blob to a temporary file, removed when the returned value goes.
    package func localFile(_ digest: Digest) throws -> LocalBlobFile {
        var source = try open(digest)
        let path = FileManager().temporaryDirectory.appendingPathComponent("intake-blob-\(getpid())-\(UUID().uuidString)").path
        let descriptor = Foundation.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw BlobStoreError(errno: errno, doing: "create a temporary copy of a stored file") }
        defer { Foundation.close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: Self.chunkSize)
        do {
            while true {
                let count = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
                if count == 0 { break }
                var offset = 0
                while offset < count {
                    let written = buffer.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress! + offset, count - offset) }
                    if written < 0 && errno == EINTR { continue }
                    guard written > 0 else { throw BlobStoreError(errno: written < 0 ? errno : ENOSPC, doing: "write a temporary copy of a stored file") }
                    offset += written
                }
            }
        } catch {
            unlink(path)
            throw error
        }
        return LocalBlobFile(path: path) { unlink(path) }
    }

    package func delete(_ digest: Digest) async throws {
        try await database.transaction { connection in
            guard let upload = try await connection.query("DELETE FROM blobs WHERE digest = \(digest.hex) RETURNING upload").scalar(String.self)
            else { return }
            try await connection.query("DELETE FROM blob_chunks WHERE upload = \(upload)")
        }
    }

    package func lastWritten(_ digest: Digest) async throws -> Date? {
        try await database.query("SELECT last_written FROM blobs WHERE digest = \(digest.hex)").scalar(Int64.self).map {
            Date(timeIntervalSince1970: TimeInterval($0))
        }
    }

    package func storedBlobs(after: Digest?, limit: Int) async throws -> [StoredBlob] {
        try await database.query(
            "SELECT digest, size, last_written FROM blobs WHERE digest > \(after?.hex ?? "") ORDER BY digest LIMIT \(limit)"
        ).rows.map { row in
            let (digest, size, written) = try row.decode((String, Int64, Int64).self)
            return StoredBlob(digest: Digest(hex: digest)!, size: size, lastWritten: Date(timeIntervalSince1970: TimeInterval(written)))
        }
    }

    /// How many uploads have chunks stored but are not (yet) a blob: in progress, or abandoned.
    package func unfinishedUploads() async throws -> Int {
        try await database.query(
            "SELECT count(DISTINCT upload) FROM blob_chunks c WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.upload = c.upload)"
        ).scalar(Int.self) ?? 0
    }

    /// Deletes the chunks of uploads that never finished (a node killed mid-upload) and were last
    /// written before `date`. Any node may run it: an upload in progress writes a chunk at least every
    /// few seconds. Returns how many chunks went.
    @discardableResult
    package func removeAbandonedUploads(writtenBefore date: Date) async throws -> Int {
        try await database.query(
            """
            DELETE FROM blob_chunks c WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.upload = c.upload)
                AND NOT EXISTS (SELECT 1 FROM blob_chunks n WHERE n.upload = c.upload AND n.written >= \(seconds(date)))
            """
        ).affectedRows
    }
}

/// Reads a stored blob chunk by chunk.
final class PostgresBlobSource: ByteSource {
    private let database: PostgresDatabase
    private let upload: String
    private let size: Int64
    private var next = 0
    private var chunk = ByteBuffer()
    private var delivered: Int64 = 0

    init(database: PostgresDatabase, upload: String, size: Int64) {
        self.database = database
        self.upload = upload
        self.size = size
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if chunk.readableBytes == 0 {
            guard delivered < size else { return 0 }
            let seq = next
            let upload = self.upload
            let fetched = try database.withBlockingConnection { connection in
                try connection.query("SELECT data FROM blob_chunks WHERE upload = \(upload) AND seq = \(seq)").scalar(ByteBuffer.self)
            }
            guard let fetched, fetched.readableBytes > 0 else {
                throw BlobStoreError(errno: EIO, doing: "read chunk \(seq) of a stored file (it is missing)")
            }
            chunk = fetched
            next += 1
        }
        let count = min(buffer.count, chunk.readableBytes)
        chunk.withUnsafeReadableBytes { bytes in buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes.prefix(count))) }
        chunk.moveReaderIndex(forwardBy: count)
        delivered += Int64(count)
        return count
    }
}

/// One upload into the database (see `PostgresBlobStorage`).
final class PostgresBlobUpload: BlobUpload {
    private let database: PostgresDatabase
    private let id = UUID().uuidString.lowercased()
    private var hasher = SHA256()
    private var block: [UInt8] = []
    private var chunks = 0
    private(set) var size: Int64 = 0
    private var finished = false
    private let flow = ChunkFlow()

    init(database: PostgresDatabase) {
        self.database = database
        block.reserveCapacity(PostgresBlobStorage.chunkSize)
    }

    func write(_ buffer: UnsafeRawBufferPointer) throws {
        try flow.throwIfFailed()
        size += Int64(buffer.count)
        hasher.update(bufferPointer: buffer)
        var rest = buffer
        while !rest.isEmpty {
            let n = min(rest.count, PostgresBlobStorage.chunkSize - block.count)
            block.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest.prefix(n)))
            rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst(n))
            if block.count == PostgresBlobStorage.chunkSize { submitBlock() }
        }
    }

    private func submitBlock() {
        guard !block.isEmpty else { return }
        let bytes = ByteBuffer(bytes: block)
        block.removeAll(keepingCapacity: true)
        let (seq, id, database) = (chunks, self.id, self.database)
        chunks += 1
        flow.submit {
            // A chunk's commit does not wait for the WAL flush; `finish()` commits the blob's record
            // synchronously, which flushes every chunk before it, so an acknowledged upload is on disk.
            // Waiting for a flush per MiB made uploads four times slower.
            try await database.transaction { connection in
                try await connection.query("SET LOCAL synchronous_commit = off")
                try await connection.query(
                    "INSERT INTO blob_chunks (upload, seq, written, data) VALUES (\(id), \(seq), \(seconds(Date())), \(bytes))")
            }
        }
    }

    func waitForCapacity() async throws {
        await flow.capacity()
        try flow.throwIfFailed()
    }

    private func flush() async throws {
        submitBlock()
        await flow.drained()
        try flow.throwIfFailed()
    }

    func contents(limit: Int) async throws -> [UInt8]? {
        guard size <= Int64(limit) else { return nil }
        try await flush()
        var bytes: [UInt8] = []
        for row in try await database.query("SELECT data FROM blob_chunks WHERE upload = \(id) ORDER BY seq").rows {
            var buffer = try row.decode(ByteBuffer.self)
            bytes += buffer.readBytes(length: buffer.readableBytes) ?? []
        }
        return bytes
    }

    func finish() async throws -> (Digest, Int64) {
        do {
            try await flush()
            let digest = Digest(hasher.finalize())
            let (id, size) = (self.id, self.size)
            try await database.transaction { connection in
                let stored = try await connection.query(
                    """
                    INSERT INTO blobs (digest, upload, size, last_written) VALUES (\(digest.hex), \(id), \(size), \(seconds(Date())))
                    ON CONFLICT (digest) DO UPDATE SET last_written = excluded.last_written
                    RETURNING upload
                    """
                ).scalar(String.self)
                // The same bytes again: the blob stays as it was (renewed, so a purge leaves it alone).
                if stored != id { try await connection.query("DELETE FROM blob_chunks WHERE upload = \(id)") }
            }
            finished = true
            return (digest, size)
        } catch {
            discard()
            throw error
        }
    }

    func discard() {
        guard !finished else { return }
        finished = true
        flow.stop()
        let (id, database, flow) = (self.id, self.database, self.flow)
        Task {
            await flow.drained()
            _ = try? await database.query("DELETE FROM blob_chunks WHERE upload = \(id)")
        }
    }

    deinit { discard() }
}

/// Inserts an upload's chunks, at most three at once (each on a connection of its own, so
/// the database works on one while the next arrives; their order does not matter, each has its
/// `seq`); callers suspend in `capacity()` or `drained()` rather than block a thread.
private final class ChunkFlow: Sendable {
    private struct State {
        var failure: (any Error)?
        var stopped = false
    }
    private let state = Mutex(State())
    private let limit = InFlightLimit(limit: 3)

    func throwIfFailed() throws {
        if let failure = state.withLock({ $0.failure }) { throw failure }
    }

    func submit(_ work: @escaping @Sendable () async throws -> Void) {
        limit.started()
        Task { [self] in
            let skip = self.state.withLock { $0.failure != nil || $0.stopped }
            if !skip {
                do { try await work() } catch { self.state.withLock { if $0.failure == nil { $0.failure = error } } }
            }
            limit.finished()
        }
    }

    func stop() { state.withLock { $0.stopped = true } }

    func capacity() async { await limit.capacity() }

    func drained() async { await limit.drained() }
}
