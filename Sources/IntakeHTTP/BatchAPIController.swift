import Foundation
import Hummingbird
import IntakeApp
import IntakeCore
import IntakeRunner
import IntakeStore

/// The four batch endpoints of docs/api.md and the extensions. Handlers are thin: they read the
/// form, call the application core (`ImportService`) and write its answer; authentication is the
/// group's middleware, and refusals are `BatchError`s that `ErrorReportingMiddleware` renders.
struct BatchAPIController: Sendable {
    let service: ImportService
    let authenticator: Authenticator
    let forms: FormReader

    var store: any BatchStore { service.environment.store }

    func addRoutes(to router: Router<IntakeRequestContext>) {
        let group = router.authenticated(.batch, by: authenticator)
        router.addEndpoint(APIPath.control, method: .post, in: group, handler: uploadControl)
        router.addEndpoint(APIPath.batch, method: .post, in: group, handler: createBatch)
        router.addEndpoint(APIPath.file, method: .post, in: group, handler: uploadFile)
        router.addEndpoint(APIPath.schedule, method: .post, in: group, handler: schedule)
        router.addEndpoint(APIPath.status, method: .get, in: group, handler: status)
        router.addEndpoint(APIPath.log, method: .get, in: group, handler: log)
        router.addEndpoint(APIPath.results, method: .get, in: group, handler: results)
        router.addEndpoint(APIPath.cancel, method: .post, in: group, handler: cancel)
        router.addEndpoint(APIPath.copy, method: .post, in: group, handler: copy)
        router.addEndpoint(APIPath.retry, method: .post, in: group, handler: retry)
        router.addEndpoint(APIPath.rollback, method: .post, in: group, handler: rollback)
        router.addEndpoint(APIPath.rollbackPreview, method: .get, in: group, handler: rollbackPreview)
        router.addEndpoint(APIPath.approve, method: .post, in: group, handler: approve)
        router.addEndpoint(APIPath.deliveries, method: .get, in: group, handler: deliveries)
    }

    // MARK: Keys for one feed

    /// A key for one feed reaches only that feed's batches (docs/api.md "Keys and scopes"): the
    /// batch a request names is checked before anything is done. An unknown batch is left to the
    /// use case, which says so.
    private func permitted(_ text: String?, _ context: IntakeRequestContext) async throws -> String? {
        guard case .feed(let feed)? = context.apiKey?.restriction, let text,
            let batch = try await store.batch(BatchID(rawValue: text)), batch.feed != feed
        else { return text }
        throw Self.notThisFeed(feed)
    }

    /// Only control files that declare the key's feed.
    private func permitted(control: JSONValue, _ context: IntakeRequestContext) throws {
        guard case .feed(let feed)? = context.apiKey?.restriction else { return }
        guard case .object(let root) = control, FeedDeclaration(control: root)?.name == feed else { throw Self.notThisFeed(feed) }
    }

    private static func notThisFeed(_ feed: String) -> APIError {
        APIError(.forbidden, "Forbidden: this key is for the batches of feed \(feed) only")
    }

    @Sendable func uploadControl(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let form = try await forms.read(request)
        guard let upload = form.file else { throw BatchError.missingParameter("file") }
        form.file = nil
        if context.apiKey?.restriction != nil {
            do {
                try permitted(control: try await service.checkControlFile(upload), context)
            } catch {
                upload.discard()
                throw error
            }
        }
        let by = context.apiKey.map { "API key \($0.name)" }
        return TextResponse.plain(try await service.addControlFile(upload, comment: form.fields["comment"], uploadedBy: by).hex)
    }

    @Sendable func createBatch(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let form = try await forms.read(request)
        if context.apiKey?.restriction != nil, let text = form.fields["control"], let digest = Digest(hex: text),
            let control = await service.environment.controlFile(digest)
        {
            try permitted(control: control, context)
        }
        let id = try await service.createBatch(control: form.fields["control"], comment: form.fields["comment"])
        return TextResponse.plain(id.rawValue)
    }

    @Sendable func uploadFile(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let form = try await forms.read(request)
        let upload = form.file
        form.file = nil
        let digest = try await service.addFile(
            batch: try await permitted(form.fields["batch"], context), name: form.fields["name"], upload: upload,
            filename: form.filename)
        return TextResponse.plain(digest.hex)
    }

    @Sendable func schedule(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let form = try await forms.read(request)
        let by = context.apiKey.map { "api key \($0.id) (\($0.name))" } ?? "api"
        try await service.schedule(
            batch: try await permitted(form.fields["batch"], context), mode: form.fields["mode"], force: form.fields["force"],
            maxErrors: form.fields["maxErrors"], by: by)
        return TextResponse.plain("SCHEDULED")
    }

    private func queryBatch(_ request: Request, _ context: IntakeRequestContext) async throws -> Batch {
        try await service.batch(try await permitted(request.uri.formParameters["batch"].map(String.init), context))
    }

    @Sendable func status(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        TextResponse.plain(BatchStatusJSON.render(try await queryBatch(request, context)), contentType: "application/json; charset=utf-8")
    }

    @Sendable func log(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let batch = try await queryBatch(request, context)
        // Streamed page by page: the log is never held whole.
        let store = self.store
        let body = ResponseBody { writer in
            for try await page in store.logPages(of: batch.id, pageSize: Self.pageSize) {
                var buffer = ByteBuffer()
                for line in page { buffer.writeString(line + "\n") }
                try await writer.write(buffer)
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: body)
    }

    static let pageSize = 1000

    /// Extension: the failed records as they came, or as a table (`format=original|json|csv`).
    private func failedRecords(_ request: Request, context: IntakeRequestContext, format: FailedRecordsFormat) async throws -> Response {
        let parameters = request.uri.formParameters
        let download = try await service.failedRecords(
            batch: try await permitted(parameters["batch"].map(String.init), context), format: format, file: parameters["file"].map(String.init))
        return download.response(filename: download.filename)
    }

    @Sendable func results(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let query = try ResultsQuery(request)
        if let format = query.format { return try await failedRecords(request, context: context, format: format) }
        let batch = try await queryBatch(request, context)
        let store = self.store
        // Streamed page by page from the store: memory stays flat for any number of records.
        let body = ResponseBody { writer in
            var remaining = query.limit ?? Int.max
            for try await page in store.resultPages(of: batch.id, from: query.from, pageSize: Self.pageSize) {
                var buffer = ByteBuffer()
                for line in page where query.matches(line) {
                    buffer.writeString(line + "\n")
                    remaining -= 1
                    if remaining == 0 { break }
                }
                if buffer.readableBytes > 0 { try await writer.write(buffer) }
                if remaining == 0 { break }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: body)
    }

    @Sendable func cancel(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        try await service.cancel(batch: try await permitted(try await forms.read(request).fields["batch"], context))
        return TextResponse.plain("CANCELLED")
    }

    @Sendable func copy(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        TextResponse.plain(try await service.copy(batch: try await permitted(try await forms.read(request).fields["batch"], context)).rawValue)
    }

    /// Extension: a new batch of the failed records alone.
    @Sendable func retry(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        TextResponse.plain(try await service.retry(batch: try await permitted(try await forms.read(request).fields["batch"], context)).rawValue)
    }

    @Sendable func approve(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let by = context.apiKey.map { "api key \($0.id) (\($0.name))" } ?? "api"
        try await service.approve(batch: try await permitted(try await forms.read(request).fields["batch"], context), by: by)
        return TextResponse.plain("APPROVED")
    }

    /// Extension: the webhook deliveries of a batch's events, with every attempt.
    @Sendable func deliveries(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let deliveries = try await service.deliveries(batch: try await permitted(request.uri.formParameters["batch"].map(String.init), context))
        return TextResponse.plain(WebhookJSON.deliveries(deliveries), contentType: "application/json; charset=utf-8")
    }

    @Sendable func rollback(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let by = context.apiKey.map { "api key \($0.id) (\($0.name))" } ?? "api"
        try await service.rollback(batch: try await permitted(try await forms.read(request).fields["batch"], context), by: by)
        return TextResponse.plain("ROLLED BACK")
    }

    /// Extension: what `rollback` would do now, without doing it.
    @Sendable func rollbackPreview(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let preview = try await service.rollbackPreview(
            batch: try await permitted(request.uri.formParameters["batch"].map(String.init), context))
        return TextResponse.plain(RollbackPreviewJSON.text(preview), contentType: "application/json; charset=utf-8")
    }
}

/// The parameters of `GET results`: `status=` (repeatable) filters; `after=R` starts after record R
/// (records are numbered from 0 in input order, as "record R" in their results), so a client pages on
/// with the number of the last record it read; `limit=N` stops after N lines.
package struct ResultsQuery {
    var statuses: [RecordStatus] = []
    /// The index of the first result to read.
    var from = 0
    var limit: Int?
    /// `format=`: the failed records (only) in another shape than result lines.
    var format: FailedRecordsFormat?

    init(_ request: Request) throws {
        let parameters = request.uri.formParameters
        if let text = parameters["format"] {
            guard let format = FailedRecordsFormat(rawValue: String(text)) else {
                throw APIError.badRequest("Invalid format: \(String(text).escapingControlCharacters) (use original, json or csv, with status=failed)")
            }
            guard parameters[values: "status"].map(String.init) == [RecordStatus.failed.rawValue] else {
                throw APIError.badRequest("format=\(format.rawValue) gives the failed records only: add status=failed")
            }
            self.format = format
        }
        for status in parameters[values: "status"] {
            guard let known = RecordStatus(rawValue: String(status)) else {
                throw APIError.badRequest(
                    "Invalid status: \(String(status).escapingControlCharacters) (use applied, failed, unchanged, left, dry-run or not-applied)")
            }
            statuses.append(known)
        }
        if let text = parameters["after"] {
            guard let value = Int(text), value >= 0 else {
                throw APIError.badRequest("Invalid after: \(String(text).escapingControlCharacters) (a record number, 0 or more)")
            }
            from = value + 1
        }
        if let text = parameters["limit"] {
            guard let value = Int(text), value > 0 else {
                throw APIError.badRequest("Invalid limit: \(String(text).escapingControlCharacters) (a number of lines, 1 or more)")
            }
            limit = value
        }
    }

    func matches(_ line: String) -> Bool {
        statuses.isEmpty || statuses.contains { $0.isStatus(of: line) }
    }
}

/// The JSON of `GET status` (docs/api.md "Extensions").
package enum BatchStatusJSON {
    /// What the batch saved per destination, and its skipped, left and failed records.
    package static func summary(_ p: RunProgress) -> JSONValue {
        let destinations = p.destinations.keys.sorted().map { name -> (String, JSONValue) in
            let d = p.destinations[name]!
            return (
                name,
                .object(
                    JSONObject([
                        ("created", .number(Double(d.created))), ("updated", .number(Double(d.updated))),
                        ("unchanged", .number(Double(d.unchanged))), ("deleted", .number(Double(d.deleted)))
                    ]))
            )
        }
        return .object(
            JSONObject([
                ("destinations", .object(JSONObject(destinations))),
                ("skipped", .number(Double(p.recordsSkipped))),
                ("left", .number(Double(p.recordsLeft))),
                ("failed", .number(Double(p.recordsFailed)))
            ]))
    }

    static func held(_ held: HeldReason?) -> JSONValue {
        guard let held else { return .null }
        return .object(
            JSONObject([
                ("reason", .string(held.reason)), ("count", .number(Double(held.count))),
                ("of", .number(Double(held.of))), ("limit", .string(held.limit))
            ]))
    }

    package static func render(_ batch: Batch) -> String {
        func time(_ date: Date?) -> JSONValue { date.map { .string(Timestamp.string($0)) } ?? .null }
        let p = batch.progress
        let files: [JSONValue] = batch.files.map { f in
            .object(
                JSONObject([
                    ("name", .string(f.name)), ("digest", .string(f.digest.hex)),
                    ("size", .number(Double(f.size))), ("filename", .string(f.filename))
                ]))
        }
        let progress = JSONObject([
            ("recordsRead", .number(Double(p.recordsRead))),
            ("recordsApplied", .number(Double(p.recordsApplied))),
            ("recordsFailed", .number(Double(p.recordsFailed))),
            ("recordsUnchanged", .number(Double(p.recordsUnchanged))),
            ("recordsSkipped", .number(Double(p.recordsSkipped))),
            ("recordsLeft", .number(Double(p.recordsLeft))),
            // Extension: records of an all-or-nothing batch that applied nothing (docs/control-files.md).
            ("recordsNotApplied", .number(Double(p.recordsNotApplied))),
            ("bytesRead", .number(Double(p.bytesRead))),
            ("bytesTotal", .number(Double(batch.files.reduce(Int64(0)) { $0 + $1.size })))
        ])
        return JSONValue.object(
            JSONObject([
                ("identifier", .string(batch.id.rawValue)),
                ("state", .string(batch.state.rawValue)),
                ("comment", .string(batch.comment)),
                ("control", .string(batch.control.hex)),
                ("dryRun", .bool(batch.dryRun)),
                ("created", time(batch.created)),
                ("scheduled", time(batch.scheduled)),
                ("started", time(batch.started)),
                ("finished", time(batch.finished)),
                ("files", .array(files)),
                ("progress", .object(progress)),
                ("errors", .number(Double(p.errors))),
                // Extensions of feeds (docs/feeds.md).
                ("feed", batch.feed.map(JSONValue.string) ?? .null),
                ("summary", summary(p)),
                ("held", held(p.held)),
                // Extension: when `intake purge` removed the batch's files, log and results.
                ("purged", time(batch.purged))
            ])
        ).compactJSON
    }
}

extension FailedRecordsDownload {
    /// The download as an attachment named `filename`, its body written as it is made.
    package func response(filename: String) -> Response {
        let body = ResponseBody { writer in
            try await write { bytes in try await writer.write(ByteBuffer(bytes: bytes)) }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok, headers: [.contentType: contentType, .contentDisposition: "attachment; filename=\"\(filename)\""], body: body)
    }
}
