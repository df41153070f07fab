/// Writes records back in the shape of the file they came from, each with the reasons it failed
/// (docs/api.md "Failed records as they came"): the bytes of the file's own records, with an
/// `_errors` member (JSON), column (CSV, TSV) or attribute (XML) added, so that a person can fix the
/// rows in the tool they came from and upload the file again with the same control file. Without
/// errors (`POST retry`) the records are written exactly as they were.
package struct FailedRecordOutput {
    package enum Shape: Equatable {
        /// A JSON array of the records.
        case json
        /// One record per line.
        case jsonLines
        /// RFC 4180 rows after the file's header row: the errors are a quoted field.
        case csv(separator: UInt8)
        /// `tsv-with-name-row` rows: no quoting, so the errors' own separators and line breaks
        /// become spaces. Rows are separated, not ended, by line breaks: to that reader a line
        /// break at the end of a file makes one more (empty) record.
        case tsv(separator: [UInt8])
        /// The record elements inside the file's own prolog and root element (`rootName` empty:
        /// the record is the root element, after the prolog).
        case xml(head: [UInt8], rootName: String)
    }

    package let shape: Shape
    /// False for a retry's files: the records exactly as they were.
    package let withErrors: Bool
    private var written = 0

    package init(shape: Shape, withErrors: Bool) {
        self.shape = shape
        self.withErrors = withErrors
    }

    /// How multiple messages are joined where one text holds them all (CSV, TSV, XML).
    static let joiner = " | "

    /// What comes before the first record; `header` is the file's header row (csv, tsv).
    package func begin(header: [UInt8]?) -> [UInt8] {
        switch shape {
        case .json: return Array("[\n".utf8)
        case .jsonLines: return []
        case .csv(let separator): return (header ?? []) + (withErrors ? [separator] + Array("_errors".utf8) : []) + [0x0A]
        case .tsv(let separator): return (header ?? []) + (withErrors ? separator + Array("_errors".utf8) : [])
        case .xml(let head, _): return head + [0x0A]
        }
    }

    /// One record: its bytes as they were in the file, and why it failed.
    package mutating func record(_ raw: [UInt8], errors: [String]) -> [UInt8] {
        // A row of nothing (the empty record a tsv file's last line break makes) is no row to fix.
        if raw.isEmpty, case .tsv = shape { return [] }
        defer { written += 1 }
        switch shape {
        case .json:
            return (written == 0 ? [] : Array(",\n".utf8)) + jsonRecord(raw, errors: errors)
        case .jsonLines:
            return jsonRecord(raw, errors: errors) + [0x0A]
        case .csv(let separator):
            guard withErrors else { return raw + [0x0A] }
            return raw + [separator] + Self.csvField(errors.joined(separator: Self.joiner), separator: separator) + [0x0A]
        case .tsv(let separator):
            guard withErrors else { return [0x0A] + raw }
            return [0x0A] + raw + separator + Self.tsvField(errors.joined(separator: Self.joiner), separator: separator)
        case .xml:
            guard withErrors else { return raw + [0x0A] }
            var element = raw
            let at = XMLRecordElements.attributeInsertionPoint(raw)
            element.insert(contentsOf: Array(" _errors=\"".utf8) + Self.xmlAttribute(errors.joined(separator: Self.joiner)) + [0x22], at: at)
            return element + [0x0A]
        }
    }

    /// What comes after the last record.
    package func end() -> [UInt8] {
        switch shape {
        case .json: return Array((written == 0 ? "]\n" : "\n]\n").utf8)
        case .jsonLines, .csv, .tsv: return []
        case .xml(_, let root): return root.isEmpty ? [] : Array("</\(root)>\n".utf8)
        }
    }

    /// A JSON object record with `"_errors": [...]` added as its last member; other values as they were.
    private func jsonRecord(_ raw: [UInt8], errors: [String]) -> [UInt8] {
        guard withErrors, raw.first == UInt8(ascii: "{"), raw.last == UInt8(ascii: "}") else { return raw }
        var member = JSONBytes()
        member.raw("\"_errors\":[")
        for (i, error) in errors.enumerated() {
            if i > 0 { member.raw(",") }
            member.string(error)
        }
        member.raw("]")
        let closing = raw.count - 1
        let isEmpty = raw[1..<closing].allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        return Array(raw[..<closing]) + (isEmpty ? [] : [UInt8(ascii: ",")]) + member.bytes + [UInt8(ascii: "}")]
    }

    /// A CSV field, quoted when it holds the separator, a quote or a line break.
    package static func csvField(_ text: String, separator: UInt8) -> [UInt8] {
        let bytes = Array(text.utf8)
        guard bytes.contains(where: { $0 == separator || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else { return bytes }
        var out: [UInt8] = [0x22]
        for b in bytes {
            out.append(b)
            if b == 0x22 { out.append(0x22) }
        }
        return out + [0x22]
    }

    private static func tsvField(_ text: String, separator: [UInt8]) -> [UInt8] {
        var bytes = Array(text.utf8).map { $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 }
        if !separator.isEmpty {
            var k = 0
            while k + separator.count <= bytes.count {
                if bytes[k..<(k + separator.count)].elementsEqual(separator) {
                    bytes.replaceSubrange(k..<(k + separator.count), with: repeatElement(0x20, count: separator.count))
                }
                k += 1
            }
        }
        return bytes
    }

    private static func xmlAttribute(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        for b in text.utf8 {
            switch b {
            case UInt8(ascii: "&"): out += Array("&amp;".utf8)
            case UInt8(ascii: "<"): out += Array("&lt;".utf8)
            case UInt8(ascii: ">"): out += Array("&gt;".utf8)
            case 0x22: out += Array("&quot;".utf8)
            case 0x0A: out += Array("&#10;".utf8)
            case 0x0D: out += Array("&#13;".utf8)
            case 0x09: out += Array("&#9;".utf8)
            default: out.append(b)
            }
        }
        return out
    }
}
