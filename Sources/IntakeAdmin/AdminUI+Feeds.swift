import Foundation
import Hummingbird
import IntakeCore
import IntakeHTTP
import IntakeStore

/// The admin UI's feed pages (docs/feeds.md "Where people see feeds"): every feed with its last
/// night, held batches first; one feed's nights, chart and key history.
extension AdminUI {
    static let feedNights = 30

    func addFeedRoutes(_ admin: RouterGroup<IntakeRequestContext>) {
        get(admin, "feeds", use: feedsPage)
        get(admin, "feeds/:name", use: feedPage)
    }

    /// A feed's last night in one line, for the feeds page and the home page.
    func feedSummary(_ feed: FeedRecord) -> [String: Any] {
        var row: [String: Any] = ["name": feed.name, "active": feed.activeKeys, "left": feed.leftKeys]
        if let last = feed.lastBatch {
            let counts = FeedChart.counts(last.progress)
            row["last"] = batchSummary(last)
            row["lastLine"] =
                "\(counts[0]) created, \(counts[1]) updated, \(counts[2]) unchanged (\(last.progress.recordsSkipped) skipped), \(counts[3]) left, \(counts[4]) failed"
        }
        return row
    }

    @Sendable func feedsPage(_ request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws -> Response {
        let feeds = try await store.feeds().map(feedSummary)
        let held = try await store.batches(matching: BatchFilter(states: [.held]), limit: 100, offset: 0).map(batchSummary)
        return try await render(
            "feeds", title: "Feeds", session: &session, crumbs: [Crumb.home, Crumb("Feeds")],
            context: ["feeds": feeds, "hasFeeds": !feeds.isEmpty, "held": held, "hasHeld": !held.isEmpty])
    }

    @Sendable func feedPage(_ request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws -> Response {
        let name = context.parameters.get("name") ?? ""
        guard FeedDeclaration.isValidName(name), let feed = try await store.feed(named: name) else {
            return notFound("Feed \(name)", session: session)
        }
        let batches = try await store.feedBatches(feed: name, limit: Self.feedNights)
        let nights = batches.reversed().map { batch in
            FeedChart.Night(
                batch: batch.id.rawValue, label: "\(Timestamp.string(batch.created)) \(batch.state.rawValue)\(batch.dryRun ? " (dry run)" : "")",
                counts: FeedChart.counts(batch.progress))
        }
        let runs = batches.map { batch -> [String: Any] in
            var row = batchSummary(batch)
            let counts = FeedChart.counts(batch.progress)
            row.merge(
                [
                    "created": counts[0], "updated": counts[1], "unchanged": counts[2], "skipped": batch.progress.recordsSkipped,
                    "leftCount": counts[3], "failedCount": counts[4], "dryRun": batch.dryRun, "isHeld": batch.state == .held
                ]) { _, new in new }
            return row
        }
        var page: [String: Any] = [
            "name": name, "active": feed.activeKeys, "left": feed.leftKeys, "runs": runs, "hasRuns": !runs.isEmpty,
            "chart": FeedChart.svg(nights), "held": runs.filter { $0["isHeld"] as? Bool == true }
        ]
        // The key search: a key's memory now and before each batch that changed it.
        let query = request.uri.formParameters
        let file = query["file"].map(String.init) ?? batches.first?.files.first?.name ?? ""
        page["file"] = file
        if let key = query["key"].map(String.init), !key.isEmpty {
            let history = try await store.feedKeyHistory(feed: name, file: file, key: key)
            page["key"] = key
            page["searched"] = true
            page["history"] = history.map { memory -> [String: Any] in
                [
                    "state": memory.active ? "active" : "left", "lastChanged": Format.time(memory.lastChanged) as Any,
                    "firstSeen": Format.time(memory.firstSeen) as Any, "batch": memory.lastBatch.rawValue,
                    "objects": memory.objects.map { ["destination": $0.destination, "ref": $0.ref.text, "version": $0.version] }
                ]
            }
            page["hasHistory"] = !history.isEmpty
        }
        return try await render(
            "feed", title: "Feed: \(name)", session: &session, crumbs: [Crumb.home, Crumb("Feeds", AdminPath.feeds), Crumb(name)],
            context: page)
    }
}
