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

    @Sendable func feedsPage(_ request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws -> Response {
        let page = FeedsPage(
            feeds: try await store.feeds(), held: try await store.batches(matching: BatchFilter(states: [.held]), limit: 100, offset: 0))
        return try await render(.feeds, title: "Feeds", session: &session, crumbs: [Crumb.home, Crumb("Feeds")], model: page)
    }

    @Sendable func feedPage(_ request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws -> Response {
        let name = context.parameters.get("name") ?? ""
        guard FeedDeclaration.isValidName(name), let feed = try await store.feed(named: name) else {
            return notFound("Feed \(name)", session: session)
        }
        let batches = try await store.feedBatches(feed: name, limit: Self.feedNights)
        // The key search: a key's memory now and before each batch that changed it.
        let query = request.uri.formParameters
        let key = query["key"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        let file = query["file"].map(String.init) ?? batches.first?.files.first?.name ?? ""
        let history = key == nil ? nil : try await store.feedKeyHistory(feed: name, file: file, key: key!)
        return try await render(
            .feed, title: "Feed: \(name)", session: &session, crumbs: [Crumb.home, Crumb("Feeds", AdminPath.feeds), Crumb(name)],
            model: FeedPage(feed: feed, batches: batches, file: file, key: key, history: history))
    }
}
