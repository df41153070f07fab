/// The files of a batch as a record processor sees them: each file's name and a reader over it.
package struct NamedReader {
    package var fileName: String
    package var reader: any RecordReader

    package init(fileName: String, reader: any RecordReader) {
        self.fileName = fileName
        self.reader = reader
    }
}

/// Replaces the list of files' readers before any record is transformed (docs/control-files.md#files-and-readers), for
/// example to join two files on a key. Named by the control file's `recordProcessor`.
package protocol RecordProcessor {
    func process(_ inputs: [NamedReader]) throws(ReaderError) -> [NamedReader]
}

/// A record processor registered under a name. A new instance is made for every run.
package struct RecordProcessorDescriptor: Sendable {
    package var name: String
    package var make: @Sendable () -> any RecordProcessor

    package init(name: String, make: @escaping @Sendable () -> any RecordProcessor) {
        self.name = name
        self.make = make
    }
}

/// Records held in memory, for processors that build their output before handing it on.
package struct ArrayRecordReader: RecordReader {
    private var records: [SourceRecord]
    private var index = 0
    package var bytesRead: Int { 0 }

    package init(_ records: [SourceRecord]) {
        self.records = records
    }

    package mutating func next() throws(ReaderError) -> SourceRecord? {
        guard index < records.count else { return nil }
        defer { index += 1 }
        return records[index]
    }
}
