import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import IntakeApp
import IntakeCore
import IntakeRunner
import IntakeStore
import IntakeWebhooks
import Logging
import NIOCore
import Synchronization

/// Server settings, read once at start-up.
package struct ServerConfiguration: Sendable {
    package var host: String
    package var port: Int
    package var maxUploadBytes: Int64
    /// A connection must deliver a request's complete headers this soon after it opens, or after the
    /// first byte of the request arrives; otherwise it is closed (half-sent requests hold descriptors).
    package var headerTimeout: Duration
    /// A connection with no progress this long (no body bytes arriving, or idle between requests) is
    /// closed. A slow handler is not cut off: only the client's silence counts.
    package var idleTimeout: Duration
    /// Connections beyond this many wait in the listen backlog until others close.
    package var maxConnections: Int
    /// Whether `GET /metrics` needs an API key with the `read` scope (it is open by default, as
    /// scrapers expect; it shows counts, never records).
    package var metricsRequireKey: Bool
    /// Failed authentications one address may make in a minute before it gets 429 for the rest of it.
    package var failedAuthenticationLimit: Int
    /// Whether clients reach the server over HTTPS through a proxy: the admin session cookie is then
    /// `Secure` (and named `__Host-…`).
    package var behindTLS: Bool
    /// Batches this process runs at once. Each worker claims batches from the shared queue on its own;
    /// with SQLite they share one write lock, so more than one pays off only with PostgreSQL.
    package var workers: Int
    /// The address people and scripts reach this server at (`https://intake.example.ac.uk`), for the
    /// links in webhook deliveries; by default the address it listens on.
    package var publicURL: String?
    /// When webhook deliveries are tried again, and how long an answer may take.
    package var webhookPolicy: DeliveryPolicy
    /// How often the webhook sender looks for due deliveries; nil runs no sender (tests that do not
    /// test webhooks: a process of parallel tests runs dozens of servers).
    package var webhookPollInterval: Duration?

    package init(
        host: String = "127.0.0.1", port: Int = 8080, maxUploadBytes: Int64 = 4 << 30,
        headerTimeout: Duration = .seconds(30), idleTimeout: Duration = .seconds(60), maxConnections: Int = 512,
        metricsRequireKey: Bool = false, failedAuthenticationLimit: Int = 30, behindTLS: Bool = false, workers: Int = 1,
        publicURL: String? = nil, webhookPolicy: DeliveryPolicy = .standard, webhookPollInterval: Duration? = .seconds(1)
    ) {
        self.publicURL = publicURL
        self.webhookPolicy = webhookPolicy
        self.webhookPollInterval = webhookPollInterval
        self.behindTLS = behindTLS
        self.workers = max(0, workers)
        self.host = host
        self.port = port
        self.maxUploadBytes = maxUploadBytes
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.metricsRequireKey = metricsRequireKey
        self.failedAuthenticationLimit = failedAuthenticationLimit
    }
}

/// Builds the HTTP application with its worker; `intake serve` and the tests call this same function.
package func buildApplication(
    configuration: ServerConfiguration,
    environment: ImportEnvironment,
    logger: Logger,
    additionalRoutes: (Router<IntakeRequestContext>) -> Void = { _ in },
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let router = buildRouter(configuration: configuration, environment: environment, logger: logger)
    let boundPort = BoundPort(configuration.port)
    // The admin UI lives in its own module above this one, which adds its routes here.
    additionalRoutes(router)
    var app = Application(
        router: router,
        server: HTTPServerBuilder { responder in
            HeaderTimeoutHTTP1Channel(
                responder: responder,
                configuration: .init(
                    additionalChannelHandlers: [ExpectContinueHandler()],
                    idleTimeout: TimeAmount(configuration.idleTimeout)),
                headerTimeout: TimeAmount(configuration.headerTimeout))
        },
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port), serverName: "Intake",
            availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections)),
        onServerRunning: { channel in
            boundPort.set(channel.localAddress?.port ?? configuration.port)
            await onServerRunning(channel.localAddress?.port ?? configuration.port)
        },
        logger: logger)
    for _ in 0..<configuration.workers { app.addServices(BatchWorker(environment: environment, logger: logger)) }
    if let interval = configuration.webhookPollInterval {
        app.addServices(webhookSender(configuration: configuration, environment: environment, logger: logger, boundPort: boundPort, interval: interval))
    }
    return app
}

/// The port the server listens on, known once it runs (tests ask for any free port).
private final class BoundPort: Sendable {
    private let port: Atomic<Int>
    init(_ port: Int) { self.port = Atomic(port) }
    func set(_ value: Int) { port.store(value, ordering: .relaxed) }
    var value: Int { port.load(ordering: .relaxed) }
}

/// The sender of webhook deliveries, with the bodies it sends (made from the batch when a delivery is
/// first attempted).
private func webhookSender(
    configuration: ServerConfiguration, environment: ImportEnvironment, logger: Logger, boundPort: BoundPort, interval: Duration
) -> WebhookSender {
    let store = environment.store
    let publicURL = configuration.publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
    let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
    return WebhookSender(
        store: store, policy: configuration.webhookPolicy, pollInterval: interval, logger: logger,
        now: environment.now
    ) { delivery in
        guard let batch = try await store.batch(delivery.batch) else { throw StoreError.batchNotFound(delivery.batch) }
        let log = try await store.logLines(of: batch.id, skipping: 0, limit: WebhookJSON.logLinesSearched)
        let base = publicURL ?? "http://\(host):\(boundPort.value)"
        return WebhookJSON.body(delivery, batch: batch, log: log, base: base)
    }
}

package func buildRouter(
    configuration: ServerConfiguration, environment: ImportEnvironment,
    logger: Logger = Logger(label: "intake")
) -> Router<IntakeRequestContext> {
    let router = Router(context: IntakeRequestContext.self)
    router.add(middleware: RequestObservationMiddleware(logger: logger, metrics: environment.metrics))
    router.add(middleware: ErrorReportingMiddleware(health: environment.health, now: environment.now))
    router.add(middleware: NULParameterMiddleware())
    let authenticator = Authenticator(
        store: environment.store, now: environment.now,
        limiter: FailedAuthenticationLimiter(limit: configuration.failedAuthenticationLimit), logger: logger)
    let forms = FormReader(blobs: environment.blobs, maxUploadBytes: configuration.maxUploadBytes)
    BatchAPIController(service: ImportService(environment: environment), authenticator: authenticator, forms: forms)
        .addRoutes(to: router)
    ReadAPIController(environment: environment, authenticator: authenticator).addRoutes(to: router)
    PushAPIController(service: ImportService(environment: environment), authenticator: authenticator, logger: logger)
        .addRoutes(to: router)
    // Both answer within three seconds whatever the database does (a fresh node's first connection,
    // on a busy machine, took over one): a load balancer's check must not hang
    // while the pool waits to reconnect to a restarting server.
    let ping: @Sendable () async throws -> Void = {
        let store = environment.store
        try await withDeadline(seconds: 3, reason: "the database did not answer within 3 s") { try await store.ping() }
    }
    router.addEndpoint(APIPath.health, method: .get) { _, _ -> Response in
        do {
            try await ping()
            return versioned(TextResponse.plain("OK"))
        } catch {
            return versioned(TextResponse.plain("Database unavailable", status: .serviceUnavailable))
        }
    }
    // Readiness: a reachable database that recently answered in time, and a worker that reaches the queue.
    let ready: @Sendable (Request, IntakeRequestContext) async throws -> Response = { _, _ in
        do {
            try await ping()
        } catch {
            return versioned(TextResponse.plain("Not ready: the database cannot be read", status: .serviceUnavailable))
        }
        if let problem = environment.health.problem(now: environment.now()) {
            return versioned(TextResponse.plain("Not ready: \(problem)", status: .serviceUnavailable))
        }
        return versioned(TextResponse.plain("READY"))
    }
    router.addEndpoint(APIPath.ready, method: .get, handler: ready)
    router.addEndpoint(APIPath.healthReady, method: .get, handler: ready)
    router.addEndpoint(APIPath.openAPI, method: .get) { _, _ -> Response in
        TextResponse.plain(OpenAPIDocument.json, contentType: "application/json; charset=utf-8")
    }
    router.addEndpoint(APIPath.metrics, method: .get) { request, context -> Response in
        if configuration.metricsRequireKey { _ = try await authenticator.authenticate(request, context: context, scope: .read) }
        let depth = (try? await environment.store.batchCount(state: .scheduled)) ?? 0
        return TextResponse.plain(environment.metrics.render(queueDepth: depth), contentType: "text/plain; version=0.0.4")
    }
    return router
}

/// Health answers say which version answers them (`Intake-Version`), for load balancers and upgrades.
func versioned(_ response: Response) -> Response {
    var response = response
    response.headers[HTTPField.Name("Intake-Version")!] = IntakeVersion.current
    return response
}

/// Observes every request once it is answered: an access-log line at `info` (method, path without
/// the query, status, duration, client address and the name of the key that authenticated it —
/// never the key) and the request counters and latency histogram of `GET /metrics`.
struct RequestObservationMiddleware: RouterMiddleware {
    typealias Context = IntakeRequestContext
    let logger: Logger
    let metrics: IntakeMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        var status = 500
        defer {
            let elapsed = ContinuousClock.now - started
            metrics.recordRequest(method: request.method.rawValue, status: status, duration: elapsed)
            let milliseconds = elapsed.inSeconds * 1000
            logger.info(
                "request",
                metadata: [
                    "http.method": "\(request.method.rawValue)", "http.path": "\(request.uri.path)",
                    "http.status": "\(status)", "http.duration_ms": "\(String(format: "%.1f", milliseconds))",
                    "client.address": "\(context.remoteAddress ?? "unknown")", "intake.key": "\(context.requester.name ?? "-")"
                ])
        }
        do {
            let response = try await next(request, context)
            status = response.status.code
            return response
        } catch let error as any HTTPResponseError {
            status = error.status.code
            throw error
        }
    }
}

/// Refuses query parameters with a NUL character (`%00`): stored, they would be cut short at the NUL;
/// echoed in a message, they would be raw. Form bodies get the same check in `FormReader`.
struct NULParameterMiddleware: RouterMiddleware {
    typealias Context = IntakeRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.query?.contains("%00") == true {
            for (name, value) in request.uri.formParameters where name.utf8.contains(0) || value.utf8.contains(0) {
                throw APIError.badRequest("Parameter \(String(name).escapingControlCharacters) contains a NUL character")
            }
        }
        return try await next(request, context)
    }
}
