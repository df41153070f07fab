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
    /// A batch whose run ended the process this many times in a row, each time without committing a
    /// single record, ends in `error` instead of running again.
    package var maxCrashes: Int

    package init(owner: String = JobLease.newOwner(), duration: TimeInterval = 30, maxCrashes: Int = 2) {
        self.owner = owner
        self.duration = duration
        self.maxCrashes = maxCrashes
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
