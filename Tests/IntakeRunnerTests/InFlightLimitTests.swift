import IntakeStore
import Synchronization
import Testing

/// The bound that both kinds of upload (to a file, to PostgreSQL) put on blocks in flight.
@Suite struct InFlightLimitTests {
    @Test func capacityWaitsForRoomAndDrainedForTheEnd() async throws {
        let limit = InFlightLimit(limit: 2)
        await limit.drained()  // nothing submitted: returns at once
        limit.started()
        await limit.capacity()  // one of two: room
        limit.started()
        let events = Mutex<[String]>([])
        let waiting = Task {
            await limit.capacity()
            events.withLock { $0.append("room") }
            await limit.drained()
            events.withLock { $0.append("drained") }
        }
        try await Task.sleep(for: .milliseconds(100))
        #expect(events.withLock { $0 }.isEmpty, "capacity returned with two of two in flight")
        limit.finished()
        try await Task.sleep(for: .milliseconds(100))
        #expect(events.withLock { $0 } == ["room"])
        limit.finished()
        await waiting.value
        #expect(events.withLock { $0 } == ["room", "drained"])
    }
}
