import Foundation
import Hummingbird
import IntakeApp
import IntakeCore
import IntakeHTTP
import IntakeStore

extension AdminUI {
    static let batchesPerPage = 50

    func addBatchRoutes(_ admin: RouterGroup<IntakeRequestContext>) {
        get(admin, "batches", use: batchesPage)
        get(admin, "batches/:id", use: batchPage)
        get(admin, "batches/:id/status.json", use: statusJSON)
        get(admin, "batches/:id/log.txt", use: logText)
        get(admin, "batches/:id/files/:name", use: downloadFile)
        get(admin, "batches/:id/failed-rows", use: downloadFailedRows)
        get(admin, "batches/:id/files", use: editFilesPage)
        post(admin, "batches/:id/files", use: editFiles)
        for action in ConfirmedAction.allCases {
            get(admin, "batches/:id/\(action.rawValue)") { request, context, session in
                try await confirmPage(action, request: request, context: context, session: &session)
            }
            post(admin, "batches/:id/\(action.rawValue)") { request, context, form, session in
                try await confirm(action, context: context, form: form, session: &session)
            }
        }
        addResultRoutes(admin)
    }

    func batch(_ context: IntakeRequestContext) async throws -> Batch? {
        guard let id = context.parameters.get("id") else { return nil }
        return try await store.batch(BatchID(rawValue: id)).map(service.environment.liveProgress.overlaid)
    }

    func batchNotFound(_ context: IntakeRequestContext, _ session: AdminSession) -> Response {
        notFound("Batch \(context.parameters.get("id") ?? "")", session: session)
    }

    static func crumbs(_ batch: Batch, _ last: String? = nil) -> [Crumb] {
        var crumbs = [Crumb.home, Crumb("Batches", AdminPath.batches), Crumb(batch.comment, AdminPath.batch(batch.id))]
        if let last { crumbs.append(Crumb(last)) }
        return crumbs
    }

    @Sendable func batchesPage(_ request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws -> Response {
        let query = request.uri.formParameters
        func text(_ name: Substring) -> String? {
            query[name].map { String($0).trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        let filter = BatchFilter(
            states: query[values: "state"].compactMap { BatchState(rawValue: String($0)) }, comment: text("comment"),
            controlPrefix: text("control").map { String($0.lowercased().filter(\.isHexDigit).prefix(64)) })
        let page = max(1, query["page"].flatMap { Int($0) } ?? 1)
        let count = try await store.batchCount(matching: filter)
        let batches = try await store.batches(matching: filter, limit: Self.batchesPerPage, offset: (page - 1) * Self.batchesPerPage)
        let model = BatchesPage(batches: batches, count: count, filter: filter, page: page, perPage: Self.batchesPerPage, now: environment.now())
        return try await render(
            .batches, title: "Batches", session: &session, crumbs: [Crumb.home, Crumb("Batches")], model: model, refresh: model.anyActive)
    }

    static func duration(_ seconds: TimeInterval) -> String {
        let total = Int(seconds.rounded())
        if total < 60 { return "\(total) s" }
        if total < 3600 { return "\(total / 60) min \(total % 60) s" }
        return "\(total / 3600) h \(total % 3600 / 60) min"
    }

    @Sendable func batchPage(_ request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws -> Response {
        guard let batch = try await batch(context) else { return batchNotFound(context, session) }
        let controlRecord = try await store.controlFiles(digest: batch.control).last
        let log = try await store.log(of: batch.id)
        // The audit trail says when a batch was rolled back, and who did it.
        let rolledBack =
            batch.state == .rolledBack ? try await store.auditEntries(batch: batch.id, limit: 50).first { $0.event == "rolled back" } : nil
        let deliveries = try await store.deliveries(batch: batch.id)
        let model = BatchPage(
            batch: batch, controlFile: controlRecord, log: log, deliveries: deliveries, rolledBack: rolledBack, resultsPerPage: Self.resultsPerPage)
        return try await render(
            .batch, title: "Batch: \(batch.comment)", session: &session,
            crumbs: [Crumb.home, Crumb("Batches", AdminPath.batches), Crumb(Format.short(batch.id.rawValue))], model: model,
            refresh: model.isActive)
    }

    @Sendable func statusJSON(_ request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws -> Response {
        guard let batch = try await batch(context) else { return batchNotFound(context, session) }
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: BatchStatusJSON.render(batch))))
    }

    /// The log as the API serves it, from byte `offset` on (for the live tail), streamed page by page.
    @Sendable func logText(_ request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws -> Response {
        guard let batch = try await batch(context) else { return batchNotFound(context, session) }
        let offset = max(0, request.uri.formParameters["offset"].flatMap { Int($0) } ?? 0)
        let store = self.store
        let body = ResponseBody { writer in
            var position = 0
            for try await page in store.logPages(of: batch.id) {
                var buffer = ByteBuffer()
                for line in page {
                    let bytes = Array((line + "\n").utf8)
                    if position + bytes.count > offset { buffer.writeBytes(bytes.dropFirst(max(0, offset - position))) }
                    position += bytes.count
                }
                if buffer.readableBytes > 0 { try await writer.write(buffer) }
            }
            try await writer.finish(nil)
        }
        var headers: HTTPFields = [.contentType: "text/plain; charset=utf-8"]
        if request.uri.formParameters["download"] != nil {
            headers[.contentDisposition] = "attachment; filename=\"batch-\(batch.id.rawValue)-log.txt\""
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// A file's failed records as they came (`?file=NAME`), or the table of failures (`?format=csv`):
    /// the API's `results?status=failed&format=…`.
    @Sendable func downloadFailedRows(_ request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws
        -> Response
    {
        guard let batch = try await batch(context) else { return batchNotFound(context, session) }
        let parameters = request.uri.formParameters
        let format = parameters["format"].flatMap { FailedRecordsFormat(rawValue: String($0)) } ?? .original
        let download: FailedRecordsDownload
        do {
            download = try await service.failedRecords(batch: batch.id.rawValue, format: format, file: parameters["file"].map(String.init))
        } catch let error as any UserFacingError where error.kind == .invalidRequest {
            return notPossible(error.userMessage, back: AdminPath.batch(batch.id), session: session)
        }
        return download.response(filename: Self.cleanFilename(download.filename))
    }

    @Sendable func downloadFile(_ request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws -> Response {
        guard let batch = try await batch(context) else { return batchNotFound(context, session) }
        let name = context.parameters.get("name")?.removingPercentEncoding ?? ""
        guard let file = batch.files.first(where: { $0.name == name }), try await environment.blobs.contains(file.digest) else {
            return notFound("File \(name) of batch \(batch.id.rawValue)", session: session)
        }
        let blobs = environment.blobs
        let body = ResponseBody { writer in
            let reader = try await OffloadedBlobReader.open(file.digest, in: blobs)
            while let block = try await reader.next() {
                try await writer.write(ByteBuffer(bytes: block))
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/octet-stream", .contentLength: "\(file.size)",
                .contentDisposition: "attachment; filename=\"\(Self.cleanFilename(file.filename))\""
            ],
            body: body)
    }
}
