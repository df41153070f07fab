import Foundation
import GRDB

/// How a connection waits for another process's write lock: it tries again every few milliseconds
/// until `timeout` has passed.
///
/// SQLite's own busy timeout sleeps longer and longer between tries, up to 100 ms, and its lock is
/// not fair: a process that commits chunk after chunk takes the lock again within microseconds, so
/// a waiter only gets it if one of its tries falls into a gap between two transactions. A run
/// leaves such a gap on purpose (`WriterGaps`, 40 ms). A try every 100 ms falls into a 40 ms gap
/// about two times in five, and `intake run` beside a busy server gave up after 10 s now and then
/// (SharedDataDirectoryTests, in CI). A try every 5 ms falls into each gap, as long as the waiting
/// thread gets the CPU in time.
enum LockWait {
    /// The busy mode for `Configuration.busyMode`. The time is counted from the sleeps between the
    /// tries, so a wait is never shorter than `timeout` (on a loaded machine it may be longer).
    static func busyMode(timeout: TimeInterval) -> Database.BusyMode {
        let limit = tries(within: timeout)
        return .callback { numberOfTries in
            guard numberOfTries < limit else { return false }
            usleep(useconds_t(delayMilliseconds(try: numberOfTries) * 1000))
            return true
        }
    }

    /// 1, 2, 3 and 4 ms for the first tries (a short wait stays short), then 5 ms.
    static func delayMilliseconds(try number: Int) -> Int { min(number + 1, 5) }

    /// How many tries fit into `timeout`.
    static func tries(within timeout: TimeInterval) -> Int {
        var (tries, waited) = (0, 0)
        let limit = Int(timeout * 1000)
        while waited < limit {
            waited += delayMilliseconds(try: tries)
            tries += 1
        }
        return tries
    }
}
