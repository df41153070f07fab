/// The files of a batch as a record processor sees them: each file's name and a reader over it.
public struct NamedReader {
    public var fileName: String
    public var reader: any RecordReader

    public init(fileName: String, reader: any RecordReader) {
        self.fileName = fileName
        self.reader = reader
    }
}

/// Replaces the list of files' readers before any record is transformed (CONTROL-FILE.md §3.6), for
/// example to join two files on a key. Named by the control file's `recordProcessor`.
public protocol RecordProcessor {
    func process(_ inputs: [NamedReader]) throws(ReaderError) -> [NamedReader]
}

/// A record processor registered under a name. A new instance is made for every run.
public struct RecordProcessorDescriptor: Sendable {
    public var name: String
    public var make: @Sendable () -> any RecordProcessor

    public init(name: String, make: @escaping @Sendable () -> any RecordProcessor) {
        self.name = name
        self.make = make
    }
}

/// Records held in memory, for processors that build their output before handing it on.
public struct ArrayRecordReader: RecordReader {
    private var records: [SourceRecord]
    private var index = 0
    public var bytesRead: Int { 0 }

    public init(_ records: [SourceRecord]) {
        self.records = records
    }

    public mutating func next() throws(ReaderError) -> SourceRecord? {
        guard index < records.count else { return nil }
        defer { index += 1 }
        return records[index]
    }
}
