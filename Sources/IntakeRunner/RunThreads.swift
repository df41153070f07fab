import Foundation
import Synchronization

/// A flag one thread sets and another reads.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
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
