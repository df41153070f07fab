import Foundation
import IntakeCore
import IntakeStore

/// What every blob storage must do (`BlobStorage`), checked through the protocol alone.
package enum BlobStorageContract {
    package struct Case: Sendable, CustomStringConvertible {
        package let name: String
        package let check: @Sendable (any BlobStorage) async throws -> Void
        package var description: String { name }
    }

    package static let cases: [Case] = [
        Case(name: "an upload becomes a blob named by its SHA-256, read back as a stream and as a file", check: roundTrip),
        Case(name: "a discarded upload leaves no blob", check: discarded),
        Case(name: "an upload's contents are read back up to a limit before it is accepted", check: contentsBeforeAccepting),
        Case(name: "a deleted blob is gone, and deleting it again is no error", check: deletion),
        Case(name: "stored blobs are listed in digest order, page by page, with size and time", check: listing)
    ]

    static func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw ContractFailure(message()) }
    }

    /// Bytes that cross the storages' internal block sizes (1 MiB and the like) unevenly.
    static let sample: [UInt8] = (0..<(3 << 20) + 12_345).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }

    static func digest(_ bytes: [UInt8]) -> Digest { Digest(of: bytes) }

    static func readAll(_ source: any ByteSource) throws -> [UInt8] {
        var source = source
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 100_000)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            if n == 0 { return bytes }
            bytes += buffer[0..<n]
        }
    }

    static func roundTrip(_ storage: any BlobStorage) async throws {
        let upload = try storage.makeUpload()
        // Written in uneven pieces, as a multipart parser hands them over.
        var offset = 0
        for size in [1, 4095, 700_001, 3_000_000] where offset < sample.count {
            let end = min(sample.count, offset + size)
            try sample[offset..<end].withUnsafeBytes { try upload.write($0) }
            try await upload.waitForCapacity()
            offset = end
        }
        try sample[offset...].withUnsafeBytes { try upload.write($0) }
        let (name, size) = try await upload.finish()
        try expect(name == digest(sample) && size == Int64(sample.count), "the blob's digest or size is wrong")
        try expect(try await storage.contains(name), "the finished blob is missing")
        try expect(try readAll(try storage.open(name)) == sample, "the blob read back differs")
        let file = try storage.localFile(name)
        try expect(FileManager().contents(atPath: file.path).map(Array.init) == sample, "the blob's local file differs")
        let (again, _) = try await storage.put(sample)
        try expect(again == name, "the same bytes twice are not the same blob")
    }

    static func discarded(_ storage: any BlobStorage) async throws {
        let bytes = Array("never accepted \(UUID())".utf8)
        let upload = try storage.makeUpload()
        try upload.write(bytes)
        upload.discard()
        try expect(try await !storage.contains(digest(bytes)), "a discarded upload became a blob")
    }

    static func contentsBeforeAccepting(_ storage: any BlobStorage) async throws {
        let upload = try storage.makeUpload()
        try upload.write(Array(sample.prefix(2_000_000)))
        try expect(try await upload.contents(limit: 2_000_000) == Array(sample.prefix(2_000_000)), "the contents read back differ")
        try expect(try await upload.contents(limit: 1_999_999) == nil, "contents past the limit were returned")
        upload.discard()
    }

    static func listing(_ storage: any BlobStorage) async throws {
        var stored: [Digest: Int64] = [:]
        for i in 0..<5 {
            let bytes = Array("listed blob \(i) \(UUID())".utf8)
            let (digest, size) = try await storage.put(bytes)
            stored[digest] = size
        }
        var listed: [StoredBlob] = []
        var after: Digest?
        while true {
            let page = try await storage.storedBlobs(after: after, limit: 2)
            try expect(page.count <= 2, "a page longer than its limit")
            listed += page
            guard let last = page.last else { break }
            after = last.digest
        }
        let digests = listed.map(\.digest.hex)
        try expect(digests == digests.sorted() && Set(digests).count == digests.count, "not in digest order, or repeated")
        for (digest, size) in stored {
            let blob = listed.first { $0.digest == digest }
            try expect(blob?.size == size, "blob \(digest) listed with size \(String(describing: blob?.size)), not \(size)")
            try expect(abs(blob!.lastWritten.timeIntervalSinceNow) < 300, "a blob written now is listed as written at \(blob!.lastWritten)")
        }
    }

    static func deletion(_ storage: any BlobStorage) async throws {
        let (name, _) = try await storage.put(Array("to be deleted \(UUID())".utf8))
        try await storage.delete(name)
        try expect(try await !storage.contains(name), "a deleted blob still exists")
        do {
            _ = try storage.open(name)
            throw ContractFailure("a deleted blob could be opened")
        } catch is BlobNotFound {}
        try await storage.delete(name)
    }
}
