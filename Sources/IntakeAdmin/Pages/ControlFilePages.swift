import Foundation
import IntakeCore
import IntakeStore

/// The control files, newest first, a page at a time, with a search by comment.
struct ControlFilesPage: Sendable {
    struct Row: Sendable {
        var id: Int64
        var digest: String
        var shortDigest: String
        var comment: String
        var created: [String: String]?
        var size: [String: String]
        /// The model the control file names ("" when it names none, or its bytes are missing).
        var model: String
        var batches: Int
        var batchesHref: String
    }
    var count: Int
    var rows: [Row]
    var hasRows: Bool
    var q: String
    var previous: String?
    var next: String?

    /// - Parameters:
    ///   - models: the model each record's control file names, by digest.
    ///   - uses: how many batches use each control file.
    init(records: [ControlFileRecord], models: [Digest: String], uses: [Digest: Int], count: Int, search: String?, page: Int, perPage: Int) {
        rows = records.map { record in
            Row(
                id: record.id, digest: record.digest.hex, shortDigest: Format.short(record.digest.hex), comment: record.comment,
                created: Format.time(record.created), size: Format.sizeContext(record.size), model: models[record.digest] ?? "",
                batches: uses[record.digest] ?? 0, batchesHref: AdminPath.batches + "?control=\(record.digest.hex)")
        }
        (self.count, hasRows, q) = (count, !rows.isEmpty, search ?? "")
        let links = PageLinks(AdminPath.controlFiles, query: search.map { [PageLinks.part("q", $0)] } ?? [], page: page, perPage: perPage, count: count)
        (previous, next) = (links.previous, links.next)
    }
}

/// The upload form, again after a refusal.
struct NewControlFilePage: FormPageModel {
    var comment: String
    /// The file was given but refused: browsers cannot refill a file input, so the page says so.
    var fileAgain: Bool
    var formErrors: FormErrors
}

/// One control file: what it is, its text, and the batches that use it.
struct ControlFilePage: Sendable {
    var id: Int64
    var digest: String
    var comment: String
    var created: [String: String]?
    var size: [String: String]
    var model: String
    var uploadedBy: String?
    var pretty: String
    var batches: [BatchRow]
    var hasBatches: Bool

    init(record: ControlFileRecord, control: JSONValue?, batches: [Batch]) {
        (id, digest, comment) = (record.id, record.digest.hex, record.comment)
        (created, size) = (Format.time(record.created), Format.sizeContext(record.size))
        model = control?["model"]?.stringValue ?? ""
        uploadedBy = record.uploadedBy.flatMap { $0.isEmpty ? nil : $0 }
        pretty = control?.prettyJSON(indent: 2) ?? "(the control file's bytes are missing from the blob store)"
        self.batches = batches.map { BatchRow($0) }
        hasBatches = !batches.isEmpty
    }
}

/// The home page: what runs now, the feeds, the last finished batches, and whether the database
/// answers.
struct HomePage: Sendable {
    var databaseReachable: Bool
    var active: [BatchRow]
    var hasActive: Bool
    var feeds: [FeedsPage.Feed]
    var hasFeeds: Bool
    var finished: [BatchRow]
    var hasFinished: Bool

    init(databaseReachable: Bool, active: [Batch], feeds: [FeedRecord], finished: [Batch]) {
        self.databaseReachable = databaseReachable
        (self.active, self.feeds, self.finished) = (active.map { BatchRow($0) }, feeds.map { FeedsPage.Feed($0) }, finished.map { BatchRow($0) })
        (hasActive, hasFeeds, hasFinished) = (!active.isEmpty, !feeds.isEmpty, !finished.isEmpty)
    }
}

/// The batches, newest first, a page at a time, filtered by state, comment and control file.
struct BatchesPage: Sendable {
    struct State: Sendable {
        var value: String
        var selected: Bool
    }
    var count: Int
    var rows: [BatchRow]
    var hasRows: Bool
    /// A batch on the page is scheduled or running: the page refreshes itself.
    var anyActive: Bool
    var states: [State]
    var comment: String
    var control: String
    var previous: String?
    var next: String?

    init(batches: [Batch], count: Int, filter: BatchFilter, page: Int, perPage: Int, now: Date) {
        rows = batches.map { batch in
            var row = BatchRow(batch)
            if let started = batch.started { row.duration = AdminUI.duration((batch.finished ?? now).timeIntervalSince(started)) }
            return row
        }
        (self.count, hasRows) = (count, !rows.isEmpty)
        anyActive = batches.contains { $0.state == .scheduled || $0.state == .running }
        states = BatchState.allCases.map { State(value: $0.rawValue, selected: filter.states.contains($0)) }
        (comment, control) = (filter.comment ?? "", filter.controlPrefix ?? "")
        var parts = filter.states.map { "state=\($0.rawValue)" }
        if let comment = filter.comment { parts.append(PageLinks.part("comment", comment)) }
        if let control = filter.controlPrefix { parts.append("control=" + control) }
        let links = PageLinks(AdminPath.batches, query: parts, page: page, perPage: perPage, count: count)
        (previous, next) = (links.previous, links.next)
    }
}
