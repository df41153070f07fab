/// `jsonl` (extension): one JSON value per line; blank lines are skipped. A line that is not JSON is
/// fatal and named by line and column. A UTF-8 byte order mark at the start is skipped.
///
/// Lines are found and parsed where they lie in a 256 KiB read buffer; only a line that runs past
/// the end of the buffer is copied, into a carry-over buffer.
public struct JSONLinesRecordReader: RecordReader {
    private let fileName: String
    private var source: any ByteSource
    private var chunk: [UInt8] = []
    private var chunkEnd = 0
    private var position = 0
    private var atEOF = false
    private var carry: [UInt8] = []
    private var line = 0
    private var started = false
    public private(set) var bytesRead = 0

    static let chunkSize = 256 * 1024

    public init(fileName: String, source: any ByteSource) {
        self.fileName = fileName
        self.source = source
    }

    public mutating func next() throws(ReaderError) -> SourceRecord? {
        try read(building: true)
    }

    public mutating func skipNext() throws(ReaderError) -> Bool {
        try read(building: false) != nil
    }

    private mutating func read(building: Bool) throws(ReaderError) -> SourceRecord? {
        while true {
            guard let found = try nextLine(building: building) else { return nil }
            if let record = found { return record }
        }
    }

    private mutating func fill() throws(ReaderError) -> Bool {
        if position < chunkEnd { return true }
        if atEOF { return false }
        if chunk.count != Self.chunkSize { chunk = [UInt8](repeating: 0, count: Self.chunkSize) }
        let n: Int
        do {
            n = try chunk.withUnsafeMutableBytes { try source.read(into: $0) }
        } catch {
            throw ReaderError("Could not read \(fileName): \(error)")
        }
        position = 0
        chunkEnd = n
        if n == 0 { atEOF = true; return false }
        bytesRead += n
        if !started {
            started = true
            if n >= 3, chunk[0] == 0xEF, chunk[1] == 0xBB, chunk[2] == 0xBF { position = 3 }
        }
        return true
    }

    /// The next line's record: nil at the end of the input, `.some(nil)` for a blank line.
    private mutating func nextLine(building: Bool) throws(ReaderError) -> SourceRecord?? {
        carry.removeAll(keepingCapacity: true)
        var sawByte = false
        while try fill() {
            sawByte = true
            let from = position
            var newline = -1
            chunk.withUnsafeBufferPointer { buffer in
                for k in from..<chunkEnd where buffer[k] == 0x0A {
                    newline = k
                    break
                }
            }
            if newline < 0 {
                carry.append(contentsOf: chunk[from..<chunkEnd])
                position = chunkEnd
                continue
            }
            position = newline + 1
            line += 1
            if carry.isEmpty {
                return try chunk.withUnsafeBufferPointer { buffer throws(ReaderError) in
                    try record(UnsafeBufferPointer(rebasing: buffer[from..<newline]), building: building)
                }
            }
            carry.append(contentsOf: chunk[from..<newline])
            return try lineFromCarry(building: building)
        }
        guard sawByte else { return nil }
        line += 1
        return try lineFromCarry(building: building)
    }

    private func lineFromCarry(building: Bool) throws(ReaderError) -> SourceRecord?? {
        try carry.withUnsafeBufferPointer { buffer throws(ReaderError) in try record(buffer, building: building) }
    }

    private func record(_ lineBytes: UnsafeBufferPointer<UInt8>, building: Bool) throws(ReaderError) -> SourceRecord?? {
        var bytes = lineBytes
        if bytes.last == 0x0D { bytes = UnsafeBufferPointer(rebasing: bytes.dropLast()) }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return .some(nil) }
        do {
            if building { return SourceRecord(value: try JSONParser.parse(bytes), line: line) }
            try JSONParser.validate(bytes)
            return SourceRecord(value: .null, line: line)
        } catch {
            let column = min(error.offset, bytes.count) + 1
            throw ReaderError("JSON syntax error in \(fileName) at line \(line), column \(column): \(error.message)", line: line)
        }
    }
}
