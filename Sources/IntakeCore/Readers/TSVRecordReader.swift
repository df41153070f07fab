/// `tsv-with-name-row` (docs/control-files.md#files-and-readers) with the original's splitting, streamed line by line:
/// lines end at each maximal run of CR/LF, so blank lines vanish, and a trailing line break gives a
/// final empty record.
package struct TSVRecordReader: RawRecordSource {
    private var stream: ByteStream
    private let separator: [UInt8]
    private var names: [String]?
    private var done = false
    private var line = 1
    private let fileName: String
    private let maxRecordBytes: Int
    private var keepsRaw = false
    package private(set) var rawRecord: [UInt8] = []
    package private(set) var rawHeader: [UInt8]?

    package mutating func keepRawRecords() { keepsRaw = true }

    package var bytesRead: Int { stream.bytesRead }

    package init(fileName: String, source: any ByteSource, spec: JSONObject) throws(ReaderError) {
        self.fileName = fileName
        maxRecordBytes = try RecordSizeLimit.bytes(spec, fileName: fileName)
        let charset = try charsetOption(spec, fileName: fileName)
        stream = ByteStream(UTF8TranscodingSource(source, charset: charset))
        if let s = spec["separator"], !s.isMissing {
            separator = Array(s.jsForm.utf8)
        } else {
            separator = [0x09]
        }
    }

    /// Reads one line; nil at the end of the input. `ended` tells whether a line break followed it.
    private mutating func readLine() throws(ReaderError) -> (bytes: [UInt8], ended: Bool, line: Int)? {
        var bytes: [UInt8] = []
        let startLine = line
        while let b = try stream.next() {
            if b == 0x0D || b == 0x0A {
                if b == 0x0A { line += 1 } else if try stream.peek() != 0x0A { line += 1 }
                while let n = try stream.peek(), n == 0x0D || n == 0x0A {
                    _ = try stream.next()
                    if n == 0x0A { line += 1 } else if try stream.peek() != 0x0A { line += 1 }
                }
                return (bytes, true, startLine)
            }
            bytes.append(b)
            if bytes.count > maxRecordBytes {
                throw RecordSizeLimit.exceeded(fileName: fileName, line: startLine, limit: maxRecordBytes)
            }
        }
        return (bytes.isEmpty && done) ? nil : (bytes, false, startLine)
    }

    private var pendingFinalEmpty = false

    package mutating func next() throws(ReaderError) -> SourceRecord? {
        if names == nil {
            guard try stream.peek() != nil else { done = true; return nil }
            guard let header = try readLine() else { return nil }
            names = header.bytes.split(separator: separator).map(decodeUTF8)
            if keepsRaw { rawHeader = header.bytes }
            if !header.ended { done = true; return nil }
            if try stream.peek() == nil { pendingFinalEmpty = true }
        }
        if pendingFinalEmpty {
            pendingFinalEmpty = false
            done = true
            rawRecord = []
            return SourceRecord(value: .object(JSONObject()), line: line)
        }
        if done { return nil }
        guard let current = try readLine() else { done = true; return nil }
        if !current.ended {
            done = true
        } else if try stream.peek() == nil {
            pendingFinalEmpty = true
        }
        if keepsRaw { rawRecord = current.bytes }
        var record = JSONObject()
        let fields = current.bytes.split(separator: separator)
        for (h, name) in (names ?? []).enumerated() where h < fields.count && !fields[h].isEmpty {
            record[name] = .string(decodeUTF8(fields[h]))
        }
        return SourceRecord(value: .object(record), line: current.line)
    }
}
