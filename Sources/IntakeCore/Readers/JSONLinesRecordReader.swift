/// `jsonl` (extension): one JSON value per line; blank lines are skipped. A line that is not JSON is
/// fatal and named by line and column. A UTF-8 byte order mark at the start is skipped.
///
/// Lines are found and parsed where they lie in a 256 KiB read buffer; only a line that runs past
/// the end of the buffer is copied, into a carry-over buffer.
package struct JSONLinesRecordReader: RawRecordSource {
    private let fileName: String
    private var input: ReadBuffer
    private var carry: [UInt8] = []
    private var line = 0
    private var started = false
    package var bytesRead: Int { input.bytesRead }

    private let maxRecordBytes: Int
    private var keepsRaw = false
    package private(set) var rawRecord: [UInt8] = []

    package mutating func keepRawRecords() { keepsRaw = true }

    package init(fileName: String, source: any ByteSource, maxRecordBytes: Int = RecordSizeLimit.defaultBytes) {
        self.fileName = fileName
        input = ReadBuffer(fileName: fileName, source: source)
        self.maxRecordBytes = maxRecordBytes
    }

    package mutating func next() throws(ReaderError) -> SourceRecord? {
        try read(building: true)
    }

    package mutating func skipNext() throws(ReaderError) -> Bool {
        try read(building: false) != nil
    }

    private mutating func read(building: Bool) throws(ReaderError) -> SourceRecord? {
        while true {
            guard let found = try nextLine(building: building) else { return nil }
            if let record = found { return record }
        }
    }

    private mutating func fill() throws(ReaderError) -> Bool {
        guard try input.fill() else { return false }
        if !started {
            started = true
            let b = input.bytes
            if input.end >= 3, b[0] == 0xEF, b[1] == 0xBB, b[2] == 0xBF { input.position = 3 }
        }
        return true
    }

    /// The next line's record: nil at the end of the input, `.some(nil)` for a blank line.
    private mutating func nextLine(building: Bool) throws(ReaderError) -> SourceRecord?? {
        carry.removeAll(keepingCapacity: true)
        var sawByte = false
        while try fill() {
            sawByte = true
            let from = input.position
            var newline = -1
            input.bytes.withUnsafeBufferPointer { buffer in
                for k in from..<input.end where buffer[k] == 0x0A {
                    newline = k
                    break
                }
            }
            if newline < 0 {
                carry.append(contentsOf: input.bytes[from..<input.end])
                input.position = input.end
                if carry.count > maxRecordBytes {
                    throw RecordSizeLimit.exceeded(fileName: fileName, line: line + 1, limit: maxRecordBytes)
                }
                continue
            }
            input.position = newline + 1
            line += 1
            if carry.isEmpty {
                if keepsRaw { rawRecord = withoutLineBreak(input.bytes[from..<newline]) }
                return try input.bytes.withUnsafeBufferPointer { buffer throws(ReaderError) in
                    try record(UnsafeBufferPointer(rebasing: buffer[from..<newline]), building: building)
                }
            }
            carry.append(contentsOf: input.bytes[from..<newline])
            return try lineFromCarry(building: building)
        }
        guard sawByte else { return nil }
        line += 1
        return try lineFromCarry(building: building)
    }

    private mutating func lineFromCarry(building: Bool) throws(ReaderError) -> SourceRecord?? {
        if keepsRaw { rawRecord = withoutLineBreak(carry) }
        return try carry.withUnsafeBufferPointer { buffer throws(ReaderError) in try record(buffer, building: building) }
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
