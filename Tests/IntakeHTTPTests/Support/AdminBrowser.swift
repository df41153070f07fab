import Foundation
import HTTPTypes
import HummingbirdTesting
import IntakeApp
import IntakeStore
import NIOCore
import NIOFoundationCompat
import Synchronization
import Testing

/// A request of the admin browser: its form goes as `curl --data-urlencode` or `-F` sends it.
struct BrowserRequest: Sendable {
    enum Body: Sendable {
        case none
        case urlencoded([(String, String)])
        case multipart([(String, TestRequest.Part)])
    }
    var method: String
    var path: String
    /// `Name: value` lines.
    var headers: [String] = []
    var body: Body = .none
}

/// The browser's cookies: a file for curl on a live server, names and values for the router.
final class CookieJar: Sendable {
    let path = FileManager().temporaryDirectory.appendingPathComponent("jar-\(UUID().uuidString)").path
    private let cookies = Mutex<[String: String]>([:])

    /// The session cookie's value, wherever the jar keeps it.
    var sessionToken: String? {
        if let token = cookies.withLock({ $0["intake_session"] }) { return token }
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").first { $0.contains("intake_session") }.map { String($0.split(separator: "\t").last ?? "") }
    }

    /// The `Cookie` header the router's requests carry.
    var header: String? {
        cookies.withLock { cookies in cookies.isEmpty ? nil : cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
    }

    /// Keeps what a response's `Set-Cookie` says: a value, or its removal (`Max-Age=0` or an empty value).
    func receive(_ setCookie: String) {
        let parts = setCookie.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let pair = parts.first, let equals = pair.firstIndex(of: "=") else { return }
        let (name, value) = (String(pair[..<equals]), String(pair[pair.index(after: equals)...]))
        let removed = value.isEmpty || parts.contains { $0.lowercased() == "max-age=0" }
        cookies.withLock { $0[name] = removed ? nil : value }
    }
}

/// What an admin browser talks to: a live server by curl, or the application through its router.
protocol AdminHost: ServerEndpoint {
    var store: any BatchStore { get }
    func browse(_ request: BrowserRequest, jar: CookieJar) async throws -> Curl.Result
}

extension TestServer: AdminHost {
    func browse(_ request: BrowserRequest, jar: CookieJar) async throws -> Curl.Result {
        var arguments = ["-b", jar.path, "-c", jar.path] + (request.method == "GET" ? [] : ["-X", request.method])
        arguments += request.headers.flatMap { ["-H", $0] }
        switch request.body {
        case .none: break
        case .urlencoded(let fields): arguments += fields.flatMap { ["--data-urlencode", "\($0.0)=\($0.1)"] }
        case .multipart(let parts): arguments += Self.curlParts(parts)
        }
        return try await Curl.run(arguments + [base + request.path])
    }
}

extension RoutedServer: AdminHost {
    func browse(_ request: BrowserRequest, jar: CookieJar) async throws -> Curl.Result {
        var headers = HTTPFields()
        for line in request.headers {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, let name = HTTPField.Name(String(parts[0])) {
                headers[name] = parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        if let cookie = jar.header { headers[.cookie] = cookie }
        var body: ByteBuffer?
        switch request.body {
        case .none: break
        case .urlencoded(let fields):
            headers[.contentType] = "application/x-www-form-urlencoded"
            body = ByteBuffer(string: Self.urlencoded(fields))
        case .multipart(let parts):
            let (type, bytes) = try Self.multipart(parts)
            headers[.contentType] = type
            body = bytes
        }
        let result = try await execute(method: request.method, path: request.path, headers: headers, body: body)
        for line in result.headers.split(separator: "\r\n") where line.lowercased().hasPrefix("set-cookie:") {
            jar.receive(String(line.dropFirst("set-cookie:".count)).trimmingCharacters(in: .whitespaces))
        }
        return result
    }
}

/// A browser made of a cookie jar and a live server (curl) or the router; signed in or not.
final class AdminBrowser: Sendable {
    let server: any AdminHost
    let jar = CookieJar()

    init(_ server: any AdminHost) { self.server = server }

    static let password = "a long enough password"

    /// Runs `body` with this browser, then stops its live server (see `TestServer.scoped`).
    func scoped<T>(_ body: (AdminBrowser) async throws -> T) async throws -> T {
        guard let live = server as? TestServer else { return try await body(self) }
        return try await live.scoped { _ in try await body(self) }
    }

    /// The live server (for a test that needs its socket).
    var live: TestServer {
        get throws {
            guard let live = server as? TestServer else { throw CocoaError(.featureUnsupported) }
            return live
        }
    }

    /// A live server with the admin account `ops`, and a browser signed in as it.
    static func signedIn(webhookPollInterval: Duration? = nil) async throws -> AdminBrowser {
        let server = try await TestServer.start(webhookPollInterval: webhookPollInterval)
        return try await signIn(on: server)
    }

    /// The same through the router: no socket, no curl.
    static func routedSignedIn<T: Sendable>(_ body: @Sendable (AdminBrowser) async throws -> T) async throws -> T {
        try await RoutedServer.run { server in try await body(try await signIn(on: server)) }
    }

    private static func signIn(on server: any AdminHost) async throws -> AdminBrowser {
        try await AdminAccounts(store: server.store).create(name: "ops", password: password)
        let browser = AdminBrowser(server)
        let response = try await browser.post("/admin/login", ["username": "ops", "password": password, "next": "/admin"], csrf: false)
        #expect(response.status == 303)
        return browser
    }

    func get(_ path: String, headers: [String] = []) async throws -> Curl.Result {
        try await server.browse(BrowserRequest(method: "GET", path: path, headers: headers), jar: jar)
    }

    /// A GET from elsewhere: none of this browser's cookies, only `headers` (a key, a stolen cookie).
    func getAsStranger(_ path: String, headers: [String] = []) async throws -> Curl.Result {
        try await server.browse(BrowserRequest(method: "GET", path: path, headers: headers), jar: CookieJar())
    }

    /// `Authorization` for the API key `key`, as the original's clients send it.
    static func basic(_ key: String) -> String { "Authorization: Basic " + Data("haplo:\(key)".utf8).base64EncodedString() }

    /// The form's token, read from a page that has one.
    func csrfToken() async throws -> String {
        let page = try await get("/admin/logout")
        guard let match = page.body.firstMatch(of: /name="csrf" value="([^"]+)"/) else { throw CocoaError(.featureUnsupported) }
        return String(match.1)
    }

    func post(
        _ path: String, _ fields: KeyValuePairs<String, String> = [:], files: [(String, URL)] = [], csrf: Bool = true,
        headers: [String] = []
    ) async throws -> Curl.Result {
        var all = Array(fields)
        if csrf { all.insert(("csrf", try await csrfToken()), at: 0) }
        let body: BrowserRequest.Body =
            files.isEmpty
            ? .urlencoded(all.map { ($0.0, $0.1) })
            : .multipart(all.map { ($0.0, TestRequest.Part.text($0.1)) } + files.map { ($0.0, TestRequest.Part.file($0.1)) })
        return try await server.browse(BrowserRequest(method: "POST", path: path, headers: headers, body: body), jar: jar)
    }

    var sessionToken: String? { jar.sessionToken }
}

extension Curl.Result {
    func header(_ name: String) -> String? {
        for line in headers.split(separator: "\r\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == name.lowercased() { return parts[1].trimmingCharacters(in: .whitespaces) }
        }
        return nil
    }
}
