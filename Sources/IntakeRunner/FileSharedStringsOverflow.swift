import Foundation
import IntakeCore

#if canImport(Glibc)
    import Glibc
#endif

/// The shared strings of a large workbook past the memory budget, in two unlinked temporary files:
/// the strings' UTF-8 one after the other, and where each ends (8 bytes each). Lookups read through
/// small windows of both files (`pread`, served by the page cache), so memory stays bounded.
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
        guard let bounds = bounds(of: index) else { return nil }
        let (start, end) = bounds
        let count = end - start
        // Strings are mostly asked for in table order (rows refer to them in the order they were
        // first used), so a 1 MiB window of the text serves most lookups without a system call.
        if start >= textWindowStart && end <= textWindowStart + textWindow.count {
            let from = start - textWindowStart
            return String(decoding: textWindow[from..<(from + count)], as: UTF8.self)
        }
        if count > Self.textWindowSize {
            var bytes = [UInt8](repeating: 0, count: count)
            guard Self.read(text, into: &bytes, at: start) == count else { return nil }
            return String(decoding: bytes, as: UTF8.self)
        }
        textWindow = [UInt8](repeating: 0, count: Self.textWindowSize)
        let got = Self.read(text, into: &textWindow, at: start)
        guard got >= count else { return nil }
        textWindow.removeLast(textWindow.count - got)
        textWindowStart = start
        return String(decoding: textWindow[0..<count], as: UTF8.self)
    }

    private static let textWindowSize = 1 << 20
    private static let endsWindowEntries = 8192
    private var textWindow: [UInt8] = []
    private var textWindowStart = 0
    private var endsWindow: [UInt64] = []
    private var endsWindowFirst = 0

    /// Where string `index` starts and ends in the text file.
    private func bounds(of index: Int) -> (Int, Int)? {
        guard let end = endOffset(index) else { return nil }
        guard index > 0 else { return (0, end) }
        guard let start = endOffset(index - 1) else { return nil }
        return (start, end)
    }

    private func endOffset(_ index: Int) -> Int? {
        if index < endsWindowFirst || index >= endsWindowFirst + endsWindow.count {
            var window = [UInt8](repeating: 0, count: Self.endsWindowEntries * 8)
            let got = Self.read(ends, into: &window, at: index * 8)
            guard got >= 8 else { return nil }
            endsWindow = (0..<(got / 8)).map { i in
                window.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)) }
            }
            endsWindowFirst = index
        }
        return Int(endsWindow[index - endsWindowFirst])
    }

    private static func read(_ fd: Int32, into bytes: inout [UInt8], at offset: Int) -> Int {
        var total = 0
        while total < bytes.count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + total, $0.count - total, off_t(offset + total)) }
            if n <= 0 { break }
            total += n
        }
        return total
    }
}
