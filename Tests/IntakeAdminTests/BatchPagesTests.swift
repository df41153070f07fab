import Foundation
import IntakeCore
import IntakeStore
import Testing

@testable import IntakeAdmin

/// The batch page, its confirm pages, its results and the object pages: models built from store
/// values without a request, and rendered through the layout they inherit.
@Suite struct BatchPagesTests {
    private let start = Date(timeIntervalSince1970: 1_800_000_000)

    private func batch(_ state: BatchState, comment: String = "nightly", failed: Int = 0, held: HeldReason? = nil) -> Batch {
        var progress = RunProgress()
        progress.recordsFailed = failed
        progress.recordsRead = 300
        progress.held = held
        return Batch(
            id: BatchID(rawValue: "b1"), state: state, comment: comment, control: Digest(hex: String(repeating: "a", count: 64))!,
            dryRun: false, created: start,
            files: [BatchFile(name: "staff list", digest: Digest(hex: String(repeating: "b", count: 64))!, size: 2_500, filename: "s.csv")],
            progress: progress)
    }

    @Test func logLinesLinkToTheirRecordsAndProblemsStandOut() {
        let page = BatchPage(
            batch: batch(.error, failed: 1), controlFile: nil,
            log: ["Started", "EXCEPTION: no such attribute (record 150)", "Finished"], deliveries: [], rolledBack: nil, resultsPerPage: 100)
        #expect(page.log.map(\.problem) == [false, true, false])
        #expect(page.log[1].text == "EXCEPTION: no such attribute " && page.log[1].recordText == "(record 150)")
        #expect(page.log[1].recordHref == "/admin/batches/b1/results?page=2#record-150")
        #expect(page.log[0].recordHref == nil)
        #expect(page.mode == nil, "a batch never scheduled has no mode")
        #expect(page.hasFailedRows && page.failedRows.first?.href == "/admin/batches/b1/failed-rows?file=staff%20list")
        #expect(page.files.first?.href == "/admin/batches/b1/files/staff%20list")
        #expect(page.isError && !page.isActive && page.canCopy)
    }

    @Test func aRunningBatchOffersNoFailedRowsYet() {
        let page = BatchPage(batch: batch(.running, failed: 3), controlFile: nil, log: [], deliveries: [], rolledBack: nil, resultsPerPage: 100)
        #expect(page.isActive && page.failedRows.isEmpty && !page.hasFailedRows)
    }

    /// The page inherits the layout: title, crumbs (the last one not a link), the notice, and every
    /// value escaped.
    @Test func theBatchPageRendersInsideTheLayout() throws {
        let renderer = try AdminRenderer()
        let held = HeldReason(reason: "leavers", count: 40, of: 100, limit: "20%")
        let page = BatchPage(
            batch: batch(.held, comment: "<b>night</b>", held: held), controlFile: nil, log: ["Started", "Finished"], deliveries: [], rolledBack: nil,
            resultsPerPage: 100)
        let html = renderer.html(
            .batch, title: "Batch: <b>night</b>", session: nil, flash: "Files changed.",
            crumbs: [Crumb("Home", "/admin"), Crumb("Batches", "/admin/batches"), Crumb("b1")], model: page)
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("<h1>Batch: &lt;b&gt;night&lt;/b&gt;</h1>"))
        #expect(!html.contains("<b>night"))
        #expect(html.contains(#"<li><a href="/admin/batches">Batches</a></li><li><span aria-current="page">b1</span></li>"#))
        #expect(html.contains(#"<p class="flash">Files changed.</p>"#))
        #expect(html.contains("Held by the feed's guard: 40 of 100 keys would leave the feed, more than the limit of 20%."))
        // The body is not indented where the layout places it: a log line's text is exact.
        #expect(html.contains("<span class=\"line\" data-n=\"1\">Started\n</span><span class=\"line\" data-n=\"2\">Finished\n</span>"))
    }

    /// All the leavers listed: no "… and 0 more"; their last change is shown as a time's text.
    @Test func aHeldBatchsConfirmPageListsItsLeavers() throws {
        let held = HeldReason(reason: "leavers", count: 1, of: 4, limit: "20%")
        let leaver = FeedKeyMemory(
            file: "staff", key: "E7", recordDigest: "d", control: "c", schema: "s", objects: [], mustTransform: false, active: true,
            firstSeen: start, lastChanged: start, firstBatch: BatchID(rawValue: "b0"), lastBatch: BatchID(rawValue: "b0"))
        var page = BatchConfirmPage(.approve, batch: batch(.held, held: held), error: nil)
        page.setHeld(held, feed: "hr-staff", leavers: [leaver])
        #expect(page.moreLeavers == nil && page.hasLeavers)
        let html = try AdminRenderer().html(.confirm, title: "Approve batch: nightly", session: nil, model: page)
        #expect(html.contains("<th scope=\"row\">E7</th><td>2027-01-15 08:00 UTC</td>"))
        #expect(!html.contains("more.</p>"))
        #expect(html.contains("Held: 1 of 4 keys would leave feed hr-staff, more than the limit of 20%."))
        #expect(html.contains(#"action="/admin/batches/b1/approve""#))
    }

    @Test func aResultLineBecomesARowWithItsDiff() {
        let line =
            #"{"record":"7","file":"staff","status":"applied","key":"E7","changes":[{"kind":"updated","destination":"profile","ref":"8001","new":false,"diff":[{"attribute":"dc:attribute:title","before":[{"text":"A"}],"after":[{"text":"B"},{"text":"C"}]}]}],"errors":[]}"#
        let row = ResultsPage.Row(line, number: 8) { $0 == "dc:attribute:title" ? "Title" : $0 }
        #expect(row.anchor == "record-7" && row.key == "E7" && row.status == "applied" && !row.skipped)
        let change = row.changes.first
        #expect(change?.ref == "8001" && change?.isNew == "updated")
        #expect(change?.diff.first?.attribute == "Title" && change?.diff.first?.before == "A" && change?.diff.first?.after == "B; C")
    }

    @Test func theResultsPageLinksKeepTheFilter() {
        var filter = ResultFilter()
        filter.statuses = [.failed]
        filter.text = "no such"
        let page = ResultsPage(batch: batch(.complete, failed: 2), filter: filter, rows: [], page: 2, more: true)
        #expect(page.previous == "/admin/batches/b1/results?status=failed&q=no%20such&page=1")
        #expect(page.next == "/admin/batches/b1/results?status=failed&q=no%20such&page=3")
        #expect(page.csv == "/admin/batches/b1/results.csv?filtered=1&status=failed&q=no%20such")
        #expect(page.statuses.first { $0.value == "failed" }.map { $0.checked && $0.count == 2 } == true)
    }

    /// A text value on an object's page is not a link: only refs link, never to the page's own object.
    @Test func onlyRefValuesLink() throws {
        let object = ObjectRecord(
            ref: ObjectRef(8000), type: nil, title: "Ada", version: 1, created: start, updated: start,
            values: [ObjectValue(attribute: "dc:attribute:title", value: .text(.text, "Ada"))])
        let rows = [
            AttributeRow(attribute: "Title", code: "dc:attribute:title", qualifier: "", lines: [.init("Ada")]),
            AttributeRow(attribute: "Works for", code: "std:attribute:works-for", qualifier: "", lines: [.init("Lab", ref: "8001")])
        ]
        let page = ObjectPage(object, schema: StandardSchema.make(), values: rows)
        let html = try AdminRenderer().html(.object, title: "Ada", session: nil, model: page)
        #expect(html.contains("<td><div>Ada</div></td>"))
        #expect(html.contains(#"<div><a href="/admin/objects/8001">Lab</a></div>"#))
        #expect(!html.contains(#"<a href="/admin/objects/\#(ObjectRef(8000).text)">Ada</a>"#))
    }
}
