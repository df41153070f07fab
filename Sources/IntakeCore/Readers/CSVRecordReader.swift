/// `csv` (extension): RFC 4180 with a header row. Quoted fields may hold separators, doubled quotes
/// and line breaks; a UTF-8 BOM is skipped; blank lines give no record. Options: `separator` (one
/// character, default `,`), `charset`.
///
/// Rows are split where they lie in a read buffer, which always holds the whole row being read: when
/// a row runs past the buffered bytes, the rest of the buffer moves to the front and more is read
/// (the buffer grows for a row longer than itself).
package struct CSVRecordReader: RawRecordSource {
    private let fileName: String
    private var source: UTF8TranscodingSource
    private let separator: UInt8
    private var header: Header?
    private var line = 1
    private var buffer: [UInt8] = []
    private var start = 0
    private var end = 0
    private var atEOF = false
    private var scratch: [UInt8] = []
    private let maxRecordBytes: Int
    private var keepsRaw = false
    package private(set) var rawRecord: [UInt8] = []
    package private(set) var rawHeader: [UInt8]?

    package mutating func keepRawRecords() { keepsRaw = true }
    /// Bytes scanned for rows that turned out to run past the buffer (and were scanned again): the
    /// measure that must stay linear in the row's length.
    private(set) var rescannedBytes = 0

    package var bytesRead: Int { source.bytesConsumed }

    static let initialBufferSize = 256 * 1024

    /// The header's names, and for each column the slot its value takes in a record (a repeated
    /// name keeps its first position and the last value).
    private struct Header {
        var names: [String]
        var slots: [Int]
        var unique: Bool
    }

    package init(fileName: String, source: any ByteSource, spec: JSONObject) throws(ReaderError) {
        self.fileName = fileName
        let charset = try charsetOption(spec, fileName: fileName)
        self.source = UTF8TranscodingSource(source, charset: charset)
        maxRecordBytes = try RecordSizeLimit.bytes(spec, fileName: fileName)
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

    /// Reads more input after the unread bytes; false at the end of the input.
    private mutating func readMore() throws(ReaderError) -> Bool {
        if atEOF { return false }
        if buffer.isEmpty { buffer = [UInt8](repeating: 0, count: Self.initialBufferSize) }
        if start > 0 {
            buffer.withUnsafeMutableBufferPointer { b in
                UnsafeMutableRawPointer(b.baseAddress!).copyMemory(from: b.baseAddress! + start, byteCount: end - start)
            }
            end -= start
            start = 0
        }
        if end == buffer.count { buffer.append(contentsOf: repeatElement(0, count: buffer.count)) }
        // The buffer is filled to the end before a row is scanned again: a row longer than one read
        // is then rescanned once per doubling of the buffer, not once per read, which keeps the
        // time for a long (or never-ending) quoted field linear in its size.
        var readAny = false
        while end < buffer.count {
            let n: Int
            do {
                let from = end
                n = try buffer.withUnsafeMutableBytes { raw in try source.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[from...])) }
            } catch {
                throw ReaderError("Could not read the file: \(error)", retryable: error is any RetryableFailure)
            }
            if n == 0 { atEOF = true; break }
            end += n
            readAny = true
        }
        return readAny
    }

    private enum RowScan {
        case row(fields: [String], next: Int, lines: Int)
        case blank(next: Int, lines: Int)
        /// The row goes on past the buffered bytes.
        case incomplete
        case unterminatedQuote
    }

    /// Splits the row at `start` if it ends within the buffer (or the input ends).
    private mutating func scanRow() -> RowScan {
        let separator = self.separator
        let atEOF = self.atEOF
        var scratch = self.scratch
        defer { self.scratch = scratch }
        return buffer.withUnsafeBufferPointer { b -> RowScan in
            var fields: [String] = []
            var k = start
            var lines = 0
            var fieldStart = k
            var quotedField = false
            while true {
                if k == end {
                    guard atEOF else { return .incomplete }
                    if k == start { return .blank(next: k, lines: 0) }
                    fields.append(quotedField ? decodeUTF8(scratch) : decodeUTF8(UnsafeBufferPointer(rebasing: b[fieldStart..<k])))
                    return .row(fields: fields, next: k, lines: lines)
                }
                let c = b[k]
                if c == UInt8(ascii: "\"") && k == fieldStart && !quotedField {
                    // A quoted field: copied into scratch, doubled quotes made single.
                    scratch.removeAll(keepingCapacity: true)
                    k += 1
                    var closed = false
                    while k < end {
                        let q = b[k]
                        if q == UInt8(ascii: "\"") {
                            if k + 1 < end && b[k + 1] == UInt8(ascii: "\"") {
                                scratch.append(q)
                                k += 2
                                continue
                            }
                            if k + 1 == end && !atEOF { return .incomplete }
                            k += 1
                            closed = true
                            break
                        }
                        if q == 0x0A { lines += 1 }
                        scratch.append(q)
                        k += 1
                    }
                    if !closed { return atEOF ? .unterminatedQuote : .incomplete }
                    quotedField = true
                    continue
                }
                if c == separator {
                    fields.append(quotedField ? decodeUTF8(scratch) : decodeUTF8(UnsafeBufferPointer(rebasing: b[fieldStart..<k])))
                    quotedField = false
                    k += 1
                    fieldStart = k
                    continue
                }
                if c == 0x0A || c == 0x0D {
                    var next = k + 1
                    if c == 0x0D {
                        if next == end && !atEOF { return .incomplete }
                        if next < end && b[next] == 0x0A { next += 1 }
                    }
                    if fields.isEmpty && k == fieldStart && !quotedField { return .blank(next: next, lines: lines + 1) }
                    fields.append(quotedField ? decodeUTF8(scratch) : decodeUTF8(UnsafeBufferPointer(rebasing: b[fieldStart..<k])))
                    return .row(fields: fields, next: next, lines: lines + 1)
                }
                if quotedField {
                    // Text after a closing quote belongs to the field, as the previous reader kept it.
                    scratch.append(c)
                }
                k += 1
            }
        }
    }

    /// One row of fields, or nil at the end. Blank lines are skipped.
    private mutating func readRow() throws(ReaderError) -> (fields: [String], line: Int)? {
        while true {
            if start == end {
                guard try readMore() else { return nil }
            }
            switch scanRow() {
            case .row(let fields, let next, let lines):
                let rowLine = line
                line += lines
                if keepsRaw { rawRecord = withoutLineBreak(buffer[start..<next]) }
                start = next
                return (fields, rowLine)
            case .blank(let next, let lines):
                line += lines
                start = next
                if start == end && atEOF { return nil }
            case .incomplete:
                rescannedBytes += end - start
                if end - start > maxRecordBytes {
                    throw RecordSizeLimit.exceeded(fileName: fileName, line: line, limit: maxRecordBytes)
                }
                guard try readMore() else { continue }
            case .unterminatedQuote:
                throw ReaderError("Unterminated quoted field in \(fileName) starting at line \(line)", line: line)
            }
        }
    }

    package mutating func next() throws(ReaderError) -> SourceRecord? {
        if header == nil {
            guard let row = try readRow() else { return nil }
            var firstSlot: [ExactKey: Int] = [:]
            var names: [String] = []
            var slots: [Int] = []
            for name in row.fields {
                if let slot = firstSlot[ExactKey(name)] {
                    slots.append(slot)
                } else {
                    firstSlot[ExactKey(name)] = names.count
                    slots.append(names.count)
                    names.append(name)
                }
            }
            header = Header(names: names, slots: slots, unique: names.count == row.fields.count)
            if keepsRaw { rawHeader = rawRecord }
        }
        guard let row = try readRow(), let header else { return nil }
        let columns = min(row.fields.count, header.slots.count)
        if header.unique {
            return SourceRecord(
                value: .object(
                    JSONObject(
                        uniqueKeys: Array(header.names.prefix(columns)),
                        values: row.fields.prefix(columns).map(JSONValue.string))),
                line: row.line)
        }
        var record = JSONObject()
        for i in 0..<columns { record[header.names[header.slots[i]]] = .string(row.fields[i]) }
        return SourceRecord(value: .object(record), line: row.line)
    }
}
