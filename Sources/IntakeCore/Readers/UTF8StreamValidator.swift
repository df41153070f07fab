/// Checks, chunk by chunk, that a document read as UTF-8 is valid UTF-8. Foundation's XMLParser turns
/// the names and texts libxml2 hands it into Strings with force-unwraps, and libxml2 passes some
/// invalid bytes through (in a processing instruction's target, in element and attribute names):
/// one such byte traps and ends the whole process (found by fuzzing). The XML and xlsx readers
/// check their input with this first and refuse an invalid document. Documents in UTF-16 or declaring
/// another encoding are left alone: libxml2 converts those to valid UTF-8 itself.
struct UTF8StreamValidator {
    private var decided = false
    private var enabled = true
    /// Continuation bytes still expected, and the range the next one must fall in.
    private var pending = 0
    private var low: UInt8 = 0x80
    private var high: UInt8 = 0xBF
    /// Bytes accepted so far, for the error's position.
    private(set) var offset = 0

    /// Whether the bytes seen so far are acceptable.
    mutating func accept(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        if !decided {
            decided = true
            enabled = Self.readsAsUTF8(bytes)
        }
        guard enabled else { return true }
        var i = 0
        // Fast path: eight ASCII bytes at a time while nothing is pending.
        if pending == 0, let base = bytes.baseAddress {
            let raw = UnsafeRawPointer(base)
            while i + 8 <= bytes.count && raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 { i += 8 }
        }
        while i < bytes.count {
            let b = bytes[i]
            if pending > 0 {
                guard b >= low && b <= high else { offset += i; return false }
                pending -= 1
                (low, high) = (0x80, 0xBF)
            } else if b >= 0x80 {
                switch b {
                case 0xC2...0xDF: pending = 1
                case 0xE0: (pending, low) = (2, 0xA0)
                case 0xE1...0xEC, 0xEE...0xEF: pending = 2
                case 0xED: (pending, high) = (2, 0x9F)
                case 0xF0: (pending, low) = (3, 0x90)
                case 0xF1...0xF3: pending = 3
                case 0xF4: (pending, high) = (3, 0x8F)
                default: offset += i; return false
                }
            }
            i += 1
        }
        offset += bytes.count
        return true
    }

    /// At the end of the document: false when it stops inside a character.
    var isComplete: Bool { !enabled || pending == 0 }

    /// Encodings libxml2 converts to UTF-8 itself (by the start of their names). A document declaring
    /// anything else, garbage included, is read as UTF-8 and checked (a garbage name once let invalid
    /// bytes through to the parser).
    static let convertedEncodings = ["iso-8859", "iso8859", "latin", "windows-", "cp1", "cp8", "utf-16", "utf16", "ucs",
                                     "euc-", "shift", "sjis", "iso-2022", "koi8", "gb", "big5"]

    /// UTF-8 unless the document starts like UTF-16 (a BOM, or "<" next to a zero byte) or its XML
    /// declaration names an encoding that libxml2 converts.
    static func readsAsUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        if bytes.count >= 2 && ((bytes[0] == 0xFE && bytes[1] == 0xFF) || (bytes[0] == 0xFF && bytes[1] == 0xFE)
                                || (bytes[0] == 0 && bytes[1] == 0x3C) || (bytes[0] == 0x3C && bytes[1] == 0)) {
            return false
        }
        let head = String(decoding: bytes.prefix(200), as: UTF8.self).lowercased()
        guard head.hasPrefix("<?xml") || head.hasPrefix("\u{FEFF}<?xml"),
              let declarationEnd = head.range(of: "?>"),
              let encoding = head[..<declarationEnd.lowerBound].range(of: "encoding") else { return true }
        let rest = head[encoding.upperBound..<declarationEnd.lowerBound].drop { $0 == " " || $0 == "=" || $0 == "\"" || $0 == "'" }
        return !convertedEncodings.contains { rest.hasPrefix($0) }
    }
}
