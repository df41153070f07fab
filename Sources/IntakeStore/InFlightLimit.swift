import Synchronization

/// A count of pieces of work submitted and not yet done, bounded for the submitter: an upload
/// hands its blocks to a writer (a file, a database) that may run behind, and must neither hold
/// more than a few in memory nor block a thread while it waits. `capacity()` returns once fewer
/// than `limit` are in flight, `drained()` once none is; both suspend, never block.
package final class InFlightLimit: Sendable {
    private struct State {
        var inFlight = 0
        var capacityWaiters: [CheckedContinuation<Void, Never>] = []
        var drainWaiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())
    package let limit: Int

    package init(limit: Int) { self.limit = limit }

    /// A piece of work was submitted.
    package func started() { state.withLock { $0.inFlight += 1 } }

    /// A piece of work is done (or was skipped): wakes whoever waits for room or for the end.
    package func finished() {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.inFlight -= 1
            var ready: [CheckedContinuation<Void, Never>] = []
            if state.inFlight < limit { ready += state.capacityWaiters; state.capacityWaiters = [] }
            if state.inFlight == 0 { ready += state.drainWaiters; state.drainWaiters = [] }
            return ready
        }
        for waiter in ready { waiter.resume() }
    }

    /// Returns once fewer than `limit` pieces are in flight.
    package func capacity() async {
        await wait {
            $0 < limit
        } park: {
            $0.capacityWaiters.append($1)
        }
    }

    /// Returns once every submitted piece is done.
    package func drained() async {
        await wait {
            $0 == 0
        } park: {
            $0.drainWaiters.append($1)
        }
    }

    private func wait(
        until isReady: (Int) -> Bool, park: (inout State, CheckedContinuation<Void, Never>) -> Void
    ) async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if isReady(state.inFlight) { return true }
                park(&state, continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }
}
