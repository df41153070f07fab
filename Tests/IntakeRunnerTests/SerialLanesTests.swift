import Foundation
import IntakeStore
import Synchronization
import Testing

/// Push API calls go through `SerialLanes`: one piece of work at a time in a lane, in arrival
/// order; lanes side by side.
@Suite struct SerialLanesTests {
    final class Trace: Sendable {
        let state = Mutex((running: 0, most: 0, order: [Int]()))
        let holding = Mutex(false)
        func enter(_ n: Int) {
            state.withLock {
                $0.running += 1
                $0.most = max($0.most, $0.running)
                $0.order.append(n)
            }
        }
        func leave() { state.withLock { $0.running -= 1 } }
    }

    @Test func oneLaneRunsOneAtATimeInArrivalOrder() async throws {
        let lanes = SerialLanes()
        let trace = Trace()
        let (released, release) = AsyncStream<Void>.makeStream()
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The lane is taken; twenty calls then arrive one after the other, each once the one
            // before waits in the lane.
            group.addTask {
                try await lanes.run(in: "staff") {
                    trace.holding.withLock { $0 = true }
                    var iterator = released.makeAsyncIterator()
                    await iterator.next()
                }
            }
            while !trace.holding.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(1)) }
            for n in 0..<20 {
                group.addTask {
                    try await lanes.run(in: "staff") {
                        trace.enter(n)
                        try await Task.sleep(for: .milliseconds(2))
                        trace.leave()
                    }
                }
                while lanes.waiting(in: "staff") < n + 1 { try await Task.sleep(for: .milliseconds(1)) }
            }
            release.yield()
            try await group.waitForAll()
        }
        let (_, most, order) = trace.state.withLock { $0 }
        #expect(most == 1)
        #expect(order == Array(0..<20))
    }

    @Test func lanesRunSideBySide() async throws {
        let lanes = SerialLanes()
        let trace = Trace()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<4 {
                group.addTask {
                    try await lanes.run(in: "api-\(n)") {
                        trace.enter(n)
                        try await Task.sleep(for: .milliseconds(200))
                        trace.leave()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(trace.state.withLock { $0.most } > 1)
    }

    @Test func aFailureFreesTheLane() async throws {
        struct Failure: Error {}
        let lanes = SerialLanes()
        await #expect(throws: Failure.self) { try await lanes.run(in: "a") { throw Failure() } }
        #expect(try await lanes.run(in: "a") { 42 } == 42)
    }

    @Test func writeYieldIsWantedWhileAWriterIsIn() async throws {
        let yield = WriteYield()
        #expect(!yield.isWanted)
        let inside = try await yield.run { yield.isWanted }
        #expect(inside)
        #expect(!yield.isWanted)
        struct Failure: Error {}
        await #expect(throws: Failure.self) { try await yield.run { throw Failure() } }
        #expect(!yield.isWanted, "a writer that failed is out")
    }
}
