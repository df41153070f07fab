extension String {
    /// The text with C0 control characters and DEL written as `\n`, `\t`, `\r` or `\u{1B}`, so a
    /// value quoted in a message or a log line cannot break the line, hide text or drive a terminal.
    package var escapingControlCharacters: String {
        guard utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return self }
        var out = ""
        out.reserveCapacity(utf8.count + 8)
        for scalar in unicodeScalars {
            switch scalar.value {
            case 0x0A: out += "\\n"
            case 0x09: out += "\\t"
            case 0x0D: out += "\\r"
            case 0..<0x20, 0x7F: out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// The same, but line breaks are kept: for multi-line messages such as a list of validation errors.
    package var escapingControlCharactersExceptNewlines: String {
        split(separator: "\n", omittingEmptySubsequences: false).map { String($0).escapingControlCharacters }
            .joined(separator: "\n")
    }
}
