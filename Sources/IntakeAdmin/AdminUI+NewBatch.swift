import Foundation
import Hummingbird
import IntakeApp
import IntakeCore
import IntakeHTTP
import IntakeStore

/// One row of the new-batch form's files table.
struct FileRow: Sendable {
    var name: String
    /// A file received by an earlier, refused submission of the form.
    var kept: SessionData.PendingFile?
    var nameError: String?
}

extension AdminUI {
    static let maxFileRows = 100
    /// How long files of a refused form stay offered.
    static let pendingFileLifetime: TimeInterval = 60 * 60

    /// The names the control file lists (not `DEFAULT`), for the first rows and the datalist.
    func listedFileNames(_ record: ControlFileRecord) async -> [String] {
        (await environment.controlFile(record.digest)?["files"]?.objectValue?.keys ?? []).filter { $0 != "DEFAULT" }
    }

    @Sendable func newBatchPage(_ request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws -> Response {
        guard let record = try await controlRecord(context) else { return controlFileNotFound(context, session) }
        session.data.pendingFiles = nil
        let rows = await listedFileNames(record).map { FileRow(name: $0) } + [FileRow(name: "")]
        return try await renderNewBatch(record, rows: rows, comment: "", errors: FormErrors(), status: .ok, session: &session)
    }

    func renderNewBatch(
        _ record: ControlFileRecord, rows: [FileRow], comment: String, errors: FormErrors, duplicates: String? = nil,
        status: HTTPResponse.Status, session: inout AdminSession
    ) async throws -> Response {
        let page = NewBatchPage(
            record, comment: comment, files: FileTable(rows: rows, names: await listedFileNames(record), duplicates: duplicates), errors: errors)
        return try await render(
            .newBatch, title: "New batch", session: &session, status: status,
            crumbs: [
                Crumb.home, Crumb("Control files", AdminPath.controlFiles),
                Crumb(Format.short(record.digest.hex), AdminPath.controlFile(record.id)), Crumb("New batch")
            ],
            model: page)
    }

    /// Reads the files table of a form: each row's name, and its file — just received (it goes into
    /// the blob store now, so a refused form can offer it again), or kept from an earlier
    /// submission unless its Remove box is ticked. The kept files are remembered in the session.
    func readFileRows(_ form: SubmittedForm, session: inout AdminSession) async throws -> [FileRow] {
        let now = environment.now()
        let offered = (session.data.pendingFiles ?? []).filter { now.timeIntervalSince($0.received) < Self.pendingFileLifetime }
        let rowCount = min(Self.maxFileRows, max(1, Int(form.fields["rows"] ?? "") ?? 1))
        var rows: [FileRow] = []
        for index in 0..<rowCount {
            var row = FileRow(name: (form.fields["name_\(index)"] ?? "").trimmingCharacters(in: .whitespaces))
            if let part = form.uploads.first(where: { $0.field == "file_\(index)" }) {
                let (digest, size) = try await part.upload.finish()
                environment.metrics.recordUpload(bytes: size)
                row.kept = SessionData.PendingFile(
                    token: AdminSessions.randomToken(), digest: digest.hex, size: size, filename: Self.cleanFilename(part.filename), received: now)
            } else if form.fields["remove_\(index)"] == nil, let token = form.fields["kept_\(index)"],
                let kept = offered.first(where: { $0.token == token }), let digest = Digest(hex: kept.digest),
                try await environment.blobs.contains(digest)
            {
                // Kept unless `intake purge` has removed it meanwhile (nothing referred to it).
                row.kept = kept
            }
            rows.append(row)
        }
        session.data.pendingFiles = rows.compactMap(\.kept)
        return rows
    }

    /// The checks of a files table, the same for a new batch and for editing one: names given,
    /// unique, and known to the control file (or covered by DEFAULT); at least one file.
    func checkFileRows(_ rows: inout [FileRow], control: JSONValue, errors: inout FormErrors) -> String? {
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
                } catch {
                    rows[index].nameError = "\(error)"
                }
            }
            if let message = rows[index].nameError { errors.add("name_\(index)", message) }
        }
        if !rows.contains(where: { $0.kept != nil }) { errors.add("file_0", "At least one file is required") }
        let duplicateNotice = duplicates.isEmpty ? nil : "Duplicate file names: " + duplicates.joined(separator: ", ")
        if let duplicateNotice { errors.add("name_0", duplicateNotice) }
        return duplicateNotice
    }

    static func batchFiles(_ rows: [FileRow]) -> [BatchFile] {
        rows.compactMap { row in
            row.kept.map { BatchFile(name: row.name, digest: Digest(hex: $0.digest)!, size: $0.size, filename: $0.filename) }
        }
    }

    @Sendable func createBatch(
        _ request: Request, context: IntakeRequestContext, form: SubmittedForm, session: inout AdminSession
    ) async throws -> Response {
        guard let record = try await controlRecord(context) else { return controlFileNotFound(context, session) }
        let comment = (form.fields["comment"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        var rows = try await readFileRows(form, session: &session)
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
        let duplicateNotice = checkFileRows(&rows, control: try await service.control(ofDigest: record.digest), errors: &errors)
        guard errors.isEmpty else {
            return try await renderNewBatch(
                record, rows: rows, comment: comment, errors: errors, duplicates: duplicateNotice, status: .badRequest, session: &session)
        }
        let id = try await service.createReadyBatch(control: record, comment: comment, files: Self.batchFiles(rows), by: "admin \(session.account)")
        session.data.pendingFiles = nil
        return try await redirect(AdminPath.batch(id), flash: "Batch created. Run a dry run first.", session: &session)
    }

    // MARK: Editing the files of a ready batch

    @Sendable func editFilesPage(_ request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws -> Response {
        guard let batch = try await batch(context) else { return batchNotFound(context, session) }
        guard batch.state == .ready else {
            return notPossible(BatchError.filesNotEditable(batch.id).userMessage, back: AdminPath.batch(batch.id), session: session)
        }
        // The current files are offered like files kept from a refused form.
        let now = environment.now()
        var rows = batch.files.map { file in
            FileRow(
                name: file.name,
                kept: SessionData.PendingFile(
                    token: AdminSessions.randomToken(), digest: file.digest.hex, size: file.size, filename: file.filename, received: now))
        }
        session.data.pendingFiles = rows.compactMap(\.kept)
        rows.append(FileRow(name: ""))
        return try await renderEditFiles(batch, rows: rows, errors: FormErrors(), status: .ok, session: &session)
    }

    func renderEditFiles(
        _ batch: Batch, rows: [FileRow], errors: FormErrors, duplicates: String? = nil, status: HTTPResponse.Status,
        session: inout AdminSession
    ) async throws -> Response {
        let names = (await environment.controlFile(batch.control)?["files"]?.objectValue?.keys ?? []).filter { $0 != "DEFAULT" }
        let page = EditFilesPage(
            batchID: batch.id.rawValue, files: FileTable(rows: rows, names: names, duplicates: duplicates), formErrors: errors)
        return try await render(
            .editFiles, title: "Files of batch: \(batch.comment)", session: &session, status: status, crumbs: Self.crumbs(batch, "Files"),
            model: page)
    }

    @Sendable func editFiles(
        _ request: Request, context: IntakeRequestContext, form: SubmittedForm, session: inout AdminSession
    ) async throws -> Response {
        guard let batch = try await batch(context) else { return batchNotFound(context, session) }
        let back = AdminPath.batch(batch.id)
        guard batch.state == .ready else { return notPossible(BatchError.filesNotEditable(batch.id).userMessage, back: back, session: session) }
        var rows = try await readFileRows(form, session: &session)
        if form.fields["add_row"] != nil {
            rows.append(FileRow(name: ""))
            return try await renderEditFiles(batch, rows: rows, errors: FormErrors(), status: .ok, session: &session)
        }
        var errors = FormErrors()
        let duplicateNotice = checkFileRows(&rows, control: try await service.control(of: batch), errors: &errors)
        guard errors.isEmpty else {
            return try await renderEditFiles(batch, rows: rows, errors: errors, duplicates: duplicateNotice, status: .badRequest, session: &session)
        }
        do {
            try await service.replaceFiles(ofReady: batch.id, with: Self.batchFiles(rows), by: "admin \(session.account)")
        } catch let error as BatchError where error.kind == .conflict {
            return notPossible(error.userMessage, back: back, session: session)
        }
        session.data.pendingFiles = nil
        return try await redirect(back, flash: "Files changed.", session: &session)
    }

    /// The client's file name without any folder part a browser may send, and without control
    /// characters: it is shown in pages and sent back in Content-Disposition.
    static func cleanFilename(_ name: String) -> String {
        let base = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let clean = String(base.unicodeScalars.filter { $0.value >= 0x20 && $0 != "\u{7F}" && $0 != "\"" }.map(Character.init))
        return clean.isEmpty ? "file" : String(clean.prefix(200))
    }
}
