import Foundation
import IntakeCore

/// How this process takes part in the job queue: who it is, how long a claim on a running batch
/// lasts without a heartbeat, and when a batch counts as poisonous.
///
/// A batch in `running` belongs to one owner until its lease expires. The owner renews the lease while
/// it runs (every chunk commit, and a heartbeat between them) and every commit checks that the lease is
/// still its own, so a process that was paused past its lease, then wakes up, can write nothing more:
/// the batch's records are applied once even when two processes share one database.
package struct JobLease: Sendable {
    /// `host pid nonce`: unique for each store instance, readable in the database and the logs.
    package var owner: String
    /// How long a claim lasts without renewal.
    package var duration: TimeInterval
    /// A batch whose run crashed its process this many times in a row (the process said so in a
    /// crash report), each time without committing a single record, ends in `error` instead of
    /// running again: an input that makes a reader fail would otherwise bring every node down for
    /// ever.
    package var maxCrashes: Int
    /// A batch whose process stopped without letting go and without a crash report (killed from
    /// outside: SIGKILL, the out-of-memory killer, a lost machine) this many times in a row, each
    /// time without committing a record, ends in `error` too. Far more than `maxCrashes`: nodes are
    /// killed for reasons of their own, and only a batch that keeps being killed at the same record
    /// (an input that needs more memory than there is) should be given up.
    package var maxStops: Int

    package init(owner: String = JobLease.newOwner(), duration: TimeInterval = 30, maxCrashes: Int = 2, maxStops: Int = 10) {
        self.owner = owner
        self.duration = duration
        self.maxCrashes = maxCrashes
        self.maxStops = maxStops
    }

    /// The poison-batch guard's counts for one running batch: crashes its runs reported, and stops
    /// without a report, each in a row without progress.
    package struct Restarts: Sendable, Equatable {
        package var crashes: Int
        package var stops: Int
        package init(crashes: Int, stops: Int) {
            self.crashes = crashes
            self.stops = stops
        }
    }

    /// The counts after the batch is taken over from an owner that did not let go; `progressed`
    /// when a record was committed since the last claim. `giveUp` when the batch is to end in error.
    package func afterTakeover(_ counts: Restarts, progressed: Bool) -> (counts: Restarts, giveUp: Bool) {
        let next = progressed ? Restarts(crashes: 0, stops: 1) : Restarts(crashes: counts.crashes, stops: counts.stops + 1)
        return (next, next.stops >= maxStops)
    }

    /// The counts after a process reports that its run of the batch crashed it. `giveUp` when the
    /// batch is to end in error.
    package func afterCrashReport(_ counts: Restarts, progressed: Bool) -> (counts: Restarts, giveUp: Bool) {
        let next = Restarts(crashes: progressed ? 1 : counts.crashes + 1, stops: counts.stops)
        return (next, next.crashes >= maxCrashes)
    }

    /// The `EXCEPTION:` line of a batch given up by the poison-batch guard.
    package static func poisonLine(_ counts: Restarts, crashed: Bool, atRecord record: Int) -> String {
        if crashed {
            return
                "EXCEPTION: Error during import: the run of this batch ended the process \(counts.crashes) times in a row, each time before committing any record after record \(record), so it will not be run again (look for an input that makes a reader fail: an oversized or malformed file; the server log has the detail). File: undefined, line: undefined"
        }
        return
            "EXCEPTION: Error during import: the process running this batch was stopped from outside \(counts.stops) times in a row, each time before committing any record after record \(record), so it will not be run again (such as by the out-of-memory killer: look for an input that needs more memory than the server has). File: undefined, line: undefined"
    }

    package static func newOwner() -> String {
        "\(hostName) \(getpid()) \(UUID().uuidString.prefix(8).lowercased())"
    }

    package static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The log line of a batch taken over from an owner that did not let it go (its process died or
    /// hung), written when the run had committed something; the new owner resumes at `record`.
    package static func takeoverLine(from owner: String, by newOwner: String, atRecord record: Int, now: Date) -> String {
        "TAKEN OVER: \(Timestamp.string(now)) the run of \(owner) stopped without letting go; \(newOwner) resumes after record \(record)"
    }

    /// Whether `owner` names a process on this machine that no longer exists. Its lease need not be
    /// waited out: a restart after a crash resumes at once. (A process on another host, or one that
    /// still exists, is only taken over when its lease expires.)
    package static func isDeadLocalProcess(_ owner: String) -> Bool {
        let parts = owner.split(separator: " ")
        guard parts.count == 3, String(parts[0]) == hostName, let pid = Int32(parts[1]) else { return false }
        if pid == getpid() { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }
}

/// The batch is no longer this process's to run: its lease expired and another process took it over,
/// or it was finished meanwhile. Nothing of the failed write was kept.
package struct LeaseLost: Error, Sendable, CustomStringConvertible {
    package let batch: BatchID
    package init(batch: BatchID) { self.batch = batch }
    package var description: String { "the lease on batch \(batch.rawValue) was lost to another process" }
}
