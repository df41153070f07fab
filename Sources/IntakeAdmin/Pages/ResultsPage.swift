import Foundation
import IntakeCore
import IntakeStore

/// A batch's results, a page of 100 filtered rows (docs/admin-ui.md "Results"): the filter form
/// with a count per status, the rows with their changes and per-attribute diffs, the pager and the
/// downloads of what the filter selects.
struct ResultsPage: Sendable {
    struct StatusOption: Sendable {
        var value: String
        var checked: Bool
        var count: Int
    }

    struct FileOption: Sendable {
        var name: String
        var selected: Bool
    }

    /// One result line.
    struct Row: Sendable {
        struct Change: Sendable {
            struct Diff: Sendable {
                var attribute: String
                var before: String
                var after: String
            }
            var kind: String
            var destination: String
            var ref: String?
            var isNew: String
            var diff: [Diff]
        }
        var number: Int
        var anchor: String
        var record: String
        var file: String
        var key: String?
        var skipped: Bool
        var status: String
        var changes: [Change]
        var errors: [String]

        /// - Parameters:
        ///   - line: the result line as stored (docs/api.md "Results").
        ///   - number: its place in the batch's results, from 1.
        ///   - attributeName: an attribute's name in the schema, by code.
        init(_ line: String, number: Int, attributeName: (String) -> String) {
            let value = (try? JSONParser.parse(Array(line.utf8))) ?? .null
            // Before and after per attribute, each value as its text (or its JSON when it has none).
            func texts(_ values: JSONValue?) -> String {
                (values?.arrayValue ?? []).map { $0["text"]?.stringValue ?? $0["ref"]?.stringValue ?? $0.compactJSON }.joined(separator: "; ")
            }
            changes = (value["changes"]?.arrayValue ?? []).map { change in
                Change(
                    kind: change["kind"]?.stringValue ?? "", destination: change["destination"]?.stringValue ?? "",
                    ref: change["ref"]?.stringValue, isNew: change["new"] == .bool(true) ? "new" : "updated",
                    diff: (change["diff"]?.arrayValue ?? []).map { entry in
                        Change.Diff(
                            attribute: attributeName(entry["attribute"]?.stringValue ?? ""), before: texts(entry["before"]), after: texts(entry["after"]))
                    })
            }
            self.number = number
            anchor = "record-\(number - 1)"
            record = value["record"]?.stringValue ?? ""
            file = value["file"]?.stringValue ?? ""
            key = value["key"]?.stringValue
            skipped = value["skipped"] == .bool(true)
            status = value["status"]?.stringValue ?? ""
            errors = (value["errors"]?.arrayValue ?? []).compactMap(\.stringValue)
        }
    }

    var id: String
    var rows: [Row]
    var hasRows: Bool
    var running: Bool
    var statuses: [StatusOption]
    var files: [FileOption]
    var q: String
    var destination: String
    var newYes: Bool
    var newNo: Bool
    var previous: String?
    var next: String?
    var ndjson: String
    var csv: String

    /// - Parameters:
    ///   - rows: the page's rows; `more`: whether rows match after them.
    init(batch: Batch, filter: ResultFilter, rows: [Row], page: Int, more: Bool) {
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
        id = batch.id.rawValue
        self.rows = rows
        hasRows = !rows.isEmpty
        running = batch.state == .running
        statuses = RecordStatus.allCases.sorted { $0.rawValue < $1.rawValue }.map { status in
            StatusOption(value: status.rawValue, checked: filter.statuses.contains(status), count: count(status))
        }
        files = batch.files.map { FileOption(name: $0.name, selected: $0.name == filter.file) }
        (q, destination, newYes, newNo) = (filter.text ?? "", filter.destination ?? "", filter.isNew == true, filter.isNew == false)
        let base = AdminPath.batchResults(batch.id)
        let query = filter.query
        func link(_ page: Int) -> String { base + "?" + (query.isEmpty ? "" : query + "&") + "page=\(page)" }
        previous = page > 1 ? link(page - 1) : nil
        next = more ? link(page + 1) : nil
        ndjson = base + ".ndjson" + (query.isEmpty ? "" : "?filtered=1&" + query)
        csv = base + ".csv" + (query.isEmpty ? "" : "?filtered=1&" + query)
    }
}
