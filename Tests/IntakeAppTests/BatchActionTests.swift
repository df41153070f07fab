import Foundation
import IntakeApp
import IntakeStore
import Testing

/// When each batch action is allowed: the rules the API and the admin UI both follow.
@Suite struct BatchActionTests {
    private func batch(_ state: BatchState, failed: Int = 0, purged: Date? = nil) -> Batch {
        var progress = RunProgress()
        progress.recordsFailed = failed
        return Batch(
            id: BatchID(rawValue: "b1"), state: state, comment: "", control: Digest(hex: String(repeating: "a", count: 64))!,
            dryRun: false, created: Date(timeIntervalSince1970: 0), files: [], progress: progress, purged: purged)
    }

    @Test func eachActionIsAllowedInItsStatesOnly() {
        let allowed: [BatchAction: Set<BatchState>] = [
            .scheduleReady: [.ready], .cancelActive: [.scheduled, .running, .held], .rollback: [.complete], .approve: [.held],
            .retry: [.complete, .dryRun, .error, .cancelled, .rolledBack], .copy: Set(BatchState.allCases)
        ]
        for action in BatchAction.allCases {
            for state in BatchState.allCases {
                let refusal = action.refusal(batch(state, failed: 1))
                #expect((refusal == nil) == allowed[action]!.contains(state), "\(action) in \(state): \(String(describing: refusal))")
            }
        }
    }

    @Test func refusalsSayWhatTheAPISays() {
        #expect(BatchAction.rollback.refusal(batch(.rolledBack))?.userMessage == "Batch b1 is not in the 'complete' state")
        #expect(BatchAction.retry.refusal(batch(.complete))?.userMessage == "Batch b1 has no failed records")
        #expect(BatchAction.retry.refusal(batch(.running, failed: 3))?.userMessage == "Batch b1 has not finished")
        let purged = Date(timeIntervalSince1970: 86_400)
        #expect(BatchAction.copy.refusal(batch(.complete, purged: purged)) == .purged(BatchID(rawValue: "b1"), purged))
        #expect(BatchAction.retry.refusal(batch(.complete, failed: 2, purged: purged)) == .purged(BatchID(rawValue: "b1"), purged))
    }
}
