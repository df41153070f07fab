import Foundation
import Hummingbird
import IntakeApp
import IntakeCore
import IntakeHTTP
import IntakeStore

/// One row of the new-batch form's files table.
struct FileRow {
    var name: String
    /// A file received by an earlier, refused submission of the form.
    var kept: SessionData.PendingFile?
    var nameError: String?

    func context(index: Int) -> [String: Any] {
        var row: [String: Any] = ["index": index, "name": name]
        if let kept {
            row["kept"] = ["token": kept.token, "filename": kept.filename, "size": Format.sizeContext(kept.size)]
        }
        if let nameError { row["nameError"] = nameError }
        return row
    }
}

extension AdminUI {
    static let maxFileRows = 100
    /// How long files of a refused form stay offered.
    static let pendingFileLifetime: TimeInterval = 60 * 60

    /// The names the control file lists (not `DEFAULT`), for the first rows and the datalist.
    func listedFileNames(_ record: ControlFileRecord) -> [String] {
        (environment.controlFile(record.digest)?["files"]?.objectValue?.keys ?? []).filter { $0 != "DEFAULT" }
    }

    @Sendable func newBatchPage(_ request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws -> Response {
        guard let record = try await controlRecord(context) else { return controlFileNotFound(context, session) }
        session.data.pendingFiles = nil
        let rows = listedFileNames(record).map { FileRow(name: $0) } + [FileRow(name: "")]
        return try await renderNewBatch(record, rows: rows, comment: "", errors: FormErrors(), status: .ok, session: &session)
    }

    func renderNewBatch(
        _ record: ControlFileRecord, rows: [FileRow], comment: String, errors: FormErrors, duplicates: String? = nil,
        status: HTTPResponse.Status, session: inout AdminSession
    ) async throws -> Response {
        var page = errors.context
        page["cid"] = record.id
        page["controlComment"] = record.comment
        page["shortDigest"] = Format.short(record.digest.hex)
        page["digest"] = record.digest.hex
        page["comment"] = comment
        page["rows"] = rows.enumerated().map { $1.context(index: $0) }
        page["rowCount"] = rows.count
        page["names"] = listedFileNames(record)
        page["hasKept"] = rows.contains { $0.kept != nil }
        if let duplicates { page["duplicates"] = duplicates }
        return try await render(
            "new-batch", title: "New batch", session: &session, status: status,
            crumbs: [
                Crumb("Home", "/admin"), Crumb("Control files", "/admin/control-files"),
                Crumb(Format.short(record.digest.hex), "/admin/control-files/\(record.id)"), Crumb("New batch")
            ],
            context: page)
    }

    @Sendable func createBatch(
        _ request: Request, context: IntakeRequestContext, form: SubmittedForm, session: inout AdminSession
    ) async throws -> Response {
        guard let record = try await controlRecord(context) else { return controlFileNotFound(context, session) }
        let now = environment.now()
        let offered = (session.data.pendingFiles ?? []).filter { now.timeIntervalSince($0.received) < Self.pendingFileLifetime }
        let rowCount = min(Self.maxFileRows, max(1, Int(form.fields["rows"] ?? "") ?? 1))
        let comment = (form.fields["comment"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        // Every received file goes into the blob store now: a refused form offers it again, so the
        // operator does not send it twice.
        var rows: [FileRow] = []
        for index in 0..<rowCount {
            var row = FileRow(name: (form.fields["name_\(index)"] ?? "").trimmingCharacters(in: .whitespaces))
            if let part = form.uploads.first(where: { $0.field == "file_\(index)" }) {
                let (digest, size) = try await part.upload.finish()
                environment.metrics.recordUpload(bytes: size)
                row.kept = SessionData.PendingFile(
                    token: AdminSessions.randomToken(), digest: digest.hex, size: size, filename: Self.cleanFilename(part.filename), received: now)
            } else if form.fields["remove_\(index)"] == nil, let token = form.fields["kept_\(index)"] {
                row.kept = offered.first { $0.token == token }
            }
            rows.append(row)
        }
        session.data.pendingFiles = rows.compactMap(\.kept)
        if form.fields["add_row"] != nil {
            rows.append(FileRow(name: ""))
            return try await renderNewBatch(record, rows: rows, comment: comment, errors: FormErrors(), status: .ok, session: &session)
        }
        var errors = FormErrors()
        if comment.isEmpty {
            errors.add("comment", "Required field")
        } else if comment.count > Self.maxCommentLength {
            errors.add("comment", "At most \(Self.maxCommentLength) characters")
        }
        let control = try service.control(ofDigest: record.digest)
        var seen: [String] = []
        var duplicates: [String] = []
        for index in rows.indices where rows[index].kept != nil {
            let name = rows[index].name
            if name.isEmpty {
                rows[index].nameError = "Required field"
            } else if seen.contains(name) {
                if !duplicates.contains(name) { duplicates.append(name) }
            } else {
                seen.append(name)
                do {
                    try ImportService.checkFileName(name, control: control)
                } catch let error as BatchError {
                    rows[index].nameError = error.userMessage
                }
            }
            if let message = rows[index].nameError { errors.add("name_\(index)", message) }
        }
        if !rows.contains(where: { $0.kept != nil }) { errors.add("file_0", "At least one file is required") }
        let duplicateNotice = duplicates.isEmpty ? nil : "Duplicate file names: " + duplicates.joined(separator: ", ")
        if let duplicateNotice { errors.add("name_0", duplicateNotice) }
        guard errors.isEmpty else {
            return try await renderNewBatch(
                record, rows: rows, comment: comment, errors: errors, duplicates: duplicateNotice, status: .badRequest, session: &session)
        }
        let files = rows.compactMap { row in
            row.kept.map { BatchFile(name: row.name, digest: Digest(hex: $0.digest)!, size: $0.size, filename: $0.filename) }
        }
        let id = try await service.createReadyBatch(control: record, comment: comment, files: files, by: "admin \(session.account)")
        session.data.pendingFiles = nil
        return try await redirect("/admin/batches/\(id.rawValue)", flash: "Batch created. Run a dry run first.", session: &session)
    }

    /// The client's file name without any folder part a browser may send, and without control
    /// characters: it is shown in pages and sent back in Content-Disposition.
    static func cleanFilename(_ name: String) -> String {
        let base = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let clean = String(base.unicodeScalars.filter { $0.value >= 0x20 && $0 != "\u{7F}" && $0 != "\"" }.map(Character.init))
        return clean.isEmpty ? "file" : String(clean.prefix(200))
    }
}
