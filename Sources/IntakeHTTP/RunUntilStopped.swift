import Foundation
import Logging
import ServiceLifecycle

/// Runs the server's services until SIGTERM or SIGINT, and makes sure the process then ends. A
/// graceful stop lets a run finish its chunk and requests their answers; past
/// `gracefulSeconds` the services are cancelled, and if even that does not end them within
/// `cancellationSeconds` (a wait that ignores cancellation: a database pool that will not let go)
/// the process exits. Chunks are atomic, so a run cut short is resumed after its last commit; a
/// node that cannot be stopped would keep its batch's lease and be killed with SIGKILL anyway.
package func runUntilStopped(
    _ service: some Service, logger: Logger, gracefulSeconds: Int = 30, cancellationSeconds: Int = 15
) async throws {
    var configuration = ServiceGroupConfiguration(
        services: [
            .init(service: service),
            // It returns once it has started its clock; that must not end the group.
            .init(service: ShutdownWatchdog(after: .seconds(gracefulSeconds + cancellationSeconds), logger: logger), successTerminationBehavior: .ignore)
        ],
        gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    configuration.maximumGracefulShutdownDuration = .seconds(gracefulSeconds)
    try await ServiceGroup(configuration: configuration).run()
}

/// Waits for the graceful shutdown, then gives the other services `after` to end before it exits
/// the process from a thread of its own (the cooperative pool may be the thing that is stuck).
private struct ShutdownWatchdog: Service {
    let after: Duration
    let logger: Logger

    init(after: Duration, logger: Logger) {
        self.after = after
        self.logger = logger
    }

    func run() async throws {
        try? await gracefulShutdown()
        let (seconds, logger) = (after.components.seconds, logger)
        let thread = Thread {
            Thread.sleep(forTimeInterval: TimeInterval(seconds))
            logger.error("the server did not stop within \(seconds) s of being asked to; exiting")
            exit(0)
        }
        thread.name = "intake-shutdown-watchdog"
        thread.start()
    }
}
