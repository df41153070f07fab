/// Character sets the text readers accept, decoded to UTF-8 as bytes stream through.
package enum Charset: Sendable, Equatable {
    case utf8
    case utf16LittleEndian
    case utf16BigEndian
    /// ISO-8859-1: every byte is the code point of the same number.
    case latin1
    /// windows-1252: Latin-1 with printable characters in 0x80–0x9F.
    case windows1252

    /// Java/IANA names and common aliases; nil for an unknown charset.
    package init?(name: String) {
        switch name.lowercased().replacingUnderscores {
        case "utf-8", "utf8": self = .utf8
        case "utf-16le": self = .utf16LittleEndian
        case "utf-16be", "utf-16": self = .utf16BigEndian
        case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "iso-latin-1", "us-ascii", "ascii": self = .latin1
        case "windows-1252", "cp1252", "x-cp1252": self = .windows1252
        default: return nil
        }
    }

    static let windows1252High: [UInt32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
        0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178
    ]
}

private extension String {
    var replacingUnderscores: String { String(map { $0 == "_" ? "-" : $0 }) }
}

/// Wraps a byte source and yields its text as UTF-8, whatever the charset; a leading byte-order
/// mark is dropped (and, for UTF-16, decides the byte order).
package struct UTF8TranscodingSource: ByteSource {
    private var source: any ByteSource
    private var charset: Charset
    private var input: [UInt8] = []
    private var pending: [UInt8] = []  // transcoded bytes not yet handed out
    private var pendingStart = 0
    private var started = false
    private var atEnd = false
    /// Raw bytes read from the underlying source.
    package private(set) var bytesConsumed = 0

    package init(_ source: any ByteSource, charset: Charset) {
        self.source = source
        self.charset = charset
    }

    package mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while pendingStart >= pending.count {
            if atEnd { return 0 }
            try refill()
        }
        let n = min(buffer.count, pending.count - pendingStart)
        pending.withUnsafeBytes { src in
            buffer.baseAddress!.copyMemory(from: src.baseAddress! + pendingStart, byteCount: n)
        }
        pendingStart += n
        return n
    }

    private mutating func refill() throws {
        pending.removeAll(keepingCapacity: true)
        pendingStart = 0
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let n = try chunk.withUnsafeMutableBytes { try source.read(into: $0) }
        bytesConsumed += n
        if n == 0 {
            atEnd = true
            if !input.isEmpty, charset != .utf8 { input = [] }  // a trailing odd UTF-16 byte is dropped
            if !input.isEmpty { pending = input; input = [] }
            return
        }
        input.append(contentsOf: chunk[0..<n])
        if !started {
            if charset == .utf8 || charset == .utf16BigEndian || charset == .utf16LittleEndian {
                if input.count < 3 && !atEnd { return }
            }
            started = true
            if input.starts(with: [0xEF, 0xBB, 0xBF]) && (charset == .utf8) {
                input.removeFirst(3)
            } else if input.starts(with: [0xFE, 0xFF]) && (charset == .utf16BigEndian || charset == .utf16LittleEndian) {
                charset = .utf16BigEndian
                input.removeFirst(2)
            } else if input.starts(with: [0xFF, 0xFE]) && (charset == .utf16BigEndian || charset == .utf16LittleEndian) {
                charset = .utf16LittleEndian
                input.removeFirst(2)
            }
        }
        switch charset {
        case .utf8:
            // Hand out everything up to the last complete sequence; keep a partial one for later.
            var cut = input.count
            var k = input.count - 1
            var back = 0
            while k >= 0, back < 4 {
                let b = input[k]
                if b & 0xC0 != 0x80 {
                    let length = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
                    if back + 1 < length { cut = k }
                    break
                }
                k -= 1
                back += 1
            }
            pending = Array(input[0..<cut])
            input = Array(input[cut...])
        case .latin1, .windows1252:
            pending.reserveCapacity(input.count)
            for b in input {
                if b < 0x80 {
                    pending.append(b)
                } else {
                    let scalar = charset == .windows1252 && b < 0xA0 ? Charset.windows1252High[Int(b - 0x80)] : UInt32(b)
                    appendUTF8(scalar)
                }
            }
            input = []
        case .utf16LittleEndian, .utf16BigEndian:
            let little = charset == .utf16LittleEndian
            var i = 0
            while i + 1 < input.count {
                let unit = little ? UInt16(input[i]) | UInt16(input[i + 1]) << 8 : UInt16(input[i]) << 8 | UInt16(input[i + 1])
                if (0xD800..<0xDC00).contains(unit) {
                    guard i + 3 < input.count else { break }
                    let low = little ? UInt16(input[i + 2]) | UInt16(input[i + 3]) << 8 : UInt16(input[i + 2]) << 8 | UInt16(input[i + 3])
                    appendUTF8(0x10000 + (UInt32(unit - 0xD800) << 10) + UInt32(low &- 0xDC00))
                    i += 4
                } else {
                    appendUTF8(UInt32(unit))
                    i += 2
                }
            }
            input = Array(input[i...])
        }
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        let s = Unicode.Scalar(scalar) ?? "\u{FFFD}"
        pending.append(contentsOf: Array(String(Character(s)).utf8))
    }
}
