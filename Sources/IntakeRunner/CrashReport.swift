import Foundation
import IntakeStore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What a server process that brings itself down leaves behind: the batches it was running,
/// appended to `crashed-batches` in its data directory by a handler of the signals a process gets
/// for its own faults (a Swift runtime trap, a bad memory access, an abort). The next start reads
/// the file and tells the store (`JobQueue.reportCrash`), which ends a batch that crashes its
/// process again and again in `error`. A process killed from outside (SIGKILL, the out-of-memory
/// killer, a lost machine) writes nothing, so its batches are resumed without counting a crash.
///
/// A signal handler can take no context and may only call async-signal-safe functions: the file
/// descriptor and the text it writes live in process-wide storage prepared in advance, and the
/// text is swapped in whole (two slots and an atomic index), never edited where the handler reads.
/// This is the one process-wide mutable state of the server, and only this type touches it.
package enum CrashReport {
    static let fileName = "crashed-batches"
    static let slotSize = 8192
    private static let signals: [Int32] = [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGABRT]

    private final class Storage: @unchecked Sendable {
        let slots = UnsafeMutablePointer<UInt8>.allocate(capacity: 2 * CrashReport.slotSize)
        let lengths = UnsafeMutablePointer<Int>.allocate(capacity: 2)
        let previous = UnsafeMutablePointer<sigaction>.allocate(capacity: 32)
        let active = Atomic<Int>(0)
        let descriptor = Atomic<Int32>(-1)
        let running = Mutex<[BatchID: Int]>([:])
        // The pointers are written only under `running` (and once in `install`); the handler reads
        // the slot `active` names, which a writer never touches.

        init() {
            lengths.initialize(repeating: 0, count: 2)
            previous.initialize(repeating: sigaction(), count: 32)
        }
    }

    private static let storage = Storage()

    /// Opens `DIRECTORY/crashed-batches` for the handler and installs it. Returns the batches that
    /// earlier processes on this directory reported; `clearReported` empties the file once the store
    /// has them.
    package static func install(dataDirectory: String) -> [BatchID] {
        let path = (dataDirectory as NSString).appendingPathComponent(fileName)
        let reported = (try? String(contentsOfFile: path, encoding: .utf8))?.split(separator: "\n").map { BatchID(rawValue: String($0)) } ?? []
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return Array(Set(reported)) }
        storage.descriptor.store(descriptor, ordering: .releasing)
        for signal in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in CrashReport.handle(signal) }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(signal, &action, storage.previous + Int(signal))
        }
        var seen = Set<BatchID>()
        return reported.filter { seen.insert($0).inserted }
    }

    /// Forgets the reports `install` returned (the store has recorded them).
    package static func clearReported() {
        let descriptor = storage.descriptor.load(ordering: .acquiring)
        if descriptor >= 0 { _ = ftruncate(descriptor, 0) }
    }

    /// A run of `id` starts (`change` +1) or ends (-1) in this process.
    package static func running(_ id: BatchID, _ change: Int) {
        storage.running.withLock { running in
            running[id, default: 0] += change
            if running[id] ?? 0 <= 0 { running[id] = nil }
            let text = Array(running.keys.map { $0.rawValue + "\n" }.joined().utf8.prefix(slotSize))
            let next = 1 - storage.active.load(ordering: .acquiring)
            text.withUnsafeBufferPointer { bytes in
                (storage.slots + next * slotSize).update(from: bytes.baseAddress!, count: bytes.count)
            }
            storage.lengths[next] = text.count
            storage.active.store(next, ordering: .releasing)
        }
    }

    /// Writes the running batches, then hands the signal to whoever handled it before (the
    /// runtime's backtracer, or the default action), raising it again: it is blocked while this
    /// runs, so it arrives there as soon as this returns (a fault would come back anyway when the
    /// instruction runs again; a signal sent with `kill` would not).
    private static func handle(_ signal: Int32) {
        let descriptor = storage.descriptor.load(ordering: .acquiring)
        let slot = storage.active.load(ordering: .acquiring)
        if descriptor >= 0, storage.lengths[slot] > 0 {
            _ = write(descriptor, storage.slots + slot * slotSize, storage.lengths[slot])
        }
        sigaction(signal, storage.previous + Int(signal), nil)
        raise(signal)
    }
}
