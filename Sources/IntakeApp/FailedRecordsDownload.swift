import Foundation
import IntakeCore
import IntakeRunner
import IntakeStore

/// A download of a batch's failed records (`GET results?status=failed&format=…`): its name, type,
/// and a function that writes its body in pieces. Nothing is held whole: the results and the files
/// are read page by page, record by record.
package struct FailedRecordsDownload: Sendable {
    package var filename: String
    package var contentType: String
    package var write: @Sendable (_ emit: ([UInt8]) async throws -> Void) async throws -> Void
}

/// The shapes a batch's failed records come in (docs/api.md "Failed records as they came").
package enum FailedRecordsFormat: String, Sendable, CaseIterable {
    /// As they were in the uploaded files, with their errors added.
    case original
    /// A JSON array of `record`, `file`, `line`, `key`, `errors`.
    case json
    /// The same table as CSV.
    case csv
}

extension ImportService {
    /// The failed records of a finished batch, in `format`; `file` narrows them to one file. In the
    /// original form a batch with failed records in several files (and no `file`) is a zip of one
    /// file each.
    package func failedRecords(batch text: String?, format: FailedRecordsFormat, file: String?) async throws -> FailedRecordsDownload {
        let batch = try await self.batch(text)
        if let file, !batch.files.contains(where: { $0.name == file }) { throw FailedRecordsError.unknownFile(batch.id, file) }
        let store = self.store
        switch format {
        case .json, .csv:
            let json = format == .json
            return FailedRecordsDownload(
                filename: "\(batch.id.rawValue)-failed.\(format.rawValue)",
                contentType: json ? "application/json; charset=utf-8" : "text/csv; charset=utf-8"
            ) { emit in
                var first = true
                try await emit(Array((json ? "[" : "record,file,line,key,errors\n").utf8))
                try await FailedRecordScan.pages(store: store, batch: batch.id, file: file) { page in
                    var out: [UInt8] = []
                    for record in page {
                        out += json ? Self.jsonRow(record, first: first) : Self.csvRow(record)
                        first = false
                    }
                    if !out.isEmpty { try await emit(out) }
                }
                if json { try await emit(Array((first ? "]\n" : "\n]\n").utf8)) }
            }
        case .original:
            if let purged = batch.purged { throw BatchError.purged(batch.id, purged) }
            let control = try await originalFormControl(batch)
            let environment = self.environment
            var names = file.map { [$0] } ?? batch.files.map(\.name)
            if names.count > 1 {
                names = try await filesWithFailures(batch, among: names)
            }
            if names.count <= 1 {
                let name = names.first ?? batch.files.first?.name
                guard let name, let stored = batch.files.first(where: { $0.name == name }) else {
                    return FailedRecordsDownload(filename: "\(batch.id.rawValue)-failed.json", contentType: "application/json") { emit in
                        try await emit(Array("[]\n".utf8))
                    }
                }
                let writer = try await offloaded { try OriginalFormWriter(file: stored, control: control, environment: environment, withErrors: true) }
                return FailedRecordsDownload(filename: writer.filename, contentType: Self.contentType(writer.filename)) { emit in
                    try await FailedRecordFiles.writeOriginal(writer, file: name, batch: batch.id, store: store, emit: emit)
                }
            }
            let files = batch.files.filter { names.contains($0.name) }
            return FailedRecordsDownload(filename: "\(batch.id.rawValue)-failed.zip", contentType: "application/zip") { emit in
                try await FailedRecordFiles.writeZip(files, batch: batch.id, control: control, environment: environment, emit: emit)
            }
        }
    }

    /// A new batch of the same control file whose files hold exactly the failed records of a
    /// finished batch, as they were (without errors); comment `COMMENT (retry of failed records)`.
    /// `uploading` for the API (files can be replaced before it is scheduled), `ready` for the admin UI.
    package func retry(batch text: String?, as state: BatchState = .uploading) async throws -> BatchID {
        let batch = try await self.batch(text)
        try BatchAction.retry.check(batch)
        let control = try await originalFormControl(batch)
        if let feed = FeedDeclaration(control: control), feed.snapshot { throw BatchError.retryOfSnapshotFeed(batch.id, feed.name) }
        let names = try await filesWithFailures(batch, among: batch.files.map(\.name))
        guard !names.isEmpty else { throw BatchError.noFailedRecords(batch.id) }
        var files: [BatchFile] = []
        for file in batch.files where names.contains(file.name) {
            let environment = self.environment
            let writer = try await offloaded { try OriginalFormWriter(file: file, control: control, environment: environment, withErrors: false) }
            guard writer.keepsFileFormat else { throw FailedRecordsError.notRetryable(file.name) }
            let upload = try environment.blobs.makeUpload()
            defer { upload.discard() }
            try await FailedRecordFiles.writeOriginal(writer, file: file.name, batch: batch.id, store: store) { bytes in
                try bytes.withUnsafeBytes { try upload.write($0) }
                try await upload.waitForCapacity()
            }
            let (digest, size) = try await upload.finish()
            files.append(BatchFile(name: file.name, digest: digest, size: size, filename: file.filename))
        }
        let id = BatchID.random()
        try await store.createBatch(
            id: id, control: batch.control, comment: batch.comment + " (retry of failed records)", state: state, files: files, now: environment.now())
        try await nameFeed(of: id, control: batch.control)
        return id
    }

    /// The control file of a batch whose records can be given back as they were in its files.
    func originalFormControl(_ batch: Batch) async throws -> JSONObject {
        guard let control = try await environment.loadControlFile(batch.control)?.objectValue else {
            throw BatchError.controlFileMissing(batch.control)
        }
        if let processor = control["recordProcessor"], !processor.isMissing {
            throw FailedRecordsError.recordProcessor(batch.id, processor.jsForm)
        }
        return control
    }

    /// The names among `names` of the files that have failed records, in batch order.
    func filesWithFailures(_ batch: Batch, among names: [String]) async throws -> [String] {
        var failing = Set<String>()
        try await FailedRecordScan.pages(store: store, batch: batch.id, file: nil) { page in
            for record in page { failing.insert(record.file) }
        }
        return names.filter(failing.contains)
    }

    static func contentType(_ filename: String) -> String {
        switch filename.split(separator: ".").last {
        case "json": "application/json; charset=utf-8"
        case "jsonl": "application/x-ndjson"
        case "csv": "text/csv"
        case "tsv": "text/tab-separated-values"
        case "xml": "application/xml"
        default: "application/octet-stream"
        }
    }

    static func jsonRow(_ record: FailedRecord, first: Bool) -> [UInt8] {
        var out = JSONBytes()
        out.raw(first ? "\n{\"record\":" : ",\n{\"record\":")
        out.string(record.record)
        out.field("file", record.file)
        out.raw(",\"line\":" + (record.line.map(String.init) ?? "null"))
        out.raw(",\"key\":")
        if let key = record.key { out.string(key) } else { out.raw("null") }
        out.raw(",\"errors\":[")
        for (i, error) in record.errors.enumerated() {
            if i > 0 { out.raw(",") }
            out.string(error)
        }
        out.raw("]}")
        return out.bytes
    }

    static func csvRow(_ record: FailedRecord) -> [UInt8] {
        let fields = [record.record, record.file, record.line.map(String.init) ?? "", record.key ?? "", record.errors.joined(separator: " | ")]
        var row: [UInt8] = []
        for (i, field) in fields.enumerated() {
            if i > 0 { row.append(UInt8(ascii: ",")) }
            row += FailedRecordOutput.csvField(field, separator: UInt8(ascii: ","))
        }
        return row + [0x0A]
    }
}
