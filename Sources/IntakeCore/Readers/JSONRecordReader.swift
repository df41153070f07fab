/// The `json` reader (docs/control-files.md#files-and-readers), streaming: a top-level array or object is read one
/// element at a time; only the current element is held in memory.
package struct JSONRecordReader: RawRecordSource {
    private enum Mode { case start, array, object, finished }

    private let fileName: String
    private var input: ReadBuffer
    private let singleRecord: Bool
    private var mode = Mode.start
    package var bytesRead: Int { input.bytesRead }
    private var line = 1
    private var lineStart = 0  // absolute offset of the current line's first byte
    private var absolute = 0  // absolute offset of the next unread byte
    private var first = true
    private let maxRecordBytes: Int
    private var keepsRaw = false
    package private(set) var rawRecord: [UInt8] = []

    package mutating func keepRawRecords() { keepsRaw = true }

    package init(fileName: String, source: any ByteSource, singleRecord: Bool, maxRecordBytes: Int = RecordSizeLimit.defaultBytes) {
        self.fileName = fileName
        input = ReadBuffer(fileName: fileName, source: source)
        self.singleRecord = singleRecord
        self.maxRecordBytes = maxRecordBytes
    }

    private func fail(_ message: String, line: Int, column: Int) -> ReaderError {
        ReaderError("JSON syntax error in \(fileName) at line \(line), column \(column): \(message)", line: line)
    }

    private func failHere(_ message: String) -> ReaderError {
        fail(message, line: line, column: absolute - lineStart + 1)
    }

    private mutating func fill() throws(ReaderError) -> Bool { try input.fill() }

    private mutating func peek() throws(ReaderError) -> UInt8? {
        try fill() ? input.bytes[input.position] : nil
    }

    private mutating func advance() {
        if input.bytes[input.position] == 0x0A { line += 1; lineStart = absolute + 1 }
        input.position += 1
        absolute += 1
    }

    private mutating func skipWhitespace() throws(ReaderError) {
        while let b = try peek(), b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { advance() }
    }

    /// Copies the bytes of one complete JSON value into `out`, tracking nesting and strings. Works a
    /// input.bytes at a time: this loop sees every byte of the input.
    private mutating func scanValue(into out: inout [UInt8]) throws(ReaderError) {
        guard let firstByte = try peek() else { throw failHere("Unexpected end of JSON") }
        let scalar = firstByte != UInt8(ascii: "{") && firstByte != UInt8(ascii: "[") && firstByte != UInt8(ascii: "\"")
        var depth = 0
        var inString = false
        var escaped = false
        let startLine = line
        while try fill() {
            let from = input.position
            var k = input.position
            var done = false
            var newlines = 0
            var lastNewline = -1
            input.bytes.withUnsafeBufferPointer { buffer in
                let end = input.end
                scan: while k < end {
                    let b = buffer[k]
                    if b == 0x0A { newlines += 1; lastNewline = k }
                    if inString {
                        if escaped {
                            escaped = false
                        } else if b == UInt8(ascii: "\\") {
                            escaped = true
                        } else if b == UInt8(ascii: "\"") {
                            inString = false
                            if depth == 0 { k += 1; done = true; break scan }
                        }
                    } else if scalar {
                        switch b {
                        case UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"), 0x20, 0x0A, 0x0D, 0x09:
                            if b == 0x0A { newlines -= 1; lastNewline = -1 }
                            done = true
                            break scan
                        default: break
                        }
                    } else {
                        switch b {
                        case UInt8(ascii: "\""): inString = true
                        case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                        case UInt8(ascii: "}"), UInt8(ascii: "]"):
                            depth -= 1
                            if depth == 0 { k += 1; done = true; break scan }
                        default: break
                        }
                    }
                    k += 1
                }
            }
            out.append(contentsOf: input.bytes[from..<k])
            if out.count > maxRecordBytes {
                throw RecordSizeLimit.exceeded(fileName: fileName, line: startLine, limit: maxRecordBytes)
            }
            if newlines > 0 {
                line += newlines
                lineStart = absolute + (lastNewline - from) + 1
            }
            absolute += k - from
            input.position = k
            if done { return }
        }
    }

    /// Only check values, do not build them (`skipNext`).
    private var validating = false

    /// Parses an object or array that lies wholly in the buffer where it is, without copying it
    /// out first (most records do); nil when it does not, or is malformed, for `readValue` to handle.
    private mutating func readValueInPlace() -> SourceRecord? {
        let startLine = line
        let from = input.position
        let parsed: (value: JSONValue, length: Int)? = input.bytes.withUnsafeBufferPointer { buffer in
            JSONParser.parsePrefix(UnsafeBufferPointer(rebasing: buffer[from..<input.end]), building: !validating)
        }
        guard let parsed else { return nil }
        let to = from + parsed.length
        var newlines = 0
        var lastNewline = -1
        input.bytes.withUnsafeBufferPointer { buffer in
            for k in from..<to where buffer[k] == 0x0A {
                newlines += 1
                lastNewline = k
            }
        }
        if newlines > 0 {
            line += newlines
            lineStart = absolute + (lastNewline - from) + 1
        }
        absolute += parsed.length
        if keepsRaw { rawRecord = Array(input.bytes[from..<to]) }
        input.position = to
        return SourceRecord(value: parsed.value, line: startLine)
    }

    /// Reads and parses one value starting at the current input.position.
    private mutating func readValue() throws(ReaderError) -> SourceRecord {
        if try fill(), let record = readValueInPlace() { return record }
        let startLine = line
        let startColumn = absolute - lineStart + 1
        var bytes: [UInt8] = []
        try scanValue(into: &bytes)
        if keepsRaw { rawRecord = bytes }
        do {
            if validating {
                try JSONParser.validate(bytes)
                return SourceRecord(value: .null, line: startLine)
            }
            return SourceRecord(value: try JSONParser.parse(bytes), line: startLine)
        } catch {
            // Convert the offset inside the value to a line and column in the file.
            var l = startLine, c = startColumn
            for b in bytes.prefix(error.offset) {
                if b == 0x0A { l += 1; c = 1 } else { c += 1 }
            }
            throw fail(error.message, line: l, column: c)
        }
    }

    package mutating func skipNext() throws(ReaderError) -> Bool {
        validating = true
        defer { validating = false }
        return try next() != nil
    }

    package mutating func next() throws(ReaderError) -> SourceRecord? {
        switch mode {
        case .finished:
            return nil
        case .start:
            if try peek() == 0xEF {
                advance()
                guard try peek() == 0xBB else { throw failHere("Invalid byte") }
                advance()
                guard try peek() == 0xBF else { throw failHere("Invalid byte") }
                advance()
                lineStart = absolute
            }
            try skipWhitespace()
            guard let b = try peek() else { throw failHere("The file is empty, not JSON") }
            if singleRecord || (b != UInt8(ascii: "[") && b != UInt8(ascii: "{")) {
                let record = try readValue()
                try expectEnd()
                mode = .finished
                if singleRecord { return record }
                return nil  // a scalar document gives no records
            }
            advance()
            mode = b == UInt8(ascii: "[") ? .array : .object
            first = true
            return try next()
        case .array, .object:
            let closer = mode == .array ? UInt8(ascii: "]") : UInt8(ascii: "}")
            try skipWhitespace()
            guard let b = try peek() else { throw failHere("Unexpected end of JSON") }
            if b == closer {
                advance()
                try expectEnd()
                mode = .finished
                return nil
            }
            if !first {
                guard b == UInt8(ascii: ",") else {
                    throw failHere("Expected ',' or '\(Character(UnicodeScalar(closer)))'")
                }
                advance()
                try skipWhitespace()
            }
            first = false
            if mode == .object {
                guard try peek() == UInt8(ascii: "\"") else { throw failHere("Expected a string key in object") }
                _ = try readValue()
                try skipWhitespace()
                guard try peek() == UInt8(ascii: ":") else { throw failHere("Expected ':' after object key") }
                advance()
                try skipWhitespace()
            }
            return try readValue()
        }
    }

    private mutating func expectEnd() throws(ReaderError) {
        try skipWhitespace()
        if try peek() != nil { throw failHere("Unexpected data after the JSON value") }
    }
}
