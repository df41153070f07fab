import Foundation
import Hummingbird
import IntakeApp
import IntakeCore
import IntakeHTTP
import IntakeRunner
import IntakeStore

/// Validation errors of a form, in the order the fields appear: each is shown under its field and
/// in the summary at the top, which links to the field.
struct FormErrors: Sendable {
    private(set) var list: [(field: String, message: String)] = []

    /// `hasErrors`, `errorList` and `<field>Error`, as a typed page's template asks for them.
    func templateValue(_ name: String) -> Any? {
        switch name {
        case "hasErrors": return !list.isEmpty
        case "errorList": return list.map { ["field": $0.field, "message": $0.message] }
        default: return name.hasSuffix("Error") ? self[String(name.dropLast("Error".count))] : nil
        }
    }

    mutating func add(_ field: String, _ message: String) { list.append((field, message)) }
    var isEmpty: Bool { list.isEmpty }
    subscript(field: String) -> String? { list.first { $0.field == field }?.message }
}

extension AdminUI {
    static let controlFilesPerPage = 50
    static let maxCommentLength = 200

    func addControlFileRoutes(_ admin: RouterGroup<IntakeRequestContext>) {
        get(admin, "control-files", use: controlFiles)
        get(admin, "control-files/new") { _, _, session in
            try await render(
                .controlFileNew, title: "Upload control file", session: &session,
                crumbs: [Crumb.home, Crumb("Control files", AdminPath.controlFiles), Crumb("Upload")],
                model: NewControlFilePage(comment: "", fileAgain: false, formErrors: FormErrors()))
        }
        post(admin, "control-files/new", use: uploadControlFile)
        get(admin, "control-files/:cid", use: controlFilePage)
        get(admin, "control-files/:cid/download", use: downloadControlFile)
        get(admin, "control-files/:cid/new-batch", use: newBatchPage)
        post(admin, "control-files/:cid/new-batch", use: createBatch)
    }

    func controlRecord(_ context: IntakeRequestContext) async throws -> ControlFileRecord? {
        guard let id = context.parameters.get("cid").flatMap({ Int64($0) }) else { return nil }
        return try await store.controlFile(id: id)
    }

    func controlFileNotFound(_ context: IntakeRequestContext, _ session: AdminSession) -> Response {
        notFound("Control file \(context.parameters.get("cid") ?? "")", session: session)
    }

    @Sendable func controlFiles(_ request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws -> Response {
        let page = max(1, request.uri.formParameters["page"].flatMap { Int($0) } ?? 1)
        let search = request.uri.formParameters["q"].map { String($0).trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        let count = try await store.controlFileCount(comment: search)
        let records = try await store.controlFiles(
            comment: search, limit: Self.controlFilesPerPage, offset: (page - 1) * Self.controlFilesPerPage)
        let uses = try await store.batchCounts(controls: records.map(\.digest))
        var models: [Digest: String] = [:]
        for record in records { models[record.digest] = await environment.controlFile(record.digest)?["model"]?.stringValue }
        return try await render(
            .controlFiles, title: "Control files", session: &session, crumbs: [Crumb.home, Crumb("Control files")],
            model: ControlFilesPage(
                records: records, models: models, uses: uses, count: count, search: search, page: page, perPage: Self.controlFilesPerPage))
    }

    @Sendable func uploadControlFile(
        _ request: Request, context: IntakeRequestContext, form: SubmittedForm, session: inout AdminSession
    ) async throws -> Response {
        let comment = (form.fields["comment"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        var errors = FormErrors()
        let upload = form.file.flatMap { upload in (upload.size > 0 || !(form.filename ?? "").isEmpty) ? upload : nil }
        if upload == nil { errors.add("file", "Required field") }
        if comment.isEmpty {
            errors.add("comment", "Required field")
        } else if comment.count > Self.maxCommentLength {
            errors.add("comment", "At most \(Self.maxCommentLength) characters")
        }
        var accepted: (record: ControlFileRecord, reused: Bool)?
        if let upload {
            do {
                if errors.isEmpty {
                    accepted = try await service.acceptControlFile(upload, comment: comment, uploadedBy: session.account)
                } else {
                    _ = try await service.checkControlFile(upload)
                }
            } catch BatchError.controlFileNotJSON {
                errors.add("file", "Not a valid JSON file")
            } catch BatchError.invalidControlFile(let messages) {
                errors.add("file", "Not a valid control file: " + messages.joined(separator: ", "))
            } catch BatchError.controlFileTooLarge(_, let limit) {
                return renderer.message(
                    status: .contentTooLarge, title: "File too large",
                    text: "The control file is too large: the limit is \(limit) bytes (\(Format.size(Int64(limit)))). Nothing was kept.",
                    session: session)
            }
        }
        guard let accepted, errors.isEmpty else {
            return try await render(
                .controlFileNew, title: "Upload control file", session: &session, status: .badRequest,
                crumbs: [Crumb.home, Crumb("Control files", AdminPath.controlFiles), Crumb("Upload")],
                model: NewControlFilePage(comment: comment, fileAgain: upload != nil, formErrors: errors))
        }
        try await audit("control file uploaded", detail: "\(accepted.record.digest.hex) \"\(comment)\" by \(session.account)")
        return try await redirect(
            AdminPath.controlFile(accepted.record.id),
            flash: accepted.reused ? "This control file was already uploaded with this comment." : "Control file uploaded.",
            session: &session)
    }

    @Sendable func controlFilePage(_ request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws -> Response {
        guard let record = try await controlRecord(context) else { return controlFileNotFound(context, session) }
        let control = await environment.controlFile(record.digest)
        let batches = try await store.batches(control: record.digest, limit: 20)
        return try await render(
            .controlFile, title: "Control file: \(record.comment)", session: &session,
            crumbs: [Crumb.home, Crumb("Control files", AdminPath.controlFiles), Crumb(Format.short(record.digest.hex))],
            model: ControlFilePage(record: record, control: control, batches: batches))
    }

    @Sendable func downloadControlFile(_ request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws -> Response {
        let blobs = environment.blobs
        guard let record = try await controlRecord(context),
            let bytes = try await offloaded({ try blobs.contents(of: record.digest, limit: ImportEnvironment.maxControlFileBytes) })
        else { return controlFileNotFound(context, session) }
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/json",
                .contentDisposition: "attachment; filename=\"control-\(record.digest.hex.prefix(10)).json\""
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
