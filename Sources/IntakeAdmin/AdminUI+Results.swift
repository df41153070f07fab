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
        if let file { parts.append("file=" + (file.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")) }
        if let text { parts.append("q=" + (text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")) }
        if let destination { parts.append("destination=" + (destination.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")) }
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
        var rows: [[String: Any]] = []
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
                rows.append(resultRow(line, number: next + offset + 1))
            }
            next += lines.count
        }
        let p = batch.progress
        func count(_ status: RecordStatus) -> Int {
            switch status {
            case .applied: batch.dryRun ? 0 : p.recordsApplied
            case .dryRun: batch.dryRun ? p.recordsApplied : 0
            case .failed: p.recordsFailed
            case .unchanged: p.recordsUnchanged
            case .left: p.recordsLeft
            case .notApplied: p.recordsNotApplied
            }
        }
        let statusCounts: [[String: Any]] = RecordStatus.allCases.sorted { $0.rawValue < $1.rawValue }.map { status in
            ["value": status.rawValue, "checked": filter.statuses.contains(status), "count": count(status)]
        }
        let base = AdminPath.batchResults(batch.id)
        let query = filter.query
        func link(_ page: Int) -> String { base + "?" + (query.isEmpty ? "" : query + "&") + "page=\(page)" }
        return try await render(
            "results", title: "Results: \(batch.comment)", session: &session, crumbs: Self.crumbs(batch, "Results"),
            context: [
                "id": batch.id.rawValue, "rows": rows, "hasRows": !rows.isEmpty, "running": batch.state == .running,
                "statuses": statusCounts,
                "files": batch.files.map { ["name": $0.name, "selected": $0.name == filter.file] }, "q": filter.text ?? "",
                "destination": filter.destination ?? "", "newYes": filter.isNew == true, "newNo": filter.isNew == false,
                "previous": page > 1 ? link(page - 1) : nil as String? as Any, "next": more ? link(page + 1) : nil as String? as Any,
                "ndjson": base + ".ndjson" + (query.isEmpty ? "" : "?filtered=1&" + query),
                "csv": base + ".csv" + (query.isEmpty ? "" : "?filtered=1&" + query)
            ])
    }

    func resultRow(_ line: String, number: Int) -> [String: Any] {
        let value = (try? JSONParser.parse(Array(line.utf8))) ?? .null
        let changes = (value["changes"]?.arrayValue ?? []).map { change -> [String: Any] in
            [
                "kind": change["kind"]?.stringValue ?? "", "destination": change["destination"]?.stringValue ?? "",
                "ref": change["ref"]?.stringValue as Any, "isNew": change["new"] == .bool(true) ? "new" : "updated",
                // Before and after per attribute, each value as its text (or its JSON when it has none).
                "diff": (change["diff"]?.arrayValue ?? []).map { entry -> [String: Any] in
                    func texts(_ values: JSONValue?) -> String {
                        (values?.arrayValue ?? []).map { $0["text"]?.stringValue ?? $0["ref"]?.stringValue ?? $0.compactJSON }
                            .joined(separator: "; ")
                    }
                    return [
                        "attribute": schema.attributes[entry["attribute"]?.stringValue ?? ""]?.name ?? entry["attribute"]?.stringValue ?? "",
                        "before": texts(entry["before"]), "after": texts(entry["after"])
                    ]
                }
            ]
        }
        return [
            "number": number, "anchor": "record-\(number - 1)", "record": value["record"]?.stringValue ?? "", "file": value["file"]?.stringValue ?? "",
            "key": value["key"]?.stringValue as Any, "skipped": value["skipped"] == .bool(true),
            "status": value["status"]?.stringValue ?? "", "changes": changes,
            "errors": (value["errors"]?.arrayValue ?? []).compactMap(\.stringValue)
        ]
    }

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
