/// A source of bytes; returns 0 at the end. Readers pull from it in chunks, so a file never has to
/// be held in memory.
package protocol ByteSource {
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// Bytes held in memory, for tests and small inputs.
package struct MemoryByteSource: ByteSource {
    private let bytes: [UInt8]
    private var offset = 0

    package init(_ bytes: [UInt8]) { self.bytes = bytes }
    package init(_ text: String) { self.bytes = Array(text.utf8) }

    package mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - offset)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { src in
            buffer.baseAddress!.copyMemory(from: src.baseAddress! + offset, byteCount: n)
        }
        offset += n
        return n
    }
}

/// A record and where it came from.
package struct SourceRecord: Sendable {
    package var value: JSONValue
    /// 1-based line (or row) where the record starts.
    package var line: Int

    package init(value: JSONValue, line: Int) {
        self.value = value
        self.line = line
    }
}

/// A fatal problem with an input file, naming the file and position.
package struct ReaderError: Error, Sendable, Equatable, CustomStringConvertible {
    package var message: String
    package var line: Int?
    /// The bytes could not be had for a reason a later attempt may get over (`RetryableFailure`:
    /// the database that holds the file is unavailable), not because of the file.
    package var isRetryable: Bool

    package init(_ message: String, line: Int? = nil, retryable: Bool = false) {
        self.message = message
        self.line = line
        self.isRetryable = retryable
    }

    package var description: String { message }
}

/// A failure a later attempt may get over (a database restarting, a full disk): a reader that meets
/// one reports it as a retryable `ReaderError`, so the run waits rather than blaming the file.
package protocol RetryableFailure: Error {}

/// Turns a file into records, one at a time (docs/control-files.md#files-and-readers).
package protocol RecordReader {
    /// The next record, or nil at the end of the file.
    mutating func next() throws(ReaderError) -> SourceRecord?
    /// Bytes consumed from the source so far, for progress.
    var bytesRead: Int { get }
    /// Reads past the next record, checking it but not necessarily building it; false at the end.
    /// Used for the well-formedness pass and to skip records already done when a run resumes.
    mutating func skipNext() throws(ReaderError) -> Bool
    /// Reads to the end, checking every record: the well-formedness pass. A reader may do this more
    /// cheaply than record by record; it is not read from afterwards.
    /// Reads every record to prove the file well-formed; returns how many there are.
    mutating func checkAll() throws(ReaderError) -> Int
}

extension RecordReader {
    package mutating func skipNext() throws(ReaderError) -> Bool {
        try next() != nil
    }

    package mutating func checkAll() throws(ReaderError) -> Int {
        var count = 0
        while try skipNext() { count += 1 }
        return count
    }
}

/// A reader registered under a `read` name. Most readers stream from a byte source; a reader of a
/// container format that needs random access (xlsx) is given the stored file's path instead.
package struct ReaderDescriptor: Sendable {
    package enum Input: Sendable {
        case bytes(@Sendable (_ fileName: String, _ source: any ByteSource, _ spec: JSONObject) throws(ReaderError) -> any RecordReader)
        case file(@Sendable (_ fileName: String, _ path: String, _ spec: JSONObject) throws(ReaderError) -> any RecordReader)
    }

    package var name: String
    package var input: Input

    package init(
        name: String,
        make: @escaping @Sendable (String, any ByteSource, JSONObject) throws(ReaderError) -> any RecordReader
    ) {
        self.name = name
        self.input = .bytes(make)
    }

    package init(
        name: String,
        makeFromFile: @escaping @Sendable (String, String, JSONObject) throws(ReaderError) -> any RecordReader
    ) {
        self.name = name
        self.input = .file(makeFromFile)
    }
}

package enum StandardReaders {
    package static let all: [ReaderDescriptor] = [
        ReaderDescriptor(name: "json") { fileName, source, spec throws(ReaderError) in
            JSONRecordReader(
                fileName: fileName, source: source, singleRecord: spec["singleRecord"]?.isTruthy ?? false,
                maxRecordBytes: try RecordSizeLimit.bytes(spec, fileName: fileName))
        },
        ReaderDescriptor(name: "jsonl") { fileName, source, spec throws(ReaderError) in
            JSONLinesRecordReader(fileName: fileName, source: source, maxRecordBytes: try RecordSizeLimit.bytes(spec, fileName: fileName))
        },
        ReaderDescriptor(name: "tsv-with-name-row") { fileName, source, spec throws(ReaderError) in
            try TSVRecordReader(fileName: fileName, source: source, spec: spec)
        },
        ReaderDescriptor(name: "xml-text-of-children") { fileName, source, spec throws(ReaderError) in
            XMLRecordReader(
                fileName: fileName, source: source, fields: .textOfChildren,
                singleRecord: spec["singleRecord"]?.isTruthy ?? false,
                maxRecordBytes: try RecordSizeLimit.bytes(spec, fileName: fileName))
        },
        ReaderDescriptor(name: "xml-attributes") { fileName, source, spec throws(ReaderError) in
            XMLRecordReader(
                fileName: fileName, source: source, fields: .attributes,
                singleRecord: spec["singleRecord"]?.isTruthy ?? false,
                maxRecordBytes: try RecordSizeLimit.bytes(spec, fileName: fileName))
        },
        ReaderDescriptor(name: "csv") { fileName, source, spec throws(ReaderError) in
            try CSVRecordReader(fileName: fileName, source: source, spec: spec)
        }
    ]
}
