/// `jsonl` (extension): one JSON value per line; blank lines are skipped. A line that is not JSON is
/// fatal and named by line and column.
public struct JSONLinesRecordReader: RecordReader {
    private let fileName: String
    private var stream: ByteStream
    private var line = 0

    public var bytesRead: Int { stream.bytesRead }

    public init(fileName: String, source: any ByteSource) {
        self.fileName = fileName
        stream = ByteStream(UTF8TranscodingSource(source, charset: .utf8))
    }

    public mutating func next() throws(ReaderError) -> SourceRecord? {
        while true {
            var bytes: [UInt8] = []
            var sawByte = false
            while let b = try stream.next() {
                sawByte = true
                if b == 0x0A { break }
                bytes.append(b)
            }
            guard sawByte else { return nil }
            line += 1
            if bytes.last == 0x0D { bytes.removeLast() }
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            do {
                return SourceRecord(value: try JSONParser.parse(bytes), line: line)
            } catch {
                let column = bytes.prefix(error.offset).count + 1
                throw ReaderError("JSON syntax error in \(fileName) at line \(line), column \(column): \(error.message)", line: line)
            }
        }
    }
}
