import Foundation

/// A streaming `multipart/form-data` parser (RFC 7578 over RFC 2046): headers of each part, then
/// its body in slices, as the request body arrives.
///
/// It replaces MultipartKit's `MultipartParser`, which copies the body into a new buffer at every
/// carriage return and tests each byte through a closure: a 1 GB upload spent 1.6 CPU-seconds there,
/// more than hashing and writing it. Here the body is searched for the delimiter with `memchr`, and
/// slices of the caller's chunk are handed on without copying.
struct MultipartStreamParser {
    enum Failure: Error, Equatable {
        case malformed(String)

        var reason: String {
            switch self {
            case .malformed(let reason): reason
            }
        }
    }

    private enum State {
        /// Before the first delimiter; bytes are ignored.
        case preamble
        /// Right after a delimiter: `--` ends the body, otherwise the line ends and headers follow.
        case afterDelimiter
        case headers
        case body
        /// After the closing delimiter; bytes are ignored.
        case epilogue
    }

    /// `\r\n--boundary`
    private let delimiter: [UInt8]
    private var state = State.preamble
    /// Unconsumed bytes kept from earlier chunks: part of a delimiter, or of the headers.
    private var pending: [UInt8] = []
    private var headerLines: [UInt8] = []
    static let maximumHeaderBytes = 16 * 1024

    var onHeader: (String, String) throws -> Void = { _, _ in }
    var onBody: (UnsafeRawBufferPointer) throws -> Void = { _ in }
    var onPartComplete: () throws -> Void = {}

    init(boundary: String) {
        delimiter = Array("\r\n--\(boundary)".utf8)
        // The first delimiter may open the body without a line break before it.
        pending = [0x0D, 0x0A]
    }

    /// Whether the closing delimiter has been read.
    var isComplete: Bool {
        if case .epilogue = state { return true }
        return false
    }

    mutating func execute(_ chunk: UnsafeRawBufferPointer) throws {
        if pending.isEmpty {
            let used = try process(chunk)
            if used < chunk.count { pending.append(contentsOf: chunk[used...]) }
        } else {
            var joined = pending
            joined.append(contentsOf: chunk)
            pending.removeAll(keepingCapacity: true)
            let used = try joined.withUnsafeBytes { try process($0) }
            if used < joined.count { pending.append(contentsOf: joined[used...]) }
        }
    }

    /// Consumes what it can of `bytes`; returns how many bytes it used. What is left can only be
    /// understood with more input.
    private mutating func process(_ bytes: UnsafeRawBufferPointer) throws -> Int {
        var i = 0
        while i < bytes.count {
            switch state {
            case .preamble, .body:
                let (end, found) = scanForDelimiter(bytes, from: i)
                if case .body = state, end > i { try onBody(UnsafeRawBufferPointer(rebasing: bytes[i..<end])) }
                guard let found else { return end }
                if case .body = state { try onPartComplete() }
                i = found + delimiter.count
                state = .afterDelimiter
            case .afterDelimiter:
                guard bytes.count - i >= 2 else { return i }
                if bytes[i] == UInt8(ascii: "-") && bytes[i + 1] == UInt8(ascii: "-") {
                    state = .epilogue
                    return bytes.count
                }
                // Transport padding (spaces and tabs) may come before the line break.
                var k = i
                while k < bytes.count, bytes[k] == 0x20 || bytes[k] == 0x09 { k += 1 }
                guard bytes.count - k >= 2 else { return i }
                guard bytes[k] == 0x0D && bytes[k + 1] == 0x0A else { throw Failure.malformed("no line break after a boundary") }
                i = k + 2
                headerLines.removeAll(keepingCapacity: true)
                state = .headers
            case .headers:
                // Headers end at an empty line.
                var k = i
                var endOfHeaders: Int?
                while k + 1 < bytes.count {
                    if bytes[k] == 0x0D && bytes[k + 1] == 0x0A {
                        if k == i {
                            endOfHeaders = k + 2
                            break
                        }
                        headerLines.append(contentsOf: bytes[i..<k])
                        headerLines.append(0x0A)
                        // Checked here too: all of a part's headers may arrive in one chunk.
                        if headerLines.count > Self.maximumHeaderBytes {
                            throw Failure.malformed("part headers longer than \(Self.maximumHeaderBytes) bytes")
                        }
                        i = k + 2
                        k = i
                        continue
                    }
                    k += 1
                }
                guard let end = endOfHeaders else {
                    if headerLines.count + (bytes.count - i) > Self.maximumHeaderBytes {
                        throw Failure.malformed("part headers longer than \(Self.maximumHeaderBytes) bytes")
                    }
                    return i
                }
                try emitHeaders()
                i = end
                state = .body
            case .epilogue:
                return bytes.count
            }
        }
        return i
    }

    private func emitHeaders() throws {
        for line in headerLines.split(separator: 0x0A) {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                throw Failure.malformed("a part header without a colon")
            }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self).trimmingCharacters(in: .whitespaces)
            let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingCharacters(in: .whitespaces)
            try onHeader(name, value)
        }
    }

    /// Looks for the delimiter from `start`. Returns where the bytes before it end and where it
    /// starts; when it is not found, the end stops before a possible beginning of it at the very end.
    private func scanForDelimiter(_ bytes: UnsafeRawBufferPointer, from start: Int) -> (end: Int, found: Int?) {
        guard let base = bytes.baseAddress else { return (start, nil) }
        var k = start
        while k < bytes.count {
            guard let hit = memchr(base + k, 0x0D, bytes.count - k) else { return (bytes.count, nil) }
            let at = base.distance(to: UnsafeRawPointer(hit))
            let available = bytes.count - at
            if available >= delimiter.count {
                if memcmp(base + at, delimiter, delimiter.count) == 0 { return (at, at) }
            } else if memcmp(base + at, delimiter, available) == 0 {
                // Maybe the start of a delimiter: keep it for the next chunk.
                return (at, nil)
            }
            k = at + 1
        }
        return (bytes.count, nil)
    }
}
