import Foundation
import Testing

@testable import IntakeRunner

/// The heartbeat stops renewing the lease of a run that no longer moves, but not while the
/// well-formedness check (which may take long on a big file) has yet to pass.
@Suite struct RunLivenessTests {
    @Test func aRunIsStalledOnlyAfterTheCheckPassedAndNoTickSince() throws {
        let liveness = RunLiveness()
        Thread.sleep(forTimeInterval: 1.2)
        #expect(!liveness.isStalled(after: 0), "stalled while the check had not passed")
        liveness.checkPassed()
        #expect(!liveness.isStalled(after: 0))
        Thread.sleep(forTimeInterval: 1.2)
        #expect(liveness.isStalled(after: 0))
        liveness.tick()
        #expect(!liveness.isStalled(after: 0))
        #expect(!liveness.isStalled(after: 600))
    }
}
