/// `csv` (extension): RFC 4180 with a header row. Quoted fields may hold separators, doubled quotes
/// and line breaks; a UTF-8 BOM is skipped; blank lines give no record. Options: `separator` (one
/// character, default `,`), `charset`.
public struct CSVRecordReader: RecordReader {
    private let fileName: String
    private var stream: ByteStream
    private let separator: UInt8
    private var names: [String]?
    private var line = 1

    public var bytesRead: Int { stream.bytesRead }

    public init(fileName: String, source: any ByteSource, spec: JSONObject) throws(ReaderError) {
        self.fileName = fileName
        let charset = try charsetOption(spec, fileName: fileName)
        stream = ByteStream(UTF8TranscodingSource(source, charset: charset))
        if let s = spec["separator"], !s.isMissing {
            let bytes = Array(s.jsForm.utf8)
            guard bytes.count == 1 else {
                throw ReaderError("The csv separator for file \(fileName) must be one character: \(s.jsForm)")
            }
            separator = bytes[0]
        } else {
            separator = UInt8(ascii: ",")
        }
    }

    /// One row of fields, or nil at the end. Blank lines are skipped.
    private mutating func readRow() throws(ReaderError) -> (fields: [String], line: Int)? {
        while true {
            guard try stream.peek() != nil else { return nil }
            let startLine = line
            var fields: [String] = []
            var field: [UInt8] = []
            var quoted = false
            var sawAnything = false
            while true {
                guard let b = try stream.next() else {
                    if quoted { throw ReaderError("Unterminated quoted field in \(fileName) starting at line \(startLine)", line: startLine) }
                    break
                }
                sawAnything = true
                if quoted {
                    if b == UInt8(ascii: "\"") {
                        if try stream.peek() == UInt8(ascii: "\"") {
                            _ = try stream.next()
                            field.append(b)
                        } else {
                            quoted = false
                        }
                    } else {
                        if b == 0x0A { line += 1 }
                        field.append(b)
                    }
                    continue
                }
                if b == separator {
                    fields.append(decodeUTF8(field))
                    field = []
                } else if b == UInt8(ascii: "\"") && field.isEmpty {
                    quoted = true
                } else if b == 0x0D || b == 0x0A {
                    if b == 0x0D, try stream.peek() == 0x0A { _ = try stream.next() }
                    line += 1
                    break
                } else {
                    field.append(b)
                }
            }
            if fields.isEmpty && field.isEmpty && sawAnything {
                // A blank line.
                if try stream.peek() == nil { return nil }
                continue
            }
            fields.append(decodeUTF8(field))
            return (fields, startLine)
        }
    }

    public mutating func next() throws(ReaderError) -> SourceRecord? {
        if names == nil {
            guard let header = try readRow() else { return nil }
            names = header.fields
        }
        guard let row = try readRow() else { return nil }
        var record = JSONObject()
        for (i, name) in (names ?? []).enumerated() where i < row.fields.count {
            record[name] = .string(row.fields[i])
        }
        return SourceRecord(value: .object(record), line: row.line)
    }
}
