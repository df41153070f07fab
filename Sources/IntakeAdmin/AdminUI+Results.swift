import Foundation
import Hummingbird
import IntakeCore
import IntakeHTTP
import IntakeStore

/// The filters of the results pages, from the query: `status` (repeatable), `file`, `destination`
/// (a change to it), `new` (`yes`: a change created an object; `no`: none did), `q` (text in an
/// error message).
struct ResultFilter {
    var statuses: [RecordStatus] = []
    var file: String?
    var destination: String?
    var isNew: Bool?
    var text: String?

    init() {}

    init(_ request: Request) {
        let parameters = request.uri.formParameters
        statuses = parameters[values: "status"].compactMap { RecordStatus(rawValue: String($0)) }
        file = parameters["file"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        text = parameters["q"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        destination = parameters["destination"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        isNew = parameters["new"].flatMap { $0 == "yes" ? true : $0 == "no" ? false : nil }
    }

    /// Whether a result line passes, read from its JSON only when the cheap status test is not enough.
    func matches(_ line: String) -> Bool {
        if !statuses.isEmpty, !statuses.contains(where: { $0.isStatus(of: line) }) { return false }
        guard file != nil || text != nil || destination != nil || isNew != nil else { return true }
        guard let value = try? JSONParser.parse(Array(line.utf8)) else { return false }
        if let file, value["file"]?.stringValue != file { return false }
        let changes = value["changes"]?.arrayValue ?? []
        if let destination, !changes.contains(where: { $0["destination"]?.stringValue == destination }) { return false }
        if let isNew, changes.contains(where: { $0["new"] == .bool(true) }) != isNew { return false }
        if let text, !(value["errors"]?.arrayValue ?? []).contains(where: { $0.stringValue?.contains(text) == true }) { return false }
        return true
    }

    var query: String {
        var parts = statuses.map { "status=\($0.rawValue)" }
        if let file { parts.append(PageLinks.part("file", file)) }
        if let text { parts.append(PageLinks.part("q", text)) }
        if let destination { parts.append(PageLinks.part("destination", destination)) }
        if let isNew { parts.append("new=" + (isNew ? "yes" : "no")) }
        return parts.joined(separator: "&")
    }
}

extension AdminUI {
    static let resultsPerPage = 100

    func addResultRoutes(_ admin: RouterGroup<IntakeRequestContext>) {
        get(admin, "batches/:id/results", use: resultsPage)
        get(admin, "batches/:id/results.ndjson") { request, context, session in
            try await resultsDownload(request, context: context, session: session, csv: false)
        }
        get(admin, "batches/:id/results.csv") { request, context, session in
            try await resultsDownload(request, context: context, session: session, csv: true)
        }
    }

    /// Results are read from the store in pages and filtered as they stream past: page N of a
    /// million-record batch holds at most one store page and the rows shown.
    @Sendable func resultsPage(_ request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws -> Response {
        guard let batch = try await batch(context) else { return batchNotFound(context, session) }
        let filter = ResultFilter(request)
        let page = max(1, request.uri.formParameters["page"].flatMap { Int($0) } ?? 1)
        let skip = (page - 1) * Self.resultsPerPage
        var matched = 0
        var rows: [ResultsPage.Row] = []
        var next = 0
        var more = false
        scan: for try await lines in store.resultPages(of: batch.id) {
            for (offset, line) in lines.enumerated() where filter.matches(line) {
                matched += 1
                if matched <= skip { continue }
                if rows.count == Self.resultsPerPage {
                    more = true
                    break scan
                }
                rows.append(ResultsPage.Row(line, number: next + offset + 1, attributeName: attributeName))
            }
            next += lines.count
        }
        return try await render(
            .results, title: "Results: \(batch.comment)", session: &session, crumbs: Self.crumbs(batch, "Results"),
            model: ResultsPage(batch: batch, filter: filter, rows: rows, page: page, more: more))
    }

    /// An attribute's name in the schema (its code when the schema has no such attribute).
    func attributeName(_ code: String) -> String { schema.attributes[code]?.name ?? code }

    func resultsDownload(_ request: Request, context: IntakeRequestContext, session: AdminSession, csv: Bool) async throws -> Response {
        guard let batch = try await batch(context) else { return batchNotFound(context, session) }
        let filter = request.uri.formParameters["filtered"] != nil ? ResultFilter(request) : ResultFilter()
        let store = self.store
        let body = ResponseBody { writer in
            if csv { try await writer.write(ByteBuffer(string: "record,file,status,changes,errors\r\n")) }
            for try await lines in store.resultPages(of: batch.id) {
                var buffer = ByteBuffer()
                for line in lines where filter.matches(line) {
                    buffer.writeString(csv ? Self.csvRow(line) : line + "\n")
                }
                if buffer.readableBytes > 0 { try await writer.write(buffer) }
            }
            try await writer.finish(nil)
        }
        let name = "batch-\(batch.id.rawValue)-results.\(csv ? "csv" : "ndjson")"
        return Response(
            status: .ok,
            headers: [
                .contentType: csv ? "text/csv; charset=utf-8" : "application/x-ndjson",
                .contentDisposition: "attachment; filename=\"\(name)\""
            ],
            body: body)
    }

    /// record, file, status, changes (`kind destination ref new` joined by `; `), errors (joined by ` | `).
    static func csvRow(_ line: String) -> String {
        let value = (try? JSONParser.parse(Array(line.utf8))) ?? .null
        let changes = (value["changes"]?.arrayValue ?? []).map { change in
            [
                change["kind"]?.stringValue, change["destination"]?.stringValue, change["ref"]?.stringValue,
                change["new"].map { $0 == .bool(true) ? "new" : "updated" }
            ].compactMap { $0 }.joined(separator: " ")
        }.joined(separator: "; ")
        let errors = (value["errors"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: " | ")
        let fields = [value["record"]?.stringValue ?? "", value["file"]?.stringValue ?? "", value["status"]?.stringValue ?? "", changes, errors]
        return fields.map { field in
            // Quoted when needed; a leading = + - @ is prefixed so a spreadsheet does not run it as a formula.
            var text = field
            if let first = text.first, "=+-@".contains(first) { text = "'" + text }
            return text.contains(where: { ",\"\r\n".contains($0) }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }.joined(separator: ",") + "\r\n"
    }
}
