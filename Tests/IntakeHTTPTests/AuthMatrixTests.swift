import Foundation
import HTTPTypes
import IntakeApp
import IntakeCore
import IntakeRunner
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

    static let pushRoutes = [Route(method: "POST", path: "/api/push-data/x", scope: .push)]

    static let wrongKey = "ik_" + String(repeating: "7", count: 64)

    /// Through the router (no socket): 145 requests, which took about 3 s as curl processes alone and
    /// a minute or more beside the whole suite.
    @Test func everyRouteAgainstEveryCredential() async throws {
        try await RoutedServer.run(scope: .batch, metricsRequireKey: true) { server in
            func key(_ scope: APIScope) async throws -> String {
                let key = APIKeyHashing.newKey()
                _ = try await server.store.createAPIKey(name: "\(scope)", scope: scope, hash: APIKeyHashing.hash(key), now: Date())
                return key
            }
            let batchKey = server.apiKey, readKey = try await key(.read), pushKey = try await key(.push)
            // The push API exists: for one that does not, every key hears "API not defined" first, as
            // the original answered.
            let service = ImportService(
                environment: ImportEnvironment(store: server.store, blobs: server.blobs, models: ModelRegistry(schema: StandardSchema.make())))
            let upload = try server.blobs.makeUpload()
            try Array(PushAPITests.control.utf8).withUnsafeBytes { try upload.write($0) }
            _ = try await service.createPushAPI(
                name: "x", description: "", enabled: true, response: .json, control: .upload(upload), bodyLimit: nil, by: "test")
            let revoked = try await key(.all)
            let revokedID = try #require(try await server.store.apiKeys().first { $0.name == "all" }?.id)
            #expect(try await server.store.revokeAPIKey(id: revokedID))

            var failures = 0
            for route in Self.batchRoutes + Self.readRoutes + Self.pushRoutes {
                let right = route.scope == .batch ? batchKey : route.scope == .read ? readKey : pushKey
                let wrongScope = route.scope == .batch ? readKey : batchKey
                let cases: [(String, String?, HTTPFields, Set<Int>)] = [
                    ("no credentials", nil, [:], [401]),
                    ("wrong key", Self.wrongKey, [:], [401]),
                    ("revoked key", revoked, [:], [401]),
                    ("malformed header", nil, [.authorization: "Basic !!not-base64!!"], [401]),
                    ("wrong scope", wrongScope, [:], [403]),
                    ("right scope", right, [:], [200, 400, 404, 409])
                ]
                for (name, credential, headers, expected) in cases {
                    let result = try await server.request(HTTPRequest.Method(route.method)!, route.path, key: credential, headers: headers)
                    #expect(expected.contains(result.status), "\(route) with \(name): \(result.status) \(result.body)")
                    if result.status == 401 {
                        #expect(result.body == "Unauthorized")
                        #expect(result.headers[.wwwAuthenticate] == #"Basic realm="Intake""#)
                        failures += 1
                    }
                }
            }
            let logged = server.log.all.filter { $0.hasPrefix("authentication failed") }
            #expect(logged.count >= failures)
            #expect(logged.contains { $0.contains("intake.reason=no credentials") })
            #expect(logged.contains { $0.contains("intake.reason=malformed Authorization header") })
            #expect(logged.contains { $0.contains("intake.reason=unknown or revoked key") })
            for line in server.log.all {
                #expect(!line.contains(Self.wrongKey) && !line.contains(revoked) && !line.contains(readKey) && !line.contains(batchKey))
                #expect(!line.contains(pushKey))
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
            // Failures are logged with the client's address (a socket's, so this test is a live one).
            let logged = server.log.all.filter { $0.hasPrefix("authentication failed") }
            #expect(logged.count == 5 && logged.allSatisfy { $0.contains("client.address=127.0.0.1") }, "\(logged)")
        }
    }
}

/// Keys for one job: a feed key reaches only its feed's batches (every batch route, with another
/// batch and with its own) and control files naming the feed; a push API key calls only its API.
@Suite struct APIKeyRestrictionTests {
    static let feedControl = #"""
        {"dataImportControlFileVersion": 0, "model": "haplo:person", "files": {"staff": {"read": "json"}},
         "feed": {"name": "hr-staff", "key": "id"},
         "instructions": [{"action": "new", "destination": "profile"},
            {"source": "name", "destination": "profile", "name": "dc:attribute:title"}]}
        """#

    @Test func aFeedKeyReachesOnlyItsFeedsBatches() async throws {
        try await TestServer.start().scoped { server in
            let key = APIKeyHashing.newKey()
            _ = try await server.store.createAPIKey(
                name: "hr", scope: .batch, hash: APIKeyHashing.hash(key), expires: nil, restriction: .feed("hr-staff"), now: Date())
            let hr = BatchClient(server, key: key), everything = BatchClient(server)
            let data = try Fixtures.write(#"[{"id": "1", "name": "Ann"}]"#)
            // Another batch, not of the feed, made with the unrestricted key.
            let other = try await everything.prepareBatch(control: try Fixtures.upsertControl(), files: [("data0", try Fixtures.write("[]"))])
            let otherControl = try #require(try await server.store.batch(BatchID(rawValue: other))?.control.hex)

            let refusedControl = try await hr.uploadControl(try Fixtures.upsertControl())
            #expect(refusedControl.status == 403 && refusedControl.body == "Forbidden: this key is for the batches of feed hr-staff only")
            #expect(try await hr.createBatch(control: otherControl).status == 403)
            let own = try await hr.prepareBatch(control: try Fixtures.write(Self.feedControl), files: [("staff", data)])

            let routes: [(String, String)] = [
                ("POST", "file"), ("POST", "schedule"), ("GET", "status"), ("GET", "log"), ("GET", "results"), ("POST", "cancel"), ("POST", "copy"),
                ("POST", "retry"), ("POST", "rollback"), ("GET", "rollback-preview"), ("POST", "approve"), ("GET", "deliveries")
            ]
            for (method, endpoint) in routes {
                for (batch, mine) in [(other, false), (own, true)] {
                    let url = "\(server.base)/api/haplo-data-import-batch/\(endpoint)" + (method == "GET" ? "?batch=\(batch)" : "")
                    let form = method == "POST" ? ["-F", "batch=\(batch)", "-F", "name=staff", "-F", "file=@\(data.path)"] : []
                    let answer = try await Curl.run(["-X", method, "--user", "haplo:\(key)"] + form + [url])
                    if mine {
                        #expect(answer.status != 403, "\(method) \(endpoint) of its own batch: \(answer.status) \(answer.body)")
                    } else {
                        #expect(answer.status == 403, "\(method) \(endpoint) of another batch: \(answer.status) \(answer.body)")
                    }
                }
            }
            #expect(try await hr.get("/api/v1/schema").status == 403)
            #expect(try await server.store.batch(BatchID(rawValue: other))?.state == .uploading, "a refused request changed nothing")
        }
    }

    @Test func aPushAPIKeyCallsOnlyItsAPI() async throws {
        try await TestServer.start().scoped { server in
            let service = ImportService(
                environment: ImportEnvironment(store: server.store, blobs: server.blobs, models: ModelRegistry(schema: StandardSchema.make())))
            for name in ["staff", "students"] {
                let upload = try server.blobs.makeUpload()
                try Array(PushAPITests.control.utf8).withUnsafeBytes { try upload.write($0) }
                _ = try await service.createPushAPI(
                    name: name, description: "", enabled: true, response: .json, control: .upload(upload), bodyLimit: nil, by: "test")
            }
            await #expect(throws: APIKeyError.invalidRestriction(.pushAPI("staff"))) {
                _ = try await service.createAPIKey(name: "x", scope: .batch, restriction: .pushAPI("staff"))
            }
            await #expect(throws: APIKeyError.invalidRestriction(.feed("Not A Feed"))) {
                _ = try await service.createAPIKey(name: "x", scope: .batch, restriction: .feed("Not A Feed"))
            }
            let (_, key) = try await service.createAPIKey(name: "hr", scope: .push, restriction: .pushAPI("staff"))
            func push(_ api: String) async throws -> Curl.Result {
                try await Curl.run([
                    "-X", "POST", "--data-binary", #"{"username": "ada", "first": "A", "last": "L"}"#, "--user", "haplo:\(key)",
                    "\(server.base)/api/push-data/\(api)"
                ])
            }
            #expect(try await push("staff").status == 200)
            let other = try await push("students")
            #expect(other.status == 403 && other.body.contains(#""result": "not authorised""#))
            #expect(try await server.store.apiKeys().first { $0.name == "hr" }?.restriction == .pushAPI("staff"))
        }
    }
}

/// Keys with an expiry: refused from it on like a revoked key (401), shown as expired; dates
/// checked when the key is made, by the command line and the admin UI alike.
@Suite struct APIKeyExpiryTests {
    @Test func anExpiredKeyIsRefusedAndListedAsExpired() async throws {
        try await AdminBrowser.routedSignedIn { browser in
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
