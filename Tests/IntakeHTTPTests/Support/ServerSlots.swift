import Foundation
import Synchronization

/// How many test servers may be alive at once in the PostgreSQL pass.
///
/// Every server has its own connection pool and import connections (about ten connections at its
/// busiest), and the test runner starts every test at once: the fifty-one conformance cases alone
/// took the throw-away server to its `max_connections` (then 400, all in use, and requests answered 503
/// "no PostgreSQL connection could be had"). The real server is right to answer 503 there; the tests
/// are wrong to ask for that many. A server waits for a slot before it starts and gives it back when
/// it stops (or is freed; a stopped server's idle connections close when it is freed, which the
/// tests do at once, or inspect its store first). A test that holds one server while it starts another could wait for a
/// slot that its own kind holds, so a wait longer than `longestWait` goes ahead without a slot.
final class ServerSlots: Sendable {
    private struct State {
        var free: Int
        var waiting: [(id: UUID, continuation: CheckedContinuation<Bool, Never>)] = []
    }
    private let state: Mutex<State>
    let longestWait: Duration

    init(count: Int, longestWait: Duration = .seconds(120)) {
        state = Mutex(State(free: count))
        self.longestWait = longestWait
    }

    /// Waits for a slot; answers whether one was taken (false: the wait was too long).
    func take() async -> Bool {
        let id = UUID()
        let timeout = Task { [longestWait] in
            try await Task.sleep(for: longestWait)
            self.giveUpWaiting(id)
        }
        defer { timeout.cancel() }
        return await withCheckedContinuation { continuation in
            let granted = state.withLock { state -> Bool in
                if state.free > 0 {
                    state.free -= 1
                    return true
                }
                state.waiting.append((id, continuation))
                return false
            }
            if granted { continuation.resume(returning: true) }
        }
    }

    private func giveUpWaiting(_ id: UUID) {
        print("ServerSlots: no slot after \(longestWait), going ahead without one")
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard let index = state.waiting.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiting.remove(at: index).continuation
        }
        waiter?.resume(returning: false)
    }

    func giveBack() {
        let next = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            if state.waiting.isEmpty {
                state.free += 1
                return nil
            }
            return state.waiting.removeFirst().continuation
        }
        next?.resume(returning: true)
    }
}

/// A slot held by one server, given back once.
final class HeldSlot: Sendable {
    private let slots: ServerSlots?
    private let held = Atomic<Bool>(true)

    init(_ slots: ServerSlots?) { self.slots = slots }

    func giveBack() {
        if held.exchange(false, ordering: .acquiringAndReleasing) { slots?.giveBack() }
    }

    deinit { giveBack() }
}
