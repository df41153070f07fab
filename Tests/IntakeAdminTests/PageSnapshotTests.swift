import Foundation
import IntakeCore
import IntakeStore
import SnapshotTesting
import Testing

@testable import IntakeAdmin

/// The HTML of the main pages, rendered from fixed models with an operator signed in, against the
/// files under `__Snapshots__/PageSnapshotTests`: a change to a template or a page model shows up as
/// a diff of those files in review. After an intended change, run with
/// `SNAPSHOT_TESTING_RECORD=failed` and commit the new files (CONTRIBUTING.md "Admin pages").
@Suite(.snapshots(record: .missing)) struct PageSnapshotTests {
    private let start = Date(timeIntervalSince1970: 1_800_000_000)
    private let control = Digest(hex: String(repeating: "c", count: 64))!

    private var session: AdminSession {
        AdminSession(
            record: AdminSessionRecord(idHash: "h", account: "ops", csrfToken: "TOKEN", created: start, lastSeen: start), data: SessionData(),
            role: .operator)
    }

    private func batch(_ id: String, _ state: BatchState, comment: String = "Nightly staff", held: HeldReason? = nil) -> Batch {
        var progress = RunProgress()
        progress.recordsRead = 120
        progress.recordsApplied = 117
        progress.recordsFailed = 3
        progress.errors = 3
        progress.bytesRead = 2_048
        var summary = DestinationSummary()
        (summary.created, summary.updated, summary.unchanged) = (5, 12, 100)
        progress.destinations = ["profile": summary]
        progress.held = held
        return Batch(
            id: BatchID(rawValue: id), state: state, comment: comment, control: control, dryRun: false, created: start,
            scheduled: start.addingTimeInterval(60), started: start.addingTimeInterval(61),
            finished: state == .running ? nil : start.addingTimeInterval(95), scheduledBy: "key 1",
            files: [BatchFile(name: "staff", digest: Digest(hex: String(repeating: "d", count: 64))!, size: 2_048, filename: "staff.csv")],
            progress: progress, feed: held == nil ? nil : "hr-staff")
    }

    private func html<Model: Sendable>(_ template: AdminTemplate, _ title: String, _ model: Model, crumbs: [Crumb] = []) throws -> String {
        try AdminRenderer().html(template, title: title, session: session, flash: nil, crumbs: crumbs, model: model)
    }

    @Test func home() throws {
        let feeds = [FeedRecord(name: "hr-staff", activeKeys: 90, leftKeys: 10, lastBatch: batch("b2", .complete))]
        let page = HomePage(databaseReachable: true, active: [batch("b3", .running)], feeds: feeds, finished: [batch("b2", .complete)])
        assertSnapshot(of: try html(.home, "Data import", page), as: .lines)
    }

    @Test func batchWithItsLogAndSummary() throws {
        let page = BatchPage(
            batch: batch("b1", .error), controlFile: ControlFileRecord(id: 4, digest: control, size: 900, comment: "people", created: start),
            log: ["START: 2027-01-15T08:01:01Z", "EXCEPTION: no such attribute (record 7)", "END: 2027-01-15T08:01:35Z"], deliveries: [],
            rolledBack: nil, resultsPerPage: 100)
        let crumbs = [Crumb.home, Crumb("Batches", AdminPath.batches), Crumb("b1")]
        assertSnapshot(of: try html(.batch, "Batch: Nightly staff", page, crumbs: crumbs), as: .lines)
    }

    @Test func heldBatchApproval() throws {
        let held = HeldReason(reason: "leavers", count: 2, of: 5, limit: "20%")
        let leavers = ["E1", "E2"].map {
            FeedKeyMemory(
                file: "staff", key: $0, recordDigest: "d", control: "c", schema: "s", objects: [], mustTransform: false, active: true,
                firstSeen: start, lastChanged: start, firstBatch: BatchID(rawValue: "b0"), lastBatch: BatchID(rawValue: "b0"))
        }
        let batch = batch("b5", .held, held: held)
        var page = BatchConfirmPage(.approve, batch: batch, error: nil)
        page.setHeld(held, feed: "hr-staff", leavers: leavers)
        assertSnapshot(of: try html(.confirm, "Approve batch: Nightly staff", page), as: .lines)
    }

    @Test func results() throws {
        let line =
            #"{"record":"7","file":"staff","status":"applied","key":"E7","changes":[{"kind":"updated","destination":"profile","ref":"8001","new":false,"diff":[{"attribute":"dc:attribute:title","before":[{"text":"Ada"}],"after":[{"text":"Ada L."}]}]}],"errors":[]}"#
        let rows = [ResultsPage.Row(line, number: 8) { $0 == "dc:attribute:title" ? "Title" : $0 }]
        let page = ResultsPage(batch: batch("b1", .complete), filter: ResultFilter(), rows: rows, page: 1, more: false)
        assertSnapshot(of: try html(.results, "Results: Nightly staff", page), as: .lines)
    }

    @Test func object() throws {
        let object = ObjectRecord(
            ref: ObjectRef(8001), type: "std:type:person", title: "Ada L.", version: 2, created: start, updated: start, values: [])
        let rows = [
            AttributeRow(attribute: "Title", code: "dc:attribute:title", qualifier: "", lines: [.init("Ada L.")]),
            AttributeRow(attribute: "Works for", code: "std:attribute:works-for", qualifier: "", lines: [.init("Lab", ref: "8002")])
        ]
        assertSnapshot(of: try html(.object, "Ada L.", ObjectPage(object, schema: StandardSchema.make(), values: rows)), as: .lines)
    }

    @Test func newBatchWithErrors() throws {
        var errors = FormErrors()
        errors.add("comment", "Required field")
        let record = ControlFileRecord(id: 4, digest: control, size: 900, comment: "people", created: start)
        let files = FileTable(rows: [FileRow(name: "staff"), FileRow(name: "")], names: ["staff", "students"], duplicates: nil)
        let page = NewBatchPage(record, comment: "", files: files, errors: errors)
        assertSnapshot(of: try html(.newBatch, "New batch", page), as: .lines)
    }

    @Test func signIn() throws {
        let page = SignInPage(next: "/admin/batches", username: "ops", error: "Incorrect username or password.")
        assertSnapshot(of: try AdminRenderer().html(.login, title: "Sign in", session: nil, model: page), as: .lines)
    }
}
