import Foundation
import Synchronization

/// Room for other processes between a run's commits. Processes sharing a data directory get the
/// write lock only in the gaps between another's transactions, and SQLite's lock is not fair: a
/// waiting process polls (at most every 100 ms), while a run commits chunk after chunk and takes the
/// lock again within microseconds. The checkpoints that used to run inside commits left a gap of
/// their length every 32 MiB of log, by accident; since they run beside the writer
/// (`WALCheckpointer`), a run makes that gap on purpose: a short pause every few seconds of writing
/// (about 2% of a long run's time), so another process's write waits seconds, not for the whole run.
package final class WriterGaps: Sendable {
    private let lastGap = Mutex(ContinuousClock.now)
    private let every: Duration
    private let seconds: TimeInterval

    package init(every: Duration = .seconds(2), seconds: TimeInterval = 0.04) {
        (self.every, self.seconds) = (every, seconds)
    }

    /// Called before a run's write transaction, on the run's own thread (never the cooperative pool).
    func pauseIfDue() {
        let now = ContinuousClock.now
        let due = lastGap.withLock { last -> Bool in
            guard now - last >= every else { return false }
            last = now
            return true
        }
        if due { Thread.sleep(forTimeInterval: seconds) }
    }
}
