import Foundation
import Synchronization

/// What `GET /ready` reports beyond a reachable database: whether the store recently refused work
/// because another process held its lock, and whether the worker keeps failing to reach the queue.
/// A load balancer or an operator's check then sees trouble that `/health` (liveness) does not.
package final class ServiceHealth: Sendable {
    private struct State {
        var lastUnavailable: Date?
        var workerFailures = 0
        var workerError: String?
    }

    private let state = Mutex(State())
    /// How long a refusal keeps the service "not ready".
    package let memory: TimeInterval

    package init(memory: TimeInterval = 30) { self.memory = memory }

    package func recordStoreUnavailable(at now: Date) {
        state.withLock { $0.lastUnavailable = now }
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
                return "the database was locked by another process \(Int(now.timeIntervalSince(last))) s ago"
            }
            if state.workerFailures >= 3 {
                return "the import worker cannot reach the job queue (\(state.workerFailures) failures in a row)"
            }
            return nil
        }
    }
}
