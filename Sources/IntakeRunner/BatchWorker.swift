import Foundation
import IntakeStore
import Logging
import ServiceLifecycle
import Synchronization

/// The in-process worker: claims scheduled batches from the persistent queue and runs them, one at
/// a time, on a thread of its own. On shutdown the current batch stops after its current chunk and
/// stays `running`; the next start puts it back in the queue and it resumes.
package final class BatchWorker: Service, Sendable {
    private let environment: ImportEnvironment
    private let logger: Logger
    private let pollInterval: Duration
    private let stopping = Atomic<Bool>(false)

    package init(environment: ImportEnvironment, logger: Logger, pollInterval: Duration = .milliseconds(100)) {
        self.environment = environment
        self.logger = logger
        self.pollInterval = pollInterval
    }

    package func run() async throws {
        await withGracefulShutdownHandler {
            await loop()
        } onGracefulShutdown: {
            self.stopping.store(true, ordering: .relaxed)
        }
    }

    private func loop() async {
        var failures = 0
        while !stopping.load(ordering: .relaxed) && !Task.isCancelled {
            do {
                if let batch = try await environment.store.claimNextBatch(now: environment.now()) {
                    logger.info("batch started", metadata: ["intake.batch.id": "\(batch.id)", "intake.dry_run": "\(batch.dryRun)"])
                    let run = BatchRun(
                        environment: environment, batch: batch, logger: logger,
                        stopRequested: { self.stopping.load(ordering: .relaxed) })
                    if await run.runOnOwnThread() == .interrupted {
                        // Stopped for shutdown: let go, so the next start (or another process) resumes
                        // it at once, and the stop does not count as a crash.
                        try? await environment.store.releaseLease(batch.id)
                    }
                    failures = 0
                    environment.health.recordWorker(failure: nil)
                    continue
                }
                failures = 0
                environment.health.recordWorker(failure: nil)
            } catch {
                environment.health.recordWorker(failure: error)
                // A broken database fails every poll: log it with growing pauses (up to 30 s), not ten
                // times a second.
                failures += 1
                logger.error("worker could not claim a batch", metadata: ["error": "\(error)", "intake.failures": "\(failures)"])
                await pause(.milliseconds(min(30_000, 100 << min(failures, 9))))
            }
            await pause(pollInterval)
        }
    }

    /// Polling keeps the queue in the database the only source of truth, so batches scheduled by
    /// another process (or before a restart) are found the same way as local ones. A long pause
    /// (after failures: the database unreachable) ends early when the server is stopping, so SIGTERM
    /// does not wait out the back-off.
    private func pause(_ duration: Duration) async {
        var left = duration
        let slice = Duration.milliseconds(100)
        while left > .zero && !stopping.load(ordering: .relaxed) && !Task.isCancelled {
            try? await Task.sleep(for: min(slice, left))
            left -= slice
        }
    }
}

/// Hands a non-Sendable value to exactly one other thread.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
