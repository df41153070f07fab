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

    /// What the consumer gives back is kept until the producer frees it, and then nothing holds it:
    /// the point is where the last release happens, and that nothing is kept for longer.
    @Test func givenBackElementsAreFreedByTheProducer() throws {
        let queue = BlockingQueue<Payload, Never>(capacity: 4)
        weak var watched: Payload?
        do {
            let payload = Payload()
            watched = payload
            #expect(queue.put(payload))
        }
        do {
            let taken = try #require(queue.take())
            queue.giveBack(taken)
        }
        #expect(watched != nil, "a given-back element is freed on the producer's side, not on the consumer's")
        queue.freeGivenBack()
        #expect(watched == nil, "freeGivenBack keeps nothing")
    }

    /// Giving spent batches back does not disturb the records' order through a `RecordPipe`.
    @Test func recordPipeKeepsItsOrderWhileSpentBatchesGoBack() throws {
        let pipe = RecordPipe()
        for line in 1...(RecordPipe.recordsPerBatch * 3) {
            #expect(pipe.put(SourceRecord(value: .string("record \(line)"), line: line)))
        }
        pipe.finish()
        var lines: [Int] = []
        while let record = try pipe.take() { lines.append(record.line) }
        #expect(lines == Array(1...(RecordPipe.recordsPerBatch * 3)))
    }
}
