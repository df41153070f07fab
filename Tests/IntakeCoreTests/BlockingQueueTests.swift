import Foundation
import Testing

@testable import IntakeCore

/// The queue between a run's threads must not keep what it has handed over: a run that reads a
/// million records through it would otherwise hold them all.
struct BlockingQueueTests {
    final class Payload: Sendable {}

    @Test func takenElementsAreReleasedAtOnce() throws {
        let queue = BlockingQueue<Payload, Never>(capacity: 4)
        var released = 0
        for round in 0..<300 {
            weak var watched: Payload?
            do {
                let payload = Payload()
                watched = payload
                #expect(queue.put(payload))
                #expect(queue.put(Payload()))
            }
            do {
                #expect(queue.take() != nil)
                #expect(queue.take() != nil)
            }
            if watched == nil { released += 1 } else { Issue.record("element \(round) is still held by the queue") }
        }
        #expect(released == 300)
    }

    @Test func elementsComeOutInOrderAcrossCompactions() {
        let queue = BlockingQueue<Int, Never>(capacity: 8)
        var taken: [Int] = []
        var next = 0
        while taken.count < 1000 {
            while next < 1000 && next - taken.count < 5 {
                #expect(queue.put(next))
                next += 1
            }
            if let value = queue.take() { taken.append(value) }
        }
        #expect(taken == Array(0..<1000))
    }
}
