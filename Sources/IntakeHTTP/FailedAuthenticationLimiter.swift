import Foundation
import Synchronization

/// Counts failed authentications per client address. Past `limit` failures within `window`, the
/// address gets 429 on every authenticated request until the window has passed, without its
/// credentials being checked: guessing keys stops being worth it, and the key table is not read at
/// an attacker's pace. Bounded memory: at most `maxAddresses` addresses are tracked.
final class FailedAuthenticationLimiter: Sendable {
    private struct Entry {
        var windowStart: Date
        var failures: Int
    }

    let limit: Int
    let window: TimeInterval
    let maxAddresses: Int
    private let entries = Mutex<[String: Entry]>([:])

    init(limit: Int = 30, window: TimeInterval = 60, maxAddresses: Int = 10_000) {
        self.limit = limit
        self.window = window
        self.maxAddresses = maxAddresses
    }

    /// Seconds until the address may try again, or nil when it may try now.
    func retryAfter(_ address: String, now: Date) -> Int? {
        entries.withLock { entries in
            guard let entry = entries[address] else { return nil }
            let elapsed = now.timeIntervalSince(entry.windowStart)
            guard elapsed < window else {
                entries[address] = nil
                return nil
            }
            return entry.failures >= limit ? max(1, Int((window - elapsed).rounded(.up))) : nil
        }
    }

    func recordFailure(_ address: String, now: Date) {
        entries.withLock { entries in
            if var entry = entries[address], now.timeIntervalSince(entry.windowStart) < window {
                entry.failures += 1
                entries[address] = entry
                return
            }
            if entries.count >= maxAddresses {
                entries = entries.filter { now.timeIntervalSince($0.value.windowStart) < window }
                if entries.count >= maxAddresses, let oldest = entries.min(by: { $0.value.windowStart < $1.value.windowStart }) {
                    entries[oldest.key] = nil
                }
            }
            entries[address] = Entry(windowStart: now, failures: 1)
        }
    }
}
