import Foundation
import Synchronization

/// A flag one thread sets and another reads.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}

/// Whether a run is moving, for its heartbeat: the run ticks at every chunk. Until the
/// well-formedness check has passed the run may wait on it for a long time (a big file), and the
/// check's reading counts as movement; after it, a run that has not ticked for `stallSeconds` is
/// stuck somewhere, and its lease is left to run out so that another process can take the batch.
final class RunLiveness: Sendable {
    private let lastTick = Atomic<Int64>(RunLiveness.uptimeSeconds())
    private let checked = Flag()

    func tick() { lastTick.store(Self.uptimeSeconds(), ordering: .relaxed) }
    func checkPassed() {
        tick()
        checked.set()
    }

    func isStalled(after stallSeconds: Int64) -> Bool {
        checked.isSet && Self.uptimeSeconds() - lastTick.load(ordering: .relaxed) > stallSeconds
    }

    private static func uptimeSeconds() -> Int64 { Int64(DispatchTime.now().uptimeNanoseconds / 1_000_000_000) }
}

/// Raises the calling thread's nice value by 5. On Linux nice is per thread and inherited by the
/// threads it creates.
func lowerThreadPriority() {
    #if os(Linux)
        // `who` 0 is the calling task, which on Linux is this thread, not the whole process.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 5)
    #endif
}

/// Runs async work from synchronous code on a runner thread.
func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let result = Mutex<Result<T, any Error>?>(nil)
    let semaphore = DispatchSemaphore(value: 0)
    Task {
        let r: Result<T, any Error>
        do { r = .success(try await body()) } catch { r = .failure(error) }
        result.withLock { $0 = r }
        semaphore.signal()
    }
    semaphore.wait()
    return try result.withLock { $0! }.get()
}
