// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    // No warnings in our own code, kept that way: a new one fails the build (and CI).
    .treatAllWarnings(as: .error),
]
// Test targets are left out: Swift Testing's macro expansions warn in code we do not write.

let package = Package(
    name: "Intake",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "intake", targets: ["intake"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        // Already resolved through Hummingbird; named here for the `Expect: 100-continue` channel handler.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // xlsx workbooks are zip archives; ZIPFoundation reads entries in chunks (zlib), which a
        // hand-written inflate would only imitate.
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
        // Admin passwords: bcrypt (HummingbirdBcrypt).
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        // GET /metrics: recorded through swift-metrics, rendered by swift-prometheus.
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.7.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // The client commands (intake push, status, log…): streamed uploads and downloads, retries.
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // The admin UI's HTML templates.
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        // The admin UI renders the shipped Markdown documents as pages.
        .package(url: "https://github.com/JohnSundell/Ink.git", from: "0.6.0"),
        // The PostgreSQL backend (several nodes on one database).
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        // Already resolved through postgres-nio; named here for TLS to the database (sslmode).
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        // Tests only: the admin pages' HTML as reviewed snapshot files.
        .package(url: "https://github.com/pointfreeco/swift-snapshot-testing.git", from: "1.19.7"),
    ],
    targets: [
        // The import engine: control files, models, value conversion, record transformation. No I/O.
        .target(name: "IntakeCore", swiftSettings: swiftSettings),
        // Storage protocols and value types shared by every store implementation.
        .target(
            name: "IntakeStore",
            dependencies: [
                "IntakeCore",
                .product(name: "Crypto", package: "swift-crypto"),
                // NIOThreadPool: blocking file and database calls run there, never on the cooperative pool.
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The embedded store: SQLite through GRDB, plus the content-addressed blob folder.
        .target(
            name: "IntakeSQLite",
            dependencies: [
                "IntakeStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                // The SQLite C API, for the per-record statements (see BoundStatement).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // The networked store: every piece of state, blobs included, in one PostgreSQL database, so
        // several identical nodes can share the work.
        .target(
            name: "IntakePostgres",
            dependencies: [
                "IntakeStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Runs scheduled batches: the worker service and the run loop shared with `intake run`.
        .target(
            name: "IntakeRunner",
            dependencies: [
                "IntakeStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // The application core: the use cases (control files, batches, files, schedule, cancel, copy,
        // rollback, API keys) with their rules, called by the HTTP API, `intake run` and the CLI.
        .target(
            name: "IntakeApp",
            dependencies: [
                "IntakeStore",
                "IntakeRunner",
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Webhooks: sends the deliveries the stores queue, signed, retried with back-off.
        .target(
            name: "IntakeWebhooks",
            dependencies: [
                "IntakeStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // HTTP: the batch API, read API, auth and streaming uploads.
        .target(
            name: "IntakeHTTP",
            dependencies: [
                "IntakeStore",
                "IntakeRunner",
                "IntakeApp",
                "IntakeWebhooks",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The admin web UI: server-rendered pages over the application core, sessions, CSRF.
        .target(
            name: "IntakeAdmin",
            dependencies: [
                "IntakeStore",
                "IntakeRunner",
                "IntakeApp",
                "IntakeHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Ink", package: "Ink"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // Templates/ and Static/ are compiled in (AdminAssets.swift, scripts/embed-admin-docs).
            exclude: ["Templates", "Static"],
            swiftSettings: swiftSettings
        ),
        // The HTTP API from the client's side, for the client commands; speaks only HTTP to a server.
        .target(
            name: "IntakeClient",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "intake",
            dependencies: [
                "IntakeSQLite",
                "IntakePostgres",
                "IntakeClient",
                "IntakeHTTP",
                "IntakeAdmin",
                "IntakeRunner",
                "IntakeApp",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The store contract every backend must pass (see StoreContract).
        // and the throw-away PostgreSQL databases the tests of both backends use (see TestPostgres).
        .target(name: "IntakeTesting", dependencies: ["IntakeStore", "IntakePostgres"], swiftSettings: swiftSettings),
        .testTarget(name: "IntakeCoreTests", dependencies: ["IntakeCore"]),
        .testTarget(name: "IntakeStoreTests", dependencies: ["IntakeStore", "IntakeCore"]),
        .testTarget(
            name: "IntakeAdminTests",
            dependencies: ["IntakeAdmin", "IntakeStore", "IntakeCore", .product(name: "SnapshotTesting", package: "swift-snapshot-testing")],
            exclude: ["__Snapshots__"]),
        .testTarget(name: "IntakeAppTests", dependencies: ["IntakeApp", "IntakeRunner", "IntakeSQLite", "IntakeStore", "IntakeCore"]),
        .testTarget(
            name: "IntakeClientTests", dependencies: ["IntakeClient", .product(name: "NIOCore", package: "swift-nio")]),
        .testTarget(name: "IntakeSQLiteTests", dependencies: ["IntakeSQLite", "IntakeRunner", "IntakeTesting"]),
        .testTarget(name: "IntakePostgresTests", dependencies: ["IntakePostgres", "IntakeRunner", "IntakeTesting"]),
        .testTarget(
            name: "IntakeRunnerTests",
            dependencies: ["IntakeRunner", "IntakeApp", "IntakeSQLite", "IntakeTesting", .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                           .product(name: "Logging", package: "swift-log"), .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "IntakeHTTPTests",
            dependencies: [
                "IntakeHTTP", "IntakeAdmin", "IntakeSQLite", "IntakePostgres", "IntakeRunner", "IntakeTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            exclude: ["Support/webhook-receiver.py"]
        ),
    ]
)
