import Foundation
import IntakeStore
import Testing

/// Every authenticated route against every kind of credential: only a live key whose scope covers
/// the route gets through; failures are logged with a reason and never with the key; an address that
/// keeps failing is refused for a while.
@Suite(.serialized) struct AuthMatrixTests {
    struct Route: CustomStringConvertible {
        var method: String
        var path: String
        var scope: APIScope
        var description: String { "\(method) \(path)" }
    }

    static let batchRoutes: [Route] = [
        ("POST", "control"), ("POST", "batch"), ("POST", "file"), ("POST", "schedule"), ("GET", "status?batch=x"),
        ("GET", "log?batch=x"), ("GET", "results?batch=x"), ("POST", "cancel"), ("POST", "copy"), ("POST", "rollback")
    ].map { Route(method: $0.0, path: "/api/haplo-data-import-batch/\($0.1)", scope: .batch) }

    static let readRoutes: [Route] =
        [
            "objects", "objects/8000", "objects/8000/history", "schema", "models", "models/haplo:person",
            "dictionaries/haplo:person/x", "batches"
        ].map { Route(method: "GET", path: "/api/v1/\($0)", scope: .read) } + [Route(method: "GET", path: "/metrics", scope: .read)]

    static let wrongKey = "ik_" + String(repeating: "7", count: 64)

    @Test func everyRouteAgainstEveryCredential() async throws {
        try await TestServer.start(scope: .batch, metricsRequireKey: true).scoped { server in
            func key(_ scope: APIScope) async throws -> String {
                let key = APIKeyHashing.newKey()
                _ = try await server.store.createAPIKey(name: "\(scope)", scope: scope, hash: APIKeyHashing.hash(key), now: Date())
                return key
            }
            let batchKey = server.apiKey, readKey = try await key(.read)
            let revoked = try await key(.all)
            let revokedID = try #require(try await server.store.apiKeys().first { $0.name == "all" }?.id)
            #expect(try await server.store.revokeAPIKey(id: revokedID))

            var failures = 0
            for route in Self.batchRoutes + Self.readRoutes {
                let right = route.scope == .batch ? batchKey : readKey
                let wrongScope = route.scope == .batch ? readKey : batchKey
                let cases: [(String, [String], Set<Int>)] = [
                    ("no credentials", [], [401]),
                    ("wrong key", ["--user", "haplo:\(Self.wrongKey)"], [401]),
                    ("revoked key", ["--user", "haplo:\(revoked)"], [401]),
                    ("malformed header", ["-H", "Authorization: Basic !!not-base64!!"], [401]),
                    ("wrong scope", ["--user", "haplo:\(wrongScope)"], [403]),
                    ("right scope", ["--user", "haplo:\(right)"], [200, 400, 404, 409])
                ]
                for (name, credentials, expected) in cases {
                    let result = try await Curl.run(["-X", route.method] + credentials + ["\(server.base)\(route.path)"])
                    #expect(expected.contains(result.status), "\(route) with \(name): \(result.status) \(result.body)")
                    if result.status == 401 {
                        #expect(result.body == "Unauthorized")
                        #expect(result.headers.lowercased().contains("www-authenticate: basic realm=\"intake\""))
                        failures += 1
                    }
                }
            }
            let logged = server.log.all.filter { $0.hasPrefix("authentication failed") }
            #expect(logged.count >= failures)
            #expect(logged.contains { $0.contains("intake.reason=no credentials") })
            #expect(logged.contains { $0.contains("intake.reason=malformed Authorization header") })
            #expect(logged.contains { $0.contains("intake.reason=unknown or revoked key") })
            #expect(logged.allSatisfy { $0.contains("client.address=127.0.0.1") })
            for line in server.log.all {
                #expect(!line.contains(Self.wrongKey) && !line.contains(revoked) && !line.contains(readKey) && !line.contains(batchKey))
            }
        }
    }

    @Test func anAddressThatKeepsFailingIsRefusedForAWhile() async throws {
        try await TestServer.start(failedAuthenticationLimit: 5).scoped { server in
            let status = "\(server.base)/api/haplo-data-import-batch/status?batch=x"
            for _ in 0..<5 {
                #expect(try await Curl.run(["--user", "haplo:\(Self.wrongKey)", status]).status == 401)
            }
            // Even the right key is not checked now.
            let refused = try await Curl.run(["--user", "haplo:\(server.apiKey)", status])
            #expect(refused.status == 429)
            #expect(refused.body.hasPrefix("Too many failed authentication attempts from this address; try again in "))
            #expect(refused.headers.lowercased().contains("retry-after: "))
        }
    }
}

/// Keys with an expiry: refused from it on like a revoked key (401), shown as expired; dates
/// checked when the key is made, by the command line and the admin UI alike.
@Suite struct APIKeyExpiryTests {
    @Test func anExpiredKeyIsRefusedAndListedAsExpired() async throws {
        try await AdminBrowser.signedIn().scoped { browser in
            let server = browser.server
            let key = APIKeyHashing.newKey()
            _ = try await server.store.createAPIKey(
                name: "short-lived", scope: .read, hash: APIKeyHashing.hash(key), expires: Date().addingTimeInterval(1.5), now: Date())
            let client = BatchClient(server, key: key)
            #expect(try await client.get("/api/v1/schema").status == 200)
            try await Task.sleep(for: .milliseconds(1600))
            let refused = try await client.get("/api/v1/schema")
            #expect(refused.status == 401 && refused.body == "Unauthorized")
            let list = try await browser.get("/admin/api-keys").body
            #expect(list.contains(#"<span class="badge key-expired">expired</span>"#))

            // The admin form: a date that has passed, then one that has not.
            let past = try await browser.post("/admin/api-keys/new", ["name": "hr", "scope": "push", "expires": "2020-01-31"])
            #expect(past.status == 400)
            #expect(past.body.contains("The expiry date 2020-01-31 has passed: a key must work at least until the end of today (UTC)"))
            let wrong = try await browser.post("/admin/api-keys/new", ["name": "hr", "scope": "push", "expires": "31/01/2099"])
            #expect(wrong.body.contains("Invalid expiry date: 31/01/2099 (use YYYY-MM-DD)"))
            let made = try await browser.post("/admin/api-keys/new", ["name": "hr", "scope": "push", "expires": "2099-01-31"])
            #expect(made.status == 303)
            let stored = try #require(try await server.store.apiKeys().first { $0.name == "hr" })
            #expect(stored.scope == .push && stored.expires == Date(timeIntervalSince1970: 4_073_587_200))
        }
    }

    @Test func theCommandLineSetsAnExpiry() async throws {
        let directory = try TestServer.makeDirectory()
        let data = ["--data", directory.path, "--database", ""]
        let refused = try await ClientCommandTests.intake(["apikey", "create", "--name", "x", "--expires", "2021-02-30"] + data)
        #expect(refused.status != 0 && refused.stderr.contains("Invalid expiry date: 2021-02-30 (use YYYY-MM-DD)"), "\(refused.stderr)")
        let made = try await ClientCommandTests.intake(["apikey", "create", "--name", "x", "--scope", "push", "--expires", "2099-12-31"] + data)
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stdout.contains("with scope push, valid through 2099-12-31 (UTC)"))
        let list = try await ClientCommandTests.intake(["apikey", "list"] + data)
        #expect(list.stdout.contains("\tactive\texpires 2100-01-01T00:00:00Z"), "\(list.stdout)")
    }
}
