import Foundation

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

    /// Single- and multi-byte encodings libxml2 converts to UTF-8 itself, by exact name. UTF-16 is
    /// recognised from the bytes only: libxml2 reads a document that looks like 8-bit text as such,
    /// whatever its declaration says.
    static let convertedEncodings: Set<String> = Set(
        (1...16).flatMap { ["iso-8859-\($0)", "iso8859-\($0)", "iso_8859-\($0)"] }
            + (1250...1258).flatMap { ["windows-\($0)", "cp\($0)"] }
            + [
                "latin1", "latin-1", "l1", "us-ascii", "ascii", "koi8-r", "koi8-u", "shift_jis", "sjis", "euc-jp", "euc-kr",
                "gb2312", "gbk", "gb18030", "big5", "iso-2022-jp"
            ])

    /// UTF-8 unless the document starts like UTF-16 (a BOM, or "<" next to a zero byte) or begins
    /// with a well-formed XML declaration naming an encoding that libxml2 converts. A malformed
    /// declaration is not trusted: libxml2 may not have read it either.
    static func readsAsUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        if bytes.count >= 2
            && ((bytes[0] == 0xFE && bytes[1] == 0xFF) || (bytes[0] == 0xFF && bytes[1] == 0xFE)
                || (bytes[0] == 0 && bytes[1] == 0x3C) || (bytes[0] == 0x3C && bytes[1] == 0))
        {
            return false
        }
        guard let end = bytes.prefix(200).firstRange(of: Array("?>".utf8)), bytes[..<end.lowerBound].allSatisfy({ $0 < 0x80 }) else {
            return true
        }
        let declaration = String(decoding: bytes[..<end.lowerBound], as: UTF8.self)
        let pattern = #"^<\?xml\s+version\s*=\s*["'][0-9.]+["']\s+encoding\s*=\s*["']([A-Za-z0-9._-]+)["']\s*(standalone\s*=\s*["'](yes|no)["']\s*)?$"#
        guard let match = declaration.range(of: pattern, options: .regularExpression) else { return true }
        _ = match
        let name = declaration.split(whereSeparator: { $0 == "\"" || $0 == "'" })
        // The pieces are: <?xml version=, the version, encoding=, the name, and maybe standalone.
        guard name.count >= 4 else { return true }
        return !convertedEncodings.contains(String(name[3]).lowercased())
    }
}
