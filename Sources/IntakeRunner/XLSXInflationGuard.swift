import Foundation
import IntakeCore
import ZIPFoundation

/// Limits on what an xlsx workbook may inflate to. A workbook is a zip archive, and a zip of a few
/// megabytes can inflate to gigabytes (a 2 MB `styles.xml` bomb once crashed the XML parser; a 3 MB
/// sheet with one 3 GiB cell took 8 GB of memory). Bytes are counted as they are inflated, so a lying
/// size in the zip's directory changes nothing.
package struct XLSXLimits: Sendable {
    /// Parts read whole into memory: workbook, relationships, styles.
    package var smallPartBytes: Int64 = 32 << 20
    /// Parts streamed through a temporary file: the worksheet and the shared strings.
    package var streamedPartBytes: Int64 = 2 << 30
    /// All parts of one workbook together.
    package var totalBytes: Int64 = 4 << 30
    /// Inflated size over compressed size, checked once a part passes `ratioFloorBytes` (tiny parts
    /// compress extremely well and are harmless). Real sheets compress 5 to 30 times.
    package var maxRatio: Int64 = 200
    package var ratioFloorBytes: Int64 = 1 << 20

    package init() {}
}

/// Inflates the parts of one workbook under `XLSXLimits`, keeping the running total.
struct XLSXInflationGuard {
    let archive: Archive
    let fileName: String
    let limits: XLSXLimits
    private(set) var total: Int64 = 0

    init(archive: Archive, fileName: String, limits: XLSXLimits) {
        self.archive = archive
        self.fileName = fileName
        self.limits = limits
    }

    private struct Refusal: Error { let message: String }

    /// Hands the inflated bytes of `entry` to `consume` chunk by chunk.
    /// - Throws: `ReaderError` naming the part and the limit it passed, or that it could not be read.
    mutating func inflate(_ entry: Entry, limit: Int64, into consume: (Data) throws -> Void) throws(ReaderError) {
        let (name, limits, fileName) = (entry.path, self.limits, self.fileName)
        let compressed = max(Int64(clamping: entry.compressedSize), 1)
        var partBytes: Int64 = 0
        var total = self.total
        defer { self.total = total }
        do {
            _ = try archive.extract(entry, skipCRC32: false) { chunk in
                partBytes += Int64(chunk.count)
                total += Int64(chunk.count)
                if partBytes > limit {
                    throw Refusal(
                        message:
                            "File \(fileName): \(name) inflates to more than \(limit) bytes, the limit for that part of a workbook; the workbook is refused")
                }
                if total > limits.totalBytes {
                    throw Refusal(
                        message:
                            "File \(fileName): the workbook inflates to more than \(limits.totalBytes) bytes in all, the limit for one workbook; it is refused")
                }
                if partBytes > limits.ratioFloorBytes && partBytes / compressed > limits.maxRatio {
                    throw Refusal(
                        message:
                            "File \(fileName): \(name) inflates to more than \(limits.maxRatio) times its compressed size (\(compressed) bytes), which only a zip bomb does; the workbook is refused"
                    )
                }
                try consume(chunk)
            }
        } catch let refusal as Refusal {
            throw ReaderError(refusal.message)
        } catch let error as ReaderError {
            throw error
        } catch {
            throw ReaderError("File \(fileName): cannot read \(name) from the workbook")
        }
    }

    /// A small part, whole.
    mutating func small(_ entry: Entry) throws(ReaderError) -> Data {
        var data = Data()
        try inflate(entry, limit: limits.smallPartBytes) { data.append($0) }
        return data
    }

    /// A large part, inflated into an unlinked temporary file that the returned source reads.
    mutating func streamed(_ entry: Entry) throws(ReaderError) -> FileByteSource {
        let temporary = FileManager().temporaryDirectory.appendingPathComponent("intake-xlsx-\(UUID().uuidString).xml")
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw ReaderError("File \(fileName): cannot create a temporary file for \(entry.path)") }
        defer {
            close(descriptor)
            try? FileManager().removeItem(at: temporary)
        }
        let fileName = self.fileName
        try inflate(entry, limit: limits.streamedPartBytes) { chunk in
            try chunk.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else { throw ReaderError("File \(fileName): no space to inflate \(entry.path) into a temporary file") }
                    offset += n
                }
            }
        }
        do {
            // The open descriptor keeps the data readable after the name is gone.
            return try FileByteSource(path: temporary.path)
        } catch {
            throw ReaderError("File \(fileName): cannot read back \(entry.path)")
        }
    }
}
