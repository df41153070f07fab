import Foundation
import IntakeCore
#if canImport(Glibc)
import Glibc
#endif

/// The shared strings of a large workbook past the memory budget, in two unlinked temporary files:
/// the strings' UTF-8 one after the other, and where each ends (8 bytes each). A lookup is two
/// `pread`s, served by the page cache for any table that fits in memory.
final class FileSharedStringsOverflow: SharedStringsOverflow {
    private let text: Int32
    private let ends: Int32
    private var textBuffer: [UInt8] = []
    private var endsBuffer: [UInt8] = []
    private var textLength: UInt64 = 0

    init() throws {
        func temporaryFile() throws -> Int32 {
            let path = FileManager().temporaryDirectory.appendingPathComponent("intake-strings-\(UUID().uuidString)").path
            let fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0o600)
            guard fd >= 0 else { throw CocoaError(.fileWriteUnknown) }
            unlink(path)
            return fd
        }
        text = try temporaryFile()
        ends = try temporaryFile()
    }

    deinit {
        close(text)
        close(ends)
    }

    func append(_ utf8: [UInt8]) throws {
        textBuffer.append(contentsOf: utf8)
        textLength += UInt64(utf8.count)
        withUnsafeBytes(of: textLength.littleEndian) { endsBuffer.append(contentsOf: $0) }
        if textBuffer.count >= 1 << 20 { try flush() }
    }

    func finishAppending() throws { try flush() }

    private func flush() throws {
        try Self.write(text, &textBuffer)
        try Self.write(ends, &endsBuffer)
    }

    private static func write(_ fd: Int32, _ buffer: inout [UInt8]) throws {
        var offset = 0
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            guard n > 0 else { throw CocoaError(.fileWriteUnknown) }
            offset += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    func string(at index: Int) -> String? {
        var bounds = [UInt64](repeating: 0, count: 2)
        let wanted = index == 0 ? 1 : 2
        let offset = off_t((index == 0 ? 0 : index - 1) * 8)
        let got = bounds.withUnsafeMutableBytes { buffer in
            pread(ends, buffer.baseAddress! + (index == 0 ? 8 : 0), wanted * 8, offset)
        }
        guard got == wanted * 8 else { return nil }
        let start = Int(UInt64(littleEndian: bounds[0])), end = Int(UInt64(littleEndian: bounds[1]))
        guard end >= start else { return nil }
        var bytes = [UInt8](repeating: 0, count: end - start)
        let read = bytes.withUnsafeMutableBytes { pread(text, $0.baseAddress, end - start, off_t(start)) }
        guard read == end - start else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}
