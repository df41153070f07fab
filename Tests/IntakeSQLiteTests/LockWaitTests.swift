import Testing

@testable import IntakeSQLite

/// A connection waiting for another process's write lock tries often enough to find the gaps a run
/// leaves between its transactions (`WriterGaps`, 40 ms), for as long as its timeout.
///
/// (A timed test — a writer with 25 ms gaps, another finding the first — separated the two busy
/// handlers when run alone, 0.4 s against 2.5 s, but beside the whole suite on two cores threads
/// were not scheduled for seconds and it failed either way; `SharedDataDirectoryTests` covers the
/// behaviour between real processes.)
@Suite struct LockWaitTests {
    @Test func triesAtLeastEveryFiveMillisecondsForTheWholeTimeout() {
        let tries = LockWait.tries(within: 10)
        let delays = (0..<tries).map(LockWait.delayMilliseconds(try:))
        // At most an eighth of a run's 40 ms gap between tries (SQLite's own waits up to 100 ms).
        #expect(delays.allSatisfy { $0 >= 1 && $0 <= 5 })
        let waited = delays.reduce(0, +)
        #expect(waited >= 10_000 && waited < 10_005)
        #expect(delays.prefix(4) == [1, 2, 3, 4])
    }
}
