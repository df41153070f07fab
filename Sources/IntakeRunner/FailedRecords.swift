import Foundation
import IntakeCore
import IntakeStore
import Synchronization
import ZIPFoundation

/// A failed record as its result line tells it: where it was and why it failed.
package struct FailedRecord: Sendable, Equatable {
    package var record: String
    package var file: String
    package var line: Int?
    package var key: String?
    package var errors: [String]
    /// Its place among the records of its file, from 0.
    package var ordinal: Int
}

/// Why failed records cannot be given back as asked.
package enum FailedRecordsError: UserFacingError, Equatable {
    case recordProcessor(BatchID, String)
    case unknownFile(BatchID, String)
    case unsupportedReader(String, String)
    case notRetryable(String)

    package var kind: ErrorKind { .invalidRequest }
    package var userMessage: String {
        switch self {
        case .recordProcessor(let id, let name):
            "Batch \(id.rawValue) used the record processor \(name.escapingControlCharacters): its failed records cannot be given back as they were in the files (use format=json or format=csv)"
        case .unknownFile(let id, let name): "Batch \(id.rawValue) has no file named \(name.escapingControlCharacters)"
        case .notRetryable(let file):
            "The failed records of file \(file.escapingControlCharacters) cannot make a new batch: a spreadsheet is given back as CSV. Download them with format=original, fix them and upload them with a control file that reads csv"
        case .unsupportedReader(let file, let reader):
            "The failed records of file \(file.escapingControlCharacters) cannot be given back as they were: its reader \(reader.escapingControlCharacters) does not keep them (use format=json or format=csv)"
        }
    }
}

/// A batch's failed records, read from its result lines in input order, page by page: memory stays
/// flat for any number of records.
package enum FailedRecordScan {
    package static let pageSize = 1000

    /// Calls `body` with the failed records of each page of results (of `file` only, when given).
    package static func pages(
        store: any BatchStore, batch: BatchID, file: String?, _ body: ([FailedRecord]) async throws -> Void
    ) async throws {
        var ordinals: [String: Int] = [:]
        for try await page in store.resultPages(of: batch, pageSize: pageSize) {
            var failed: [FailedRecord] = []
            for text in page {
                guard case .object(let result)? = try? JSONParser.parse(Array(text.utf8)),
                    let name = result["file"]?.stringValue, file == nil || name == file,
                    case .number(let line)? = result["line"]  // a feed's leaver has none: it is no record of a file
                else { continue }
                let ordinal = ordinals[name, default: 0]
                ordinals[name] = ordinal + 1
                guard result["status"]?.stringValue == RecordStatus.failed.rawValue else { continue }
                failed.append(
                    FailedRecord(
                        record: result["record"]?.stringValue ?? "", file: name, line: Int(line), key: result["key"]?.stringValue,
                        errors: result["errors"]?.arrayValue?.compactMap(\.stringValue) ?? [], ordinal: ordinal))
            }
            try await body(failed)
        }
    }
}

/// The failed records of one file of a batch, written back in the file's own shape by
/// `FailedRecordOutput`: the file is read again, record by record, and the bytes of the records
/// whose results failed are written out. Its reads block, so callers run it with `offloaded`; one
/// task uses it at a time, so its lock is never waited for.
package final class OriginalFormWriter: Sendable {
    /// The name of the download: `NAME-failed.EXT` (`NAME.EXT` for a retry's file).
    package let filename: String
    /// Whether what it writes is read by the file's own reader (not so for xlsx, written as CSV).
    package let keepsFileFormat: Bool
    private let form: Mutex<OriginalForm>

    package init(file: BatchFile, control: JSONObject, environment: ImportEnvironment, withErrors: Bool) throws {
        let form = try OriginalForm(file: file, control: control, environment: environment, withErrors: withErrors)
        (filename, keepsFileFormat) = (form.filename, form.keepsFileFormat)
        self.form = Mutex(form)
    }

    package func begin() -> [UInt8] { form.withLock { $0.begin() } }

    /// The records of `failed` (this file's, in order), as they were, with their errors.
    package func write(_ failed: [FailedRecord]) throws -> [UInt8] { try form.withLock { try $0.write(failed) } }

    package func end() -> [UInt8] { form.withLock { $0.end() } }
}

/// The reading and writing behind `OriginalFormWriter`.
private struct OriginalForm {
    private enum Records {
        case reader(any RawRecordSource)
        case xml(XMLRecordElements)
        /// xlsx: rows written as CSV under the sheet's column names.
        case rows(any RecordReader, names: [String])
    }

    let filename: String
    let keepsFileFormat: Bool
    private var records: Records
    private var output: FailedRecordOutput
    private var header: [UInt8]?
    /// The first record, read ahead for a header row.
    private var readAhead: [UInt8]?
    private var position = 0
    private let encoding: String.Encoding?

    init(file: BatchFile, control: JSONObject, environment: ImportEnvironment, withErrors: Bool) throws {
        let files = control["files"]?.objectValue ?? JSONObject()
        let spec = (files[file.name] ?? files["DEFAULT"])?.objectValue ?? JSONObject()
        let readName = spec["read"]?.jsForm ?? ""
        guard let descriptor = environment.readers[readName] else { throw FailedRecordsError.unsupportedReader(file.name, readName) }
        let singleRecord = spec["singleRecord"]?.isTruthy ?? false
        // Text readers decode the file's `charset`; what they give back is written in it again.
        let charset = spec["charset"].flatMap { $0.isMissing ? nil : Charset(name: $0.jsForm) } ?? .utf8
        encoding = readName == "csv" || readName == "tsv-with-name-row" ? Self.encoding(charset) : nil
        var ext: String
        switch (descriptor.input, readName) {
        case (.file(let make), "xlsx"):
            let local = try environment.blobs.localFile(file.digest)
            // The sheet's column names, in order: the union of every row's, read once before.
            var names: [String] = []
            var seen = Set<String>()
            var first = try make(file.name, local.path, spec)
            while let record = try first.next() {
                for name in record.value.objectValue?.keys ?? [] where seen.insert(name).inserted { names.append(name) }
            }
            records = .rows(try make(file.name, local.path, spec), names: names)
            output = FailedRecordOutput(shape: .csv(separator: UInt8(ascii: ",")), withErrors: withErrors)
            header = Self.csvRow(names)
            ext = "csv"
        case (.bytes, "xml-text-of-children"), (.bytes, "xml-attributes"):
            var elements = XMLRecordElements(source: try environment.blobs.open(file.digest), singleRecord: singleRecord)
            readAhead = try elements.next()
            // A single-record file's record is its root element: nothing wraps it.
            output = FailedRecordOutput(
                shape: .xml(head: elements.head, rootName: singleRecord ? "" : elements.rootName), withErrors: withErrors)
            records = .xml(elements)
            ext = "xml"
        case (.bytes(let make), _):
            guard var reader = try make(file.name, try environment.blobs.open(file.digest), spec) as? any RawRecordSource else {
                throw FailedRecordsError.unsupportedReader(file.name, readName)
            }
            reader.keepRawRecords()
            if try reader.next() != nil { readAhead = reader.rawRecord }
            header = reader.rawHeader
            switch readName {
            case "json":
                output = FailedRecordOutput(shape: .json, withErrors: withErrors)
                ext = "json"
            case "jsonl":
                output = FailedRecordOutput(shape: .jsonLines, withErrors: withErrors)
                ext = "jsonl"
            case "csv":
                let separator = spec["separator"].flatMap { $0.isMissing ? nil : Array($0.jsForm.utf8).first } ?? UInt8(ascii: ",")
                output = FailedRecordOutput(shape: .csv(separator: separator), withErrors: withErrors)
                ext = "csv"
            case "tsv-with-name-row":
                let separator = spec["separator"].flatMap { $0.isMissing ? nil : Array($0.jsForm.utf8) } ?? [0x09]
                output = FailedRecordOutput(shape: .tsv(separator: separator), withErrors: withErrors)
                ext = "tsv"
            default:
                throw FailedRecordsError.unsupportedReader(file.name, readName)
            }
            records = .reader(reader)
        case (.file, _):
            throw FailedRecordsError.unsupportedReader(file.name, readName)
        }
        filename = withErrors ? "\(file.name)-failed.\(ext)" : "\(file.name).\(ext)"
        keepsFileFormat = readName != "xlsx"
    }

    mutating func begin() -> [UInt8] { encoded(output.begin(header: header)) }

    mutating func write(_ failed: [FailedRecord]) throws -> [UInt8] {
        var out: [UInt8] = []
        for record in failed {
            guard let raw = try advance(to: record.ordinal) else { break }
            out += output.record(raw, errors: record.errors)
        }
        return encoded(out)
    }

    mutating func end() -> [UInt8] { encoded(output.end()) }

    /// Reads on to the record at `ordinal` and returns its bytes; nil past the end of the file.
    private mutating func advance(to ordinal: Int) throws -> [UInt8]? {
        while position <= ordinal {
            let raw: [UInt8]?
            if position == 0, readAhead != nil || !needsFirstRead {
                raw = readAhead
                readAhead = nil
            } else {
                raw = try nextRaw(building: position == ordinal)
            }
            position += 1
            if position - 1 == ordinal { return raw }
            if raw == nil { return nil }
        }
        return nil
    }

    /// Records whose first record was read ahead in `init` (all but xlsx).
    private var needsFirstRead: Bool {
        if case .rows = records { return true }
        return false
    }

    private mutating func nextRaw(building: Bool) throws -> [UInt8]? {
        switch records {
        case .reader(var reader):
            defer { records = .reader(reader) }
            if building {
                return try reader.next() == nil ? nil : reader.rawRecord
            }
            return try reader.skipNext() ? reader.rawRecord : nil
        case .xml(var elements):
            defer { records = .xml(elements) }
            return try elements.next()
        case .rows(var reader, let names):
            defer { records = .rows(reader, names: names) }
            guard let record = try reader.next() else { return nil }
            let values = record.value.objectValue ?? JSONObject()
            return Self.csvRow(names.map { values[$0]?.jsForm ?? "" })
        }
    }

    private static func csvRow(_ fields: [String]) -> [UInt8] {
        var row: [UInt8] = []
        for (i, field) in fields.enumerated() {
            if i > 0 { row.append(UInt8(ascii: ",")) }
            row += FailedRecordOutput.csvField(field, separator: UInt8(ascii: ","))
        }
        return row
    }

    private static func encoding(_ charset: Charset) -> String.Encoding? {
        switch charset {
        case .utf8: nil
        case .latin1: .isoLatin1
        case .windows1252: .windowsCP1252
        case .utf16LittleEndian: .utf16LittleEndian
        case .utf16BigEndian: .utf16BigEndian
        }
    }

    /// The file's own charset, as the control file reads it (records were read as UTF-8).
    private func encoded(_ bytes: [UInt8]) -> [UInt8] {
        guard let encoding, !bytes.isEmpty else { return bytes }
        return Array(String(decoding: bytes, as: UTF8.self).data(using: encoding, allowLossyConversion: true) ?? Data())
    }
}

/// Writing failed records out in their files' own shapes: one file as a stream, several as a zip.
package enum FailedRecordFiles {
    /// One file's failed records in its own shape: the file is read again alongside its results.
    package static func writeOriginal(
        _ writer: OriginalFormWriter, file: String, batch: BatchID, store: any BatchStore, emit: ([UInt8]) async throws -> Void
    ) async throws {
        try await emit(writer.begin())
        try await FailedRecordScan.pages(store: store, batch: batch, file: file) { page in
            guard !page.isEmpty else { return }
            let bytes = try await offloaded { try writer.write(page) }
            if !bytes.isEmpty { try await emit(bytes) }
        }
        try await emit(writer.end())
    }

    /// Several files' failed records as a zip: each written to a temporary file first (a zip entry
    /// needs its size), the archive built beside them, then streamed and removed.
    package static func writeZip(
        _ files: [BatchFile], batch: BatchID, control: JSONObject, environment: ImportEnvironment, emit: ([UInt8]) async throws -> Void
    ) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("intake-failed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var entries: [(name: String, url: URL)] = []
        for file in files {
            let writer = try await offloaded { try OriginalFormWriter(file: file, control: control, environment: environment, withErrors: true) }
            let url = folder.appendingPathComponent("entry-\(entries.count)")
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
            }
            let handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }
            try await writeOriginal(writer, file: file.name, batch: batch, store: environment.store) { bytes in
                try await offloaded { try handle.write(contentsOf: bytes) }
            }
            entries.append((writer.filename, url))
        }
        let zip = folder.appendingPathComponent("failed.zip")
        try await offloaded { [entries] in
            let archive = try Archive(url: zip, accessMode: .create)
            for entry in entries {
                try archive.addEntry(with: entry.name, fileURL: entry.url, compressionMethod: .deflate)
            }
        }
        let handle = try FileHandle(forReadingFrom: zip)
        defer { try? handle.close() }
        while let chunk = try await offloaded({ try handle.read(upToCount: 256 * 1024) }), !chunk.isEmpty {
            try await emit(Array(chunk))
        }
    }

}
