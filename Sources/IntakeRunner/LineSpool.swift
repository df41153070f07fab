import Foundation

/// Lines kept on disk until a run knows what to do with them: an all-or-nothing run's log lines
/// and results wait here until it publishes them with its records or writes them after undoing
/// them (`BatchRun+AllOrNothing.swift`). Memory stays flat however many records the batch has.
///
/// The file is unlinked as soon as it is made: a crashed run leaves nothing behind, and the spool
/// lives only as long as this object.
final class LineSpool {
    private let file: UnsafeMutablePointer<FILE>
    private(set) var count = 0

    init(directory: String = NSTemporaryDirectory()) throws {
        var template = Array((directory as NSString).appendingPathComponent("intake-spool-XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw SpoolError(message: "could not make a spool file in \(directory): errno \(errno)") }
        unlink(template)
        guard let file = fdopen(descriptor, "w+") else {
            close(descriptor)
            throw SpoolError(message: "could not open a spool file: errno \(errno)")
        }
        self.file = file
    }

    deinit { fclose(file) }

    struct SpoolError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// Appends lines; each is stored with its length, so any byte may be in it.
    func append(_ lines: [String]) throws {
        for line in lines {
            var length = UInt32(line.utf8.count).littleEndian
            var text = line
            let written =
                withUnsafeBytes(of: &length) { fwrite($0.baseAddress, 1, 4, file) }
                + text.withUTF8 { fwrite($0.baseAddress, 1, $0.count, file) }
            guard written == 4 + line.utf8.count else { throw SpoolError(message: "could not write a spool file (a full disk?): errno \(errno)") }
        }
        count += lines.count
    }

    /// Every line from the first, `pageSize` at a time, each page passed to `body`.
    func forEachPage(_ pageSize: Int = 1_000, _ body: ([String]) throws -> Void) throws {
        guard fflush(file) == 0, fseek(file, 0, SEEK_SET) == 0 else { throw SpoolError(message: "could not read a spool file back: errno \(errno)") }
        defer { fseek(file, 0, SEEK_END) }
        var page: [String] = []
        var buffer: [UInt8] = []
        for _ in 0..<count {
            var length: UInt32 = 0
            guard withUnsafeMutableBytes(of: &length, { fread($0.baseAddress, 1, 4, file) }) == 4 else {
                throw SpoolError(message: "a spool file ended early")
            }
            let size = Int(UInt32(littleEndian: length))
            if buffer.count < size { buffer = [UInt8](repeating: 0, count: size) }
            guard size == 0 || buffer.withUnsafeMutableBytes({ fread($0.baseAddress, 1, size, file) }) == size else {
                throw SpoolError(message: "a spool file ended early")
            }
            page.append(String(decoding: buffer[0..<size], as: UTF8.self))
            if page.count == pageSize {
                try body(page)
                page.removeAll(keepingCapacity: true)
            }
        }
        if !page.isEmpty { try body(page) }
    }
}
