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
                    CrashReport.running(batch.id, 1)
                    let outcome = await run.runOnOwnThread()
                    CrashReport.running(batch.id, -1)
                    switch outcome {
                    case .interrupted:
                        // Stopped for shutdown: let go, so the next start (or another process) resumes
                        // it at once, and the stop does not count as a crash.
                        try? await environment.store.releaseLease(batch.id)
                    case .storeUnavailable(let reason):
                        environment.health.recordStoreUnavailable(at: environment.now(), reason: reason)
                        await letGoOnceTheStoreAnswers(batch.id)
                        continue
                    default:
                        break
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

    /// After a run stopped because the database could not be used: lets go of the batch as soon as
    /// the database takes a write again (a restarted server, a disk with room), so that this process
    /// claims it at once and resumes it after its last committed chunk, without counting a crash.
    /// Meanwhile the lease is not renewed: if this process goes away, another one takes over when it
    /// runs out.
    private func letGoOnceTheStoreAnswers(_ id: BatchID) async {
        var attempts = 0
        while !stopping.load(ordering: .relaxed) && !Task.isCancelled {
            await pause(.milliseconds(min(30_000, 500 << min(attempts, 6))))
            attempts += 1
            do {
                try await environment.store.releaseLease(id)
                logger.info("the database answers again; the batch resumes", metadata: ["intake.batch.id": "\(id)"])
                return
            } catch {
                environment.health.recordStoreUnavailable(at: environment.now(), reason: (error as? StoreUnavailable)?.reason ?? "\(error)")
                if attempts == 1 || attempts % 10 == 0 {
                    logger.warning(
                        "batch waits for the database", metadata: ["intake.batch.id": "\(id)", "error": "\(error)", "intake.attempts": "\(attempts)"])
                }
            }
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
