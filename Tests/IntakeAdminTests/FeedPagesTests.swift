import Foundation
import IntakeCore
import IntakeStore
import Testing

@testable import IntakeAdmin

/// The feed pages' models, built from store values without a request, and rendered by the same
/// renderer the server uses.
@Suite struct FeedPagesTests {
    private func night(_ id: String, _ state: BatchState, comment: String = "night", created: Int = 0, left: Int = 0, dryRun: Bool = false) -> Batch {
        var progress = RunProgress()
        var summary = DestinationSummary()
        summary.created = created
        progress.destinations = ["profile": summary]
        progress.recordsLeft = left
        return Batch(
            id: BatchID(rawValue: id), state: state, comment: comment, control: Digest(hex: String(repeating: "a", count: 64))!,
            dryRun: dryRun, created: Date(timeIntervalSince1970: 1_800_000_000),
            files: [BatchFile(name: "staff", digest: Digest(hex: String(repeating: "b", count: 64))!, size: 1, filename: "s.csv")],
            progress: progress)
    }

    @Test func aFeedsNightsAreCountedAndItsHeldNightsPickedOut() {
        let feed = FeedRecord(name: "hr-staff", activeKeys: 90, leftKeys: 10, lastBatch: nil)
        let page = FeedPage(
            feed: feed, batches: [night("b3", .held, left: 40), night("b2", .complete, created: 5), night("b1", .dryRun, dryRun: true)], file: nil, key: nil,
            history: nil)
        #expect(page.runs.map(\.id) == ["b3", "b2", "b1"])
        #expect(page.held.map(\.id) == ["b3"])
        #expect(page.runs[0].leftCount == 40 && page.runs[1].created == 5 && page.runs[2].dryRun)
        #expect(page.file == "staff", "the key search looks in the last night's first file")
        #expect(!page.searched && !page.hasHistory && page.hasRuns)
        #expect(page.chart.hasPrefix("<svg"))
    }

    @Test func aKeysHistoryIsShownOnlyWhenAsked() {
        let feed = FeedRecord(name: "hr-staff", activeKeys: 1, leftKeys: 0, lastBatch: nil)
        let memory = FeedKeyMemory(
            file: "staff", key: "E1", recordDigest: "d", control: "c", schema: "s",
            objects: [FeedObject(destination: "profile", ref: ObjectRef(8000), version: 2)], mustTransform: false, active: false,
            firstSeen: Date(timeIntervalSince1970: 0), lastChanged: Date(timeIntervalSince1970: 60), firstBatch: BatchID(rawValue: "b1"),
            lastBatch: BatchID(rawValue: "b2"))
        let page = FeedPage(feed: feed, batches: [], file: "staff", key: "E1", history: [memory])
        #expect(page.searched && page.hasHistory)
        #expect(page.history.first?.state == "left" && page.history.first?.objects.first?.version == 2)
        let unknown = FeedPage(feed: feed, batches: [], file: "staff", key: "E9", history: [])
        #expect(unknown.searched && !unknown.hasHistory)
    }

    /// Every value from the store is escaped; the model's nil optionals are absent to the template.
    @Test func theFeedsPageRendersItsModelEscaped() throws {
        let renderer = try AdminRenderer()
        let feeds = [
            FeedRecord(name: "hr-staff", activeKeys: 3, leftKeys: 1, lastBatch: night("b1", .complete, comment: "<script>x</script>", created: 3)),
            FeedRecord(name: "students", activeKeys: 0, leftKeys: 0, lastBatch: nil)
        ]
        let page = FeedsPage(feeds: feeds, held: [])
        let html = renderer.html(.feeds, title: "Feeds", session: nil, model: page)
        #expect(html.contains("&lt;script&gt;x&lt;/script&gt;") && !html.contains("<script>x"))
        #expect(html.contains(#"<a href="/admin/feeds/hr-staff">hr-staff</a>"#))
        #expect(html.contains("3 created, 0 updated, 0 unchanged (0 skipped), 0 left, 0 failed"))
        #expect(!html.contains("held-batches"), "no held section without held nights")
    }

    /// Every page names its template through `AdminTemplate`, and every template has a case.
    @Test func everyTemplateHasItsCase() throws {
        let files = Set(AdminAssets.templates.keys).subtracting(["layout"])
        let cases = Set(AdminTemplate.allCases.map(\.rawValue)).subtracting(["layout"])
        #expect(files == cases)
    }
}

/// The batches list's model: pages keep the filter, a batch that has not started has no duration.
@Suite struct BatchesPageTests {
    @Test func pagesKeepTheFilterAndOnlyStartedBatchesHaveADuration() {
        let control = Digest(hex: String(repeating: "c", count: 64))!
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let batches = [
            Batch(
                id: BatchID(rawValue: "b2"), state: .running, comment: "now", control: control, dryRun: false, created: start, started: start,
                files: [], progress: RunProgress()),
            Batch(
                id: BatchID(rawValue: "b1"), state: .scheduled, comment: "next", control: control, dryRun: false, created: start, files: [],
                progress: RunProgress())
        ]
        let filter = BatchFilter(states: [.running, .scheduled], comment: "a b", controlPrefix: "cc")
        let page = BatchesPage(batches: batches, count: 120, filter: filter, page: 2, perPage: 50, now: start.addingTimeInterval(90))
        #expect(page.rows.map(\.duration) == [AdminUI.duration(90), nil])
        #expect(page.anyActive && page.hasRows)
        #expect(page.previous == "/admin/batches?state=running&state=scheduled&comment=a%20b&control=cc&page=1")
        #expect(page.next == "/admin/batches?state=running&state=scheduled&comment=a%20b&control=cc&page=3")
        #expect(Set(page.states.filter(\.selected).map(\.value)) == ["running", "scheduled"])
    }
}

/// The objects list's model: type names from the schema, and a next page that keeps the filters.
@Suite struct ObjectsPageTests {
    @Test func aFullPageLinksToTheNextWithItsFilters() {
        let day = Date(timeIntervalSince1970: 1_800_000_000)
        let objects = (0..<3).map { i in
            ObjectRecord(
                ref: ObjectRef(8000 + Int64(i)), type: i == 0 ? nil : "std:type:person", title: "P\(i)", version: 1, created: day, updated: day, values: [])
        }
        let schema = StandardSchema.make()
        let full = ObjectsPage(
            objects: objects, perPage: 2, schema: schema, type: "std:type:person", subtypes: true, title: "A B", batch: BatchID(rawValue: "b1"))
        #expect(full.rows.map(\.title) == ["P0", "P1"])
        #expect(full.rows.map(\.type) == ["", schema.types["std:type:person"]!.name])
        #expect(full.next == "/admin/objects?type=std%3Atype%3Aperson&subtypes=1&title=A%20B&batch=b1&after=\(ObjectRef(8001).text)")
        #expect(full.types.filter(\.selected).map(\.code) == ["std:type:person"])
        let last = ObjectsPage(objects: Array(objects.prefix(2)), perPage: 2, schema: schema, type: nil, subtypes: false, title: nil, batch: nil)
        #expect(last.next == nil && last.titleFilter == "" && last.batchFilter == "")
    }
}
