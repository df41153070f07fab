import Foundation
import Synchronization

/// Runs `body` and gives up on it after `seconds`, throwing `StoreUnavailable`: for answers that
/// must come quickly whatever the database does (`/health`, `/ready`), where a pool waiting to
/// reconnect to a restarting server would otherwise hold the request for a minute. The body is
/// cancelled at the deadline but not waited for.
package func withDeadline<T: Sendable>(
    seconds: Double, reason: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let race = DeadlineRace<T>()
    return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        race.waiting.withLock { $0 = continuation }
        let work = Task {
            let result: Result<T, any Error>
            do { result = .success(try await body()) } catch { result = .failure(error) }
            race.settle(with: result)
        }
        Task {
            try? await Task.sleep(for: .seconds(seconds))
            if race.settle(with: .failure(StoreUnavailable(reason: reason))) { work.cancel() }
        }
    }
}

/// Whichever of the work and the deadline comes first resumes the caller, once.
private final class DeadlineRace<T: Sendable>: Sendable {
    let waiting = Mutex<CheckedContinuation<T, any Error>?>(nil)

    /// Resumes the caller unless it was resumed already; whether this call did.
    @discardableResult
    func settle(with result: Result<T, any Error>) -> Bool {
        guard let continuation = waiting.withLock({ $0.take() }) else { return false }
        continuation.resume(with: result)
        return true
    }
}
