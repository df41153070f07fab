import ArgumentParser
import Crypto
import Foundation
import Hummingbird
import IntakeAdmin
import IntakeApp
import IntakeHTTP
import IntakePostgres
import IntakeRunner
import IntakeStore
import Logging
import NIOCore

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the HTTP server and the import worker.",
        discussion: """
            Every option can also come from the environment (INTAKE_ and the option's name in capitals, \
            dashes as underscores: INTAKE_PORT, INTAKE_MAX_UPLOAD_BYTES, INTAKE_DATA) or from a file \
            named by INTAKE_CONFIG, with lines such as `port = 9000`. The command line wins over the \
            environment, which wins over the file. The defaults shown below include what the \
            environment and the file set.

            Example:
              INTAKE_DATA=/var/lib/intake INTAKE_LOG_FORMAT=json \\
                  intake serve --host 0.0.0.0
            """)

    @OptionGroup var data: DataOptions

    @Option(help: "The address to listen on.")
    var host = Settings.string("host", default: "127.0.0.1")

    @Option(help: "The port to listen on (0 picks a free one).")
    var port = Settings.int("port", default: 8080)

    @Option(help: "The largest accepted request body, in bytes.")
    var maxUploadBytes: Int64 = Settings.int("max-upload-bytes", default: 4 << 30)

    @Option(help: "Seconds a client has to send a request's headers, from the connection's start or the request's first byte.")
    var headerTimeout = Settings.int("header-timeout", default: 30)

    @Option(help: "Seconds without progress (no body bytes, or idle between requests) before a connection is closed.")
    var idleTimeout = Settings.int("idle-timeout", default: 60)

    @Option(help: "Connections served at once; more wait in the listen backlog.")
    var maxConnections = Settings.int("max-connections", default: 512)

    @Flag(help: "Require an API key with the read scope for GET /metrics (open by default).")
    var metricsAuth = Settings.bool("metrics-auth", default: false)

    @Option(help: "A batch whose run ends the process this many times in a row without committing a record ends in error instead of running again (0: never).")
    var maxCrashes = Settings.int("max-crashes", default: 2)

    @Option(help: "Failed authentications one client address may make per minute; after that it gets 429 until the minute is over.")
    var failedAuthLimit = Settings.int("failed-auth-limit", default: 30)

    @Option(help: "Batches this node runs at once (more than 1 pays off with --database; SQLite has one writer).")
    var workers = Settings.int("workers", default: 1)

    @Flag(
        help:
            "Clients reach this server over HTTPS through a proxy: the admin UI's session cookie is then Secure (and named __Host-intake_session)."
    )
    var behindTLS = Settings.bool("behind-tls", default: false)

    @Option(
        name: .customLong("public-url"),
        help:
            "The address people and scripts reach this server at (such as https://intake.example.ac.uk), for the links in webhook deliveries; by default the address it listens on."
    )
    var publicURLOption: String?

    /// `--public-url`, else the setting.
    var publicURL: String? { publicURLOption ?? Settings.value("public-url")?.value }

    /// For tests: how soon a failed webhook delivery is tried again, and how long an answer may take.
    @Option(help: .hidden) var webhookFirstRetry: Double = DeliveryPolicy.standard.firstRetry
    @Option(help: .hidden) var webhookTimeout: Double = DeliveryPolicy.standard.timeout

    @Flag(
        help: "Print the first start's admin password and API key even when stdout is not a terminal (by default they go to a file readable only by this user)."
    )
    var printInitialCredentials = false

    @Option(help: "The lowest level logged: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = Settings.choice("log-level", default: .info)

    @Option(help: "text, or json (one object per line, for log collectors).")
    var logFormat: Logging.Format = Settings.choice("log-format", default: .text)

    /// Warns when this node's connections may not fit in what the server allows: a pool larger than
    /// `max_connections` made batches fail with an unreadable error. (They now wait and resume when
    /// the server refuses a connection, and requests are answered 503, but a pool that never fits
    /// is a configuration to fix.)
    static func checkConnectionLimits(_ database: PostgresDatabase, poolSize: Int, workers: Int, logger: Logger) async throws {
        let (allowed, open) = try await database.connectionLimits()
        let wanted = PostgresDatabase.connectionsAtMost(poolSize: poolSize, workers: workers)
        if wanted > allowed - open {
            logger.warning(
                "this node may open more PostgreSQL connections than the server has left: lower --pool-size or --workers, or raise max_connections (requests are answered 503 and runs wait while it is short)",
                metadata: [
                    "intake.connections.wanted": "\(wanted)", "intake.connections.allowed": "\(allowed)", "intake.connections.open": "\(open)"
                ])
        }
    }

    /// Installs the crash report's signal handler, and tells the store which batches crashed this
    /// directory's previous server, if any (see `CrashReport`): those count towards the
    /// poison-batch guard; a process killed from outside left no report and counts only as a stop.
    static func reportCrashes(dataDirectory: String, store: any BatchStore, logger: Logger) async throws {
        try FileManager().createDirectory(atPath: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let crashed = CrashReport.install(dataDirectory: dataDirectory)
        guard !crashed.isEmpty else { return }
        do {
            for id in crashed {
                logger.warning("the previous server process crashed while running this batch", metadata: ["intake.batch.id": "\(id)"])
                try await store.reportCrash(id, now: Date())
            }
            CrashReport.clearReported()
        } catch {
            logger.error("could not record the previous process's crash; it is kept for the next start", metadata: ["error": "\(error)"])
        }
    }

    func run() async throws {
        let logger = Logging.bootstrapOnce(label: "intake", level: logLevel, format: logFormat)
        let lease = JobLease(maxCrashes: maxCrashes > 0 ? maxCrashes : .max)
        // With a data directory, one server per directory (a lock file). With PostgreSQL any number
        // of nodes share the database: nothing is kept on this machine.
        var lock: ServerLock?
        if data.database?.isEmpty ?? true {
            try DataDirectory.prepare(path: data.data)
            lock = try ServerLock(dataDirectory: data.data)
        }
        defer { lock?.hold() }
        let storage = try await Storage.open(data, lease: lease)
        if let directory = storage.directory {
            // A damaged database would make the worker fail on every poll while /health says OK: stop
            // here instead, with what SQLite found.
            if let problems = try await directory.store.integrityProblems() {
                throw ValidationFailure(
                    """
                    The database \(directory.path)/intake.sqlite is damaged (PRAGMA quick_check: \(problems)). \
                    Intake will not serve from a damaged database: restore it from a backup, or move it aside to start empty.
                    """)
            }
            let removed = directory.blobs.removeAbandonedTemporaries()
            if removed > 0 { logger.info("removed partial uploads of stopped processes", metadata: ["intake.count": "\(removed)"]) }
        } else if let blobs = storage.blobs as? PostgresBlobStorage {
            // Uploads that stopped a day ago belonged to a node that died mid-upload.
            let removed = try await blobs.removeAbandonedUploads(writtenBefore: Date().addingTimeInterval(-86_400))
            if removed > 0 { logger.info("removed chunks of abandoned uploads", metadata: ["intake.count": "\(removed)"]) }
            logger.info("using PostgreSQL", metadata: ["intake.database": "\(storage.description)", "intake.lease": "\(lease.owner)"])
            try? await Self.checkConnectionLimits(blobs.database, poolSize: data.poolSize, workers: workers, logger: logger)
        }
        let directory = storage
        let environment = try await directory.environment(schemaFiles: data.schema)
        try await Self.reportCrashes(dataDirectory: data.data, store: environment.store, logger: logger)
        // Before any credentials are made: a port in use should not cost a fresh directory its
        // one-time password and key.
        try ListenCheck.check(host: host, port: port)
        let service = ImportService(environment: environment)
        let printCredentials = printInitialCredentials || isatty(STDOUT_FILENO) == 1
        do {
            try await Self.createFirstCredentials(service: service, dataDirectory: data.data, print: printCredentials, logger: logger)
        } catch is StoreUnavailable {
            // A long `intake run` on the same directory holds SQLite's write lock chunk after chunk:
            // start all the same, and make the credentials as soon as a write gets through.
            logger.warning("the database is busy (another process is importing): the first start's credentials will follow once it is free")
            let dataDirectory = data.data
            Task {
                while true {
                    try? await Task.sleep(for: .seconds(2))
                    do {
                        try await Self.createFirstCredentials(service: service, dataDirectory: dataDirectory, print: printCredentials, logger: logger)
                        return
                    } catch is StoreUnavailable {
                        continue
                    } catch {
                        logger.error("could not create the first start's credentials", metadata: ["error": "\(error)"])
                        return
                    }
                }
            }
        }
        if !behindTLS, !["127.0.0.1", "::1", "localhost"].contains(host) {
            logger.warning(
                "the admin UI is served over plain HTTP on a non-loopback address: put it behind HTTPS and pass --behind-tls",
                metadata: ["intake.host": "\(host)"])
        }
        let admin = try AdminUI(environment: environment, maxUploadBytes: maxUploadBytes, behindTLS: behindTLS, logger: logger)
        let app = buildApplication(
            configuration: ServerConfiguration(
                host: host, port: port, maxUploadBytes: maxUploadBytes,
                headerTimeout: .seconds(headerTimeout), idleTimeout: .seconds(idleTimeout),
                maxConnections: maxConnections, metricsRequireKey: metricsAuth,
                failedAuthenticationLimit: failedAuthLimit, behindTLS: behindTLS, workers: workers, publicURL: publicURL,
                webhookPolicy: webhookPolicy),
            environment: environment, logger: logger, additionalRoutes: admin.addRoutes,
            onServerRunning: { [host] port in Console.write("Intake is listening on http://\(host):\(port)/") })
        do {
            try await runUntilStopped(app, logger: logger)
        } catch let error as IOError {
            // Taken between the check and the bind, most likely.
            throw ValidationFailure(ListenCheck.message(errno: error.errnoCode, host: host, port: port) ?? "\(error)")
        }
    }

    private var webhookPolicy: DeliveryPolicy {
        var policy = DeliveryPolicy.standard
        policy.firstRetry = webhookFirstRetry
        policy.timeout = webhookTimeout
        policy.lease = max(policy.lease, 4 * webhookTimeout)
        return policy
    }

    /// On first start (`ImportService.createFirstStartCredentials`), the credentials are printed
    /// once when `print` (a terminal, or --print-initial-credentials); otherwise — under a service
    /// manager, where stdout ends up in a shared log — they go to `initial-credentials` in the data
    /// directory, readable by its owner only, and only the file's path is printed.
    static func createFirstCredentials(service: ImportService, dataDirectory: String, print: Bool, logger: Logger) async throws {
        let password: String, key: String
        switch try await service.createFirstStartCredentials() {
        case .notNeeded: return
        case .noAdminAccount:
            logger.warning("there is no admin account: create one with `intake admin create NAME`")
            return
        case .created(let madePassword, let madeKey): (password, key) = (madePassword, madeKey)
        }
        let text = """
            First start: created these credentials. They are shown only once.
              Admin user:     admin
              Admin password: \(password)
              API key:        \(key)
            """
        if print {
            Console.write(text)
            return
        }
        // With PostgreSQL the data directory holds nothing else, and may not exist yet.
        try DataDirectory.prepare(path: dataDirectory)
        let path = URL(fileURLWithPath: dataDirectory).appendingPathComponent("initial-credentials").standardizedFileURL.path
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw ValidationFailure("Cannot write the first start's credentials to \(path): \(String(cString: strerror(errno)))") }
        let bytes = Array((text + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
        guard written == bytes.count else { throw ValidationFailure("Cannot write the first start's credentials to \(path)") }
        Console.write(
            "First start: an admin account and an API key were created; they are in \(path) (readable by this user only). Delete the file once you have them.")
    }
}

enum Logging {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    static func bootstrapOnce(label: String, level: Logger.Level = .info, format: Format = .text) -> Logger {
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json:
                return JSONLogHandler(label: label, logLevel: level)
            }
        }
        return Logger(label: label)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// One JSON object per line on stderr, for log collectors: `time`, `level`, `label`, `message` and
/// the metadata's keys.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields: [String: String] = [:]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { fields[key] = "\(value)" }
        fields["time"] = Date().formatted(.iso8601)
        fields["level"] = event.level.rawValue
        fields["label"] = label
        fields["message"] = "\(event.message)"
        guard var data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        data.append(UInt8(ascii: "\n"))
        FileHandle.standardError.write(data)
    }
}

/// Unbuffered writes to stdout, so scripts and tests see lines as soon as they are printed.
enum Console {
    static func write(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

/// Whether the server can listen where it was asked to, told in words before anything else starts.
enum ListenCheck {
    static func check(host: String, port: Int) throws {
        guard port != 0 else { return }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &found) == 0, let address = found else {
            throw ValidationFailure("Cannot listen on \(host): it is not an address or host name of this machine (--host)")
        }
        defer { freeaddrinfo(found) }
        let descriptor = socket(address.pointee.ai_family, address.pointee.ai_socktype, address.pointee.ai_protocol)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var yes: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        if bind(descriptor, address.pointee.ai_addr, address.pointee.ai_addrlen) != 0,
            let message = message(errno: errno, host: host, port: port)
        {
            throw ValidationFailure(message)
        }
    }

    static func message(errno code: Int32, host: String, port: Int) -> String? {
        switch code {
        case EADDRINUSE: return "Port \(port) on \(host) is already in use by another process: stop it, or choose another port with --port"
        case EACCES: return "Not allowed to listen on port \(port) (ports below 1024 need privileges): choose another with --port"
        case EADDRNOTAVAIL: return "Cannot listen on \(host): it is not an address of this machine (--host)"
        default: return nil
        }
    }
}
