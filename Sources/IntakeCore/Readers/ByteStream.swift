/// Buffered, byte-at-a-time access to a byte source, for the line-oriented readers.
struct ByteStream {
    private var source: any ByteSource
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    private var position = 0
    private var end = 0
    private var finished = false
    private(set) var bytesRead = 0

    init(_ source: any ByteSource) {
        self.source = source
    }

    /// The next byte without consuming it, or nil at the end.
    mutating func peek() throws(ReaderError) -> UInt8? {
        if position < end { return buffer[position] }
        if finished { return nil }
        do {
            end = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
        } catch {
            throw ReaderError("Could not read the file: \(error)", retryable: error is any RetryableFailure)
        }
        position = 0
        bytesRead += end
        if end == 0 { finished = true; return nil }
        return buffer[0]
    }

    mutating func next() throws(ReaderError) -> UInt8? {
        guard let b = try peek() else { return nil }
        position += 1
        return b
    }
}

extension [UInt8] {
    /// Splits on a literal separator of one or more bytes.
    func split(separator: [UInt8]) -> [ArraySlice<UInt8>] {
        guard !separator.isEmpty else { return [self[...]] }
        var parts: [ArraySlice<UInt8>] = []
        var start = 0
        var i = 0
        while i + separator.count <= count {
            if self[i] == separator[0], self[i..<(i + separator.count)].elementsEqual(separator) {
                parts.append(self[start..<i])
                i += separator.count
                start = i
            } else {
                i += 1
            }
        }
        parts.append(self[start...])
        return parts
    }
}

func decodeUTF8<C: Collection<UInt8>>(_ bytes: C) -> String {
    String(decoding: bytes, as: UTF8.self)
}

/// Reads the `charset` option: empty means UTF-8, an unknown name is fatal.
func charsetOption(_ spec: JSONObject, fileName: String) throws(ReaderError) -> Charset {
    guard let value = spec["charset"], !value.isMissing else { return .utf8 }
    guard let charset = Charset(name: value.jsForm) else {
        throw ReaderError("Unknown charset for file \(fileName): \(value.jsForm)")
    }
    return charset
}

/// A byte source read in 256 KiB chunks into one reused buffer, for the readers that parse records
/// where they lie in it (json, jsonl). `position` is the first unread byte, `end` the end of the
/// bytes read; the buffer is released at the end of the input.
struct ReadBuffer {
    private var source: any ByteSource
    private let fileName: String
    private(set) var bytes: [UInt8] = []
    private(set) var end = 0
    var position = 0
    private(set) var atEOF = false
    private(set) var bytesRead = 0
    static let size = 256 * 1024

    init(fileName: String, source: any ByteSource) {
        self.fileName = fileName
        self.source = source
    }

    /// Ensures at least one unread byte, unless at the end of the input.
    mutating func fill() throws(ReaderError) -> Bool {
        if position < end { return true }
        if atEOF { return false }
        position = 0
        if bytes.count != Self.size { bytes = [UInt8](repeating: 0, count: Self.size) }
        let n: Int
        do {
            n = try bytes.withUnsafeMutableBytes { try source.read(into: $0) }
        } catch {
            throw ReaderError("Could not read \(fileName): \(error)", retryable: error is any RetryableFailure)
        }
        end = n
        if n == 0 { atEOF = true; bytes = []; return false }
        bytesRead += n
        return true
    }
}
