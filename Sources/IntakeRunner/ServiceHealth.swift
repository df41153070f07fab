import Foundation
import IntakeStore
import Synchronization

/// What `GET /ready` reports beyond a reachable database: whether the store recently refused work
/// because another process held its lock, and whether the worker keeps failing to reach the queue.
/// A load balancer or an operator's check then sees trouble that `/health` (liveness) does not.
package final class ServiceHealth: Sendable {
    private struct State {
        var lastUnavailable: Date?
        var unavailableReason = ""
        var workerFailures = 0
        var workerError: String?
    }

    private let state = Mutex(State())
    /// How long a refusal keeps the service "not ready".
    package let memory: TimeInterval

    package init(memory: TimeInterval = 30) { self.memory = memory }

    package func recordStoreUnavailable(at now: Date, reason: String = StoreUnavailable.locked.reason) {
        state.withLock { state in
            state.lastUnavailable = now
            state.unavailableReason = reason
        }
    }

    package func recordWorker(failure: (any Error)?) {
        state.withLock { state in
            if let failure {
                state.workerFailures += 1
                state.workerError = "\(failure)"
            } else {
                state.workerFailures = 0
                state.workerError = nil
            }
        }
    }

    /// nil when ready, else why not, in words.
    package func problem(now: Date) -> String? {
        state.withLock { state in
            if let last = state.lastUnavailable, now.timeIntervalSince(last) < memory {
                let ago = Int(now.timeIntervalSince(last))
                return state.unavailableReason == StoreUnavailable.locked.reason
                    ? "the database was locked by another process \(ago) s ago"
                    : "the database could not be used \(ago) s ago (\(state.unavailableReason))"
            }
            if state.workerFailures >= 3 {
                return "the import worker cannot reach the job queue (\(state.workerFailures) failures in a row)"
            }
            return nil
        }
    }
}
