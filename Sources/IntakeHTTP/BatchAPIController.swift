import Foundation
import Hummingbird
import IntakeCore
import IntakeRunner
import IntakeStore

/// The four batch endpoints of API.md §1–4 and the status/log extensions. Handlers are thin:
/// read the form, call the store, answer with the exact messages.
struct BatchAPIController: Sendable {
    let environment: ImportEnvironment
    let authenticator: Authenticator
    let forms: FormReader
    /// Control files are configuration, not data; anything bigger is refused before parsing.
    static let maxControlFileBytes = 16 * 1024 * 1024

    var store: any BatchStore { environment.store }

    func addRoutes(to router: Router<IntakeRequestContext>) {
        router.addEndpoint(APIPath.control, method: .post, handler: uploadControl)
        router.addEndpoint(APIPath.batch, method: .post, handler: createBatch)
        router.addEndpoint(APIPath.file, method: .post, handler: uploadFile)
        router.addEndpoint(APIPath.schedule, method: .post, handler: schedule)
        router.addEndpoint(APIPath.status, method: .get, handler: status)
        router.addEndpoint(APIPath.log, method: .get, handler: log)
        router.addEndpoint(APIPath.results, method: .get, handler: results)
        router.addEndpoint(APIPath.cancel, method: .post, handler: cancel)
        router.addEndpoint(APIPath.copy, method: .post, handler: copy)
        router.addEndpoint(APIPath.rollback, method: .post, handler: rollback)
    }

    func authenticate(_ request: Request, _ context: IntakeRequestContext) async throws {
        _ = try await authenticator.authenticate(request, context: context, scope: .batch)
    }

    @Sendable func uploadControl(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        try await authenticate(request, context)
        let form = try await forms.read(request)
        guard let writer = form.file else { throw APIError.missing("file") }
        try writer.flush()
        guard writer.size <= Self.maxControlFileBytes else {
            throw APIError(.contentTooLarge, "Control file too large: \(writer.size) bytes, the limit is \(Self.maxControlFileBytes) bytes")
        }
        guard let data = FileManager().contents(atPath: writer.temporary.path),
              let control = ImportEnvironment.parseControl(Array(data)) else {
            throw APIError.badRequest("Uploaded file is not JSON")
        }
        // A NUL in a control-file string would be cut short wherever a C string carries it.
        if control.containsNUL {
            throw APIError.badRequest("Invalid control file:\n  A string in the control file contains a NUL character (\\u0000)")
        }
        let messages = ControlFileValidator(vocabulary: environment.vocabulary).validate(control)
        guard messages.isEmpty else {
            throw APIError.badRequest("Invalid control file:" + messages.map { "\n  " + $0 }.joined())
        }
        let (digest, size) = try writer.finish()
        form.file = nil
        environment.metrics.recordUpload(bytes: size)
        let comment = form.fields["comment"] ?? "Unnamed control file"
        try await store.addControlFile(digest: digest, size: size, comment: comment, now: environment.now())
        return TextResponse.plain(digest.hex)
    }

    @Sendable func createBatch(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        try await authenticate(request, context)
        let form = try await forms.read(request)
        let control = try form.require("control")
        guard let digest = Digest(hex: control), try await store.controlFileExists(digest) else {
            throw APIError.badRequest("Control file not found: \(control.escapingControlCharacters)")
        }
        let id = BatchID.random()
        try await store.createBatch(id: id, control: digest, comment: form.fields["comment"] ?? "Unnamed batch",
                                    state: .uploading, now: environment.now())
        return TextResponse.plain(id.rawValue)
    }

    func loadBatch(_ idText: String) async throws -> Batch {
        guard let batch = try await store.batch(BatchID(rawValue: idText)) else {
            throw APIError.badRequest("Batch not found: \(idText.escapingControlCharacters)")
        }
        return batch
    }

    private static func wrongState(_ id: BatchID) -> APIError {
        APIError.badRequest("Batch \(id.rawValue) is not in the 'uploading' state")
    }

    @Sendable func uploadFile(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        try await authenticate(request, context)
        let form = try await forms.read(request)
        let batchID = try form.require("batch")
        let name = try form.require("name")
        guard let writer = form.file else { throw APIError.missing("file") }
        let batch = try await loadBatch(batchID)
        guard batch.state == .uploading else { throw Self.wrongState(batch.id) }
        let files = try controlFiles(of: batch)
        guard files[name] != nil || files["DEFAULT"] != nil else {
            throw APIError.badRequest("No file specification for \(name.escapingControlCharacters) in control file (and no DEFAULT entry)")
        }
        let (digest, size) = try writer.finish()
        form.file = nil
        environment.metrics.recordUpload(bytes: size)
        do {
            try await store.addFile(BatchFile(name: name, digest: digest, size: size, filename: form.filename ?? name), to: batch.id)
        } catch StoreError.wrongState(let id, _) {
            throw Self.wrongState(id)
        }
        return TextResponse.plain(digest.hex)
    }

    private func controlFiles(of batch: Batch) throws -> JSONObject {
        guard let data = FileManager().contents(atPath: environment.blobs.url(for: batch.control).path),
              let control = ImportEnvironment.parseControl(Array(data)) else {
            throw APIError(.internalServerError, "Control file \(batch.control) is missing")
        }
        return control["files"]?.objectValue ?? JSONObject()
    }

    @Sendable func schedule(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let key = try await authenticator.authenticate(request, context: context, scope: .batch)
        let form = try await forms.read(request)
        let batchID = try form.require("batch")
        let batch = try await loadBatch(batchID)
        // Only the documented value makes a dry run, and anything unknown is refused: a typo must
        // never turn a dry run into a real import.
        let dryRun: Bool
        switch form.fields["mode"] ?? "" {
        case "": dryRun = false
        case "dry-run": dryRun = true
        case let other: throw APIError.badRequest("Invalid mode: \(other.escapingControlCharacters)")
        }
        guard batch.state == .uploading else { throw Self.wrongState(batch.id) }
        do {
            try await store.schedule(batch.id, dryRun: dryRun,
                                     by: "api key \(key.id) (\(key.name))", now: environment.now())
        } catch StoreError.wrongState(let id, _) {
            throw Self.wrongState(id)
        }
        return TextResponse.plain("SCHEDULED")
    }

    @Sendable func status(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        try await authenticate(request, context)
        guard let id = request.uri.queryParameters["batch"].map(String.init) else { throw APIError.missing("batch") }
        let batch = try await loadBatch(id)
        return TextResponse.plain(BatchStatusJSON.render(batch), contentType: "application/json; charset=utf-8")
    }

    @Sendable func log(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        try await authenticate(request, context)
        guard let id = request.uri.queryParameters["batch"].map(String.init) else { throw APIError.missing("batch") }
        let batch = try await loadBatch(id)
        // Streamed page by page: the log is never held whole.
        let store = self.store
        let body = ResponseBody { writer in
            var written = 0
            while true {
                let page = try await store.logLines(of: batch.id, skipping: written, limit: Self.pageSize)
                if !page.isEmpty {
                    var buffer = ByteBuffer()
                    for line in page { buffer.writeString(line + "\n") }
                    try await writer.write(buffer)
                }
                written += page.count
                if page.count < Self.pageSize { break }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: body)
    }

    static let pageSize = 1000
}

extension BatchAPIController {
    @Sendable func results(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        try await authenticate(request, context)
        guard let id = request.uri.queryParameters["batch"].map(String.init) else { throw APIError.missing("batch") }
        let batch = try await loadBatch(id)
        let query = try ResultsQuery(request)
        let store = self.store
        // Streamed page by page from the store: memory stays flat for any number of records.
        let body = ResponseBody { writer in
            var next = query.from
            var remaining = query.limit ?? Int.max
            while remaining > 0 {
                let page = try await store.resultLines(of: batch.id, from: next, limit: Self.pageSize)
                if page.isEmpty { break }
                next += page.count
                var buffer = ByteBuffer()
                for line in page where query.matches(line) {
                    buffer.writeString(line + "\n")
                    remaining -= 1
                    if remaining == 0 { break }
                }
                if buffer.readableBytes > 0 { try await writer.write(buffer) }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: body)
    }

    @Sendable func cancel(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        try await authenticate(request, context)
        let batch = try await loadBatch(try await forms.read(request).require("batch"))
        guard try await store.cancel(batch.id, now: environment.now()) else {
            throw APIError.badRequest("Batch \(batch.id.rawValue) has already finished")
        }
        environment.cancellations.request(batch.id)
        return TextResponse.plain("CANCELLED")
    }

    @Sendable func copy(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        try await authenticate(request, context)
        let batch = try await loadBatch(try await forms.read(request).require("batch"))
        let copyID = BatchID.random()
        try await store.copy(batch.id, as: copyID, now: environment.now())
        return TextResponse.plain(copyID.rawValue)
    }

    @Sendable func rollback(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        try await authenticate(request, context)
        let batch = try await loadBatch(try await forms.read(request).require("batch"))
        let conflicts: [ObjectRef]
        do {
            conflicts = try await store.rollback(batch.id, now: environment.now())
        } catch StoreError.wrongState(let id, _) {
            throw APIError.badRequest("Batch \(id.rawValue) is not in the 'complete' state")
        }
        guard conflicts.isEmpty else {
            throw APIError(.conflict, "Rolled back, except these objects, which later changes touched:" + conflicts.map { "\n  " + $0.text }.joined())
        }
        return TextResponse.plain("ROLLED BACK")
    }
}

/// The parameters of `GET results`: `status=` (repeatable) filters; `after=R` starts after record R
/// (records are numbered from 0 in input order, as "record R" in their results), so a client pages on
/// with the number of the last record it read; `limit=N` stops after N lines.
struct ResultsQuery {
    static let statuses: Set<String> = ["applied", "failed", "unchanged", "dry-run"]
    var statuses: [String] = []
    /// The index of the first result to read.
    var from = 0
    var limit: Int?

    init(_ request: Request) throws {
        let parameters = request.uri.queryParameters
        for status in parameters[values: "status"] {
            guard Self.statuses.contains(String(status)) else {
                throw APIError.badRequest("Invalid status: \(String(status).escapingControlCharacters) (use applied, failed, unchanged or dry-run)")
            }
            statuses.append(String(status))
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

    /// Result lines are written by one function, and the status field's text cannot occur inside a
    /// JSON string (its quotes would be escaped there), so a substring test is exact.
    func matches(_ line: String) -> Bool {
        statuses.isEmpty || statuses.contains { line.contains(",\"status\":\"\($0)\"") }
    }
}

/// The JSON of `GET status` (API.md "Extensions").
enum BatchStatusJSON {
    static func render(_ batch: Batch) -> String {
        func time(_ date: Date?) -> JSONValue { date.map { .string(Timestamp.string($0)) } ?? .null }
        let p = batch.progress
        let files: [JSONValue] = batch.files.map { f in
            .object(JSONObject([("name", .string(f.name)), ("digest", .string(f.digest.hex)),
                                ("size", .number(Double(f.size))), ("filename", .string(f.filename))]))
        }
        let progress = JSONObject([
            ("recordsRead", .number(Double(p.recordsRead))),
            ("recordsApplied", .number(Double(p.recordsApplied))),
            ("recordsFailed", .number(Double(p.recordsFailed))),
            ("recordsUnchanged", .number(Double(p.recordsUnchanged))),
            ("bytesRead", .number(Double(p.bytesRead))),
            ("bytesTotal", .number(Double(batch.files.reduce(Int64(0)) { $0 + $1.size }))),
        ])
        return JSONValue.object(JSONObject([
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
        ])).compactJSON
    }
}
