import Synchronization

/// Work in named lanes: one piece at a time in each lane, in the order it arrived; different lanes
/// run side by side. Push API calls to one API go through one lane, so that two updates to one
/// person never interleave. Waiting suspends, never blocks a thread.
package final class SerialLanes: Sendable {
    /// Lanes in use, with who waits in each, first come first.
    private let lanes = Mutex([String: [CheckedContinuation<Void, Never>]]())

    package init() {}

    package func run<T: Sendable>(in lane: String, _ body: () async throws -> T) async rethrows -> T {
        await enter(lane)
        defer { leave(lane) }
        return try await body()
    }

    /// How many wait in a lane behind the piece of work that runs there.
    package func waiting(in lane: String) -> Int { lanes.withLock { $0[lane]?.count ?? 0 } }

    private func enter(_ lane: String) async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let free = lanes.withLock { lanes in
                guard lanes[lane] != nil else {
                    lanes[lane] = []
                    return true
                }
                lanes[lane]!.append(waiter)
                return false
            }
            if free { waiter.resume() }
        }
    }

    private func leave(_ lane: String) {
        let next = lanes.withLock { lanes -> CheckedContinuation<Void, Never>? in
            guard var waiting = lanes[lane], !waiting.isEmpty else {
                lanes[lane] = nil
                return nil
            }
            let next = waiting.removeFirst()
            lanes[lane] = waiting
            return next
        }
        next?.resume()
    }
}

/// Writers that must not wait behind a long import (push API calls, docs/push-apis.md): while one
/// is in, import runs end each chunk's transaction after the record in hand, so that the store's
/// single writer turns to the waiting call within a record's time instead of a chunk's.
package final class WriteYield: Sendable {
    private let waiting = Mutex(0)

    package init() {}

    /// Runs `body` with the imports yielding to it.
    package func run<T: Sendable>(_ body: () async throws -> T) async rethrows -> T {
        waiting.withLock { $0 += 1 }
        defer { waiting.withLock { $0 -= 1 } }
        return try await body()
    }

    /// Whether a writer waits for the imports to step aside.
    package var isWanted: Bool { waiting.withLock { $0 > 0 } }
}
