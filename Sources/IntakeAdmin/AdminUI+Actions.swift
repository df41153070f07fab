import Foundation
import Hummingbird
import IntakeApp
import IntakeCore
import IntakeHTTP
import IntakeStore

/// The batch actions behind a confirm page: a GET shows the question, only the POST acts.
enum ConfirmedAction: String, CaseIterable, Sendable {
    case dryRun = "dry-run"
    case importData = "import"
    case copy
    case cancel
    case rollback
    /// A batch a feed's guard held goes on (docs/feeds.md "Guards").
    case approve
    /// A new batch of the failed records (docs/api.md `retry`).
    case retry

    /// The application's action behind it, whose rules say when it is allowed.
    var batchAction: BatchAction {
        switch self {
        case .dryRun, .importData: .scheduleReady
        case .copy: .copy
        case .cancel: .cancelActive
        case .rollback: .rollback
        case .approve: .approve
        case .retry: .retry
        }
    }

    /// Whether the batch's state allows the action; nil when it does, else the refusal.
    func refusal(_ batch: Batch) -> String? { batchAction.refusal(batch)?.userMessage }

    func title(_ batch: Batch) -> String {
        switch self {
        case .dryRun, .importData: "Schedule batch: \(batch.comment)"
        case .copy: "Copy batch: \(batch.comment)"
        case .cancel: "Cancel batch: \(batch.comment)"
        case .rollback: "Roll back batch: \(batch.comment)"
        case .approve: "Approve batch: \(batch.comment)"
        case .retry: "Retry failed records: \(batch.comment)"
        }
    }

    func question(_ batch: Batch) -> String {
        switch self {
        case .dryRun: "Run the import in dry run mode? The data is checked but nothing is imported."
        case .importData: "Import this data? The data in Intake will be changed. Always do a dry run first."
        case .copy: "Copy this batch so it can be run again?"
        case .cancel where batch.state == .held:
            batch.progress.held?.reason == "leavers"
                ? "Cancel this held batch? Its records stay imported; the keys below do not leave the feed."
                : "Cancel this held batch? Nothing of it is imported."
        case .cancel:
            batch.state == .running
                ? "The run stops after the record being processed. Records already imported stay imported." : "This batch will not run."
        case .approve:
            batch.progress.held?.reason == "leavers"
                ? "Approve this batch? The keys below leave the feed and its leavers instructions run for each."
                : "Approve this batch? All of its records are imported."
        case .rollback:
            "Rolling back deletes the objects this batch created and restores the objects it changed to their earlier versions. Objects changed again after this batch are left alone."
        case .retry:
            "Make a new batch of the \(batch.progress.recordsFailed) failed records, as they were in the files? It opens ready: replace any file with a fixed one, then run it."
        }
    }

    var button: String {
        switch self {
        case .dryRun: "Dry run"
        case .importData: "Import data"
        case .copy: "Copy batch"
        case .cancel: "Cancel batch"
        case .rollback: "Roll back batch"
        case .approve: "Approve batch"
        case .retry: "Retry failed records"
        }
    }
}

extension AdminUI {
    func confirmPage(_ action: ConfirmedAction, request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws
        -> Response
    {
        guard let batch = try await batch(context) else { return batchNotFound(context, session) }
        if let refusal = try await refusal(action, batch) {
            return notPossible(refusal, back: AdminPath.batch(batch.id), session: session)
        }
        return try await renderConfirm(action, batch: batch, session: &session)
    }

    func renderConfirm(
        _ action: ConfirmedAction, batch: Batch, error: String? = nil, status: HTTPResponse.Status = .ok, session: inout AdminSession
    ) async throws -> Response {
        var page = BatchConfirmPage(action, batch: batch, error: error)
        if action == .importData { page.setDryRun(try await matchingDryRun(of: batch)) }
        if action == .rollback { try await setRollbackPreview(&page, batch) }
        if batch.state == .held, action == .approve || action == .cancel, let held = batch.progress.held, let feed = batch.feed {
            let leavers =
                held.reason == "leavers"
                ? try await store.feedLeaverPreview(feed: feed, files: batch.files.map(\.name), batch: batch.id, limit: 50) : nil
            page.setHeld(held, feed: feed, leavers: leavers)
        }
        return try await render(
            .confirm, title: action.title(batch), session: &session, status: status, crumbs: Self.crumbs(batch, action.button), model: page)
    }

    func refusal(_ action: ConfirmedAction, _ batch: Batch) async throws -> String? {
        action.refusal(batch)
    }

    /// The rollback preview (nothing changes): objects to delete, to restore, and those left alone,
    /// the first 200 of each listed; for a feed batch, how many keys get their memory back.
    func setRollbackPreview(_ page: inout BatchConfirmPage, _ batch: Batch) async throws {
        let preview = try await service.rollbackPreview(batch: batch.id.rawValue, limit: 200)
        func row(_ ref: ObjectRef, to: Int? = nil) async throws -> BatchConfirmPage.PreviewObject {
            let object = try await store.object(ref)
            return BatchConfirmPage.PreviewObject(
                ref: ref.text, title: object?.title ?? "(deleted)", type: object?.type.map { schema.types[$0]?.name ?? $0 } ?? "",
                version: object?.version ?? 0, to: to)
        }
        var delete: [BatchConfirmPage.PreviewObject] = [], restore: [BatchConfirmPage.PreviewObject] = []
        var conflicts: [BatchConfirmPage.PreviewObject] = []
        for ref in preview.delete { delete.append(try await row(ref)) }
        for (ref, version) in preview.restore { restore.append(try await row(ref, to: version)) }
        for ref in preview.conflicts { conflicts.append(try await row(ref)) }
        page.setRollback(preview, isFeed: batch.feed != nil, delete: delete, restore: restore, conflicts: conflicts)
    }

    /// A finished dry run of the same control file and the same files (names and digests, in order).
    func matchingDryRun(of batch: Batch) async throws -> Batch? {
        let files = batch.files.map { "\($0.name)\u{0}\($0.digest.hex)" }
        return try await store.batches(control: batch.control, limit: 200).first { other in
            other.state == .dryRun && other.files.map { "\($0.name)\u{0}\($0.digest.hex)" } == files
        }
    }

    func confirm(_ action: ConfirmedAction, context: IntakeRequestContext, form: SubmittedForm, session: inout AdminSession) async throws
        -> Response
    {
        guard let batch = try await batch(context) else { return batchNotFound(context, session) }
        let back = AdminPath.batch(batch.id)
        if let refusal = try await refusal(action, batch) { return notPossible(refusal, back: back, session: session) }
        let by = "admin \(session.account)"
        do {
            switch action {
            case .dryRun, .importData:
                try await service.scheduleReady(batch: batch.id, dryRun: action == .dryRun, by: by)
                try await audit("scheduled from the admin UI", batch: batch.id, detail: "\(action == .dryRun ? "dry run" : "import") by \(by)")
                return try await redirect(back, flash: action == .dryRun ? "Dry run scheduled." : "Import scheduled.", session: &session)
            case .copy:
                let copy = try await service.copy(batch: batch.id.rawValue, as: .ready)
                try await audit("copied from the admin UI", batch: copy, detail: "from \(batch.id.rawValue) by \(by)")
                return try await redirect(AdminPath.batch(copy), flash: "Batch copied.", session: &session)
            case .cancel:
                try await service.cancelActive(batch: batch.id)
                try await audit("cancelled from the admin UI", batch: batch.id, detail: by)
                return try await redirect(back, flash: batch.state == .held ? "Batch cancelled." : "Cancel requested.", session: &session)
            case .retry:
                let retry: BatchID
                do {
                    retry = try await service.retry(batch: batch.id.rawValue, as: .ready)
                } catch let error as any UserFacingError where error.kind == .invalidRequest {
                    // Nothing failed, a snapshot feed's night, a spreadsheet: the page says why.
                    return notPossible(error.userMessage, back: back, session: session)
                }
                try await audit("retry of failed records from the admin UI", batch: retry, detail: "of \(batch.id.rawValue) by \(by)")
                return try await redirect(
                    AdminPath.batch(retry), flash: "Batch of the failed records created: replace any file with a fixed one, then run it.",
                    session: &session)
            case .approve:
                try await service.approve(batch: batch.id.rawValue, by: by)
                try await audit("approved from the admin UI", batch: batch.id, detail: by)
                return try await redirect(back, flash: "Batch approved: the run goes on.", session: &session)
            case .rollback:
                guard form.fields["understood"] != nil else {
                    return try await renderConfirm(action, batch: batch, error: "Required field", status: .badRequest, session: &session)
                }
                // The store writes who rolled it back into the batch's log and the audit trail.
                do {
                    try await service.rollback(batch: batch.id.rawValue, by: by)
                } catch BatchError.rollbackConflicts(let refs) {
                    // The API's rule: everything else was rolled back; these objects changed since.
                    return try await redirect(
                        back,
                        flash: "Batch rolled back, except \(refs.count) objects that later changes touched: "
                            + refs.map(\.text).joined(separator: ", "), session: &session)
                }
                return try await redirect(back, flash: "Batch rolled back.", session: &session)
            }
        } catch let error as BatchError where error.kind == .conflict || error == .notComplete(batch.id) || error == .notUploading(batch.id) {
            // Another tab or another admin got there first.
            return notPossible(error.userMessage, back: back, session: session)
        } catch let error as BatchError {
            if case .purged = error { return notPossible(error.userMessage, back: back, session: session) }
            throw error
        }
    }
}
