import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import IntakeAdmin
import IntakeCore
import IntakeHTTP
import IntakeRunner
import IntakeStore
import IntakeTesting
import Logging
import NIOCore
import NIOFoundationCompat

/// The application `intake serve` runs (the same `buildApplication`, admin routes and workers),
/// answered through Hummingbird's router test client: requests go to the router without a socket,
/// so a check of statuses and messages costs no connection, no process and no port. Tests where
/// the socket matters (timeouts, uploads as curl sends them, processes, the client's address) use
/// `TestServer`.
struct RoutedServer: ServerEndpoint {
    let store: any BatchStore
    let blobs: any BlobStorage
    let apiKey: String
    let log: CapturedLog
    let client: any TestClientProtocol

    /// No socket: nothing may be sent to this.
    var base: String { "http://routed.invalid" }

    struct Response {
        var status: Int
        var body: String
        var headers: HTTPFields
    }

    /// Runs `body` against a new application over a new store (SQLite, or PostgreSQL in that pass),
    /// stopping its workers when `body` returns or throws.
    static func run<T: Sendable>(
        scope: APIScope = .all, schema: Schema = StandardSchema.make(), metricsRequireKey: Bool = false,
        failedAuthenticationLimit: Int = 1000, _ body: @Sendable (RoutedServer) async throws -> T
    ) async throws -> T {
        let directory = try TestServer.makeDirectory()
        var slots: ServerSlots?
        if TestPostgres.isSelectedBackend, await TestServer.postgresSlots.take() { slots = TestServer.postgresSlots }
        let slot = HeldSlot(slots)
        defer { slot.giveBack() }
        let (store, blobs, key, environment) = try await TestServer.prepare(directory, scope: scope, schema: schema)
        let (log, logger) = TestServer.capturingLogger()
        let app = buildApplication(
            configuration: ServerConfiguration(
                host: "127.0.0.1", port: 0, metricsRequireKey: metricsRequireKey, failedAuthenticationLimit: failedAuthenticationLimit,
                webhookPolicy: TestServer.webhookPolicy, webhookPollInterval: nil),
            environment: environment, logger: logger,
            additionalRoutes: try AdminUI(environment: environment, maxUploadBytes: 4 << 30, behindTLS: false, logger: logger).addRoutes)
        return try await app.test(.router) { client in
            try await body(RoutedServer(store: store, blobs: blobs, apiKey: key, log: log, client: client))
        }
    }

    /// One request; `user` is the Basic credentials' password for the user `haplo`, as the
    /// original's clients send their key.
    func request(
        _ method: HTTPRequest.Method, _ path: String, key: String? = nil, headers: HTTPFields = [:], body: String? = nil
    ) async throws -> Response {
        var headers = headers
        if let key { headers[.authorization] = "Basic " + Data("haplo:\(key)".utf8).base64EncodedString() }
        return try await client.execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            Response(status: Int(response.status.code), body: String(buffer: response.body), headers: response.headers)
        }
    }

    /// A form POST (application/x-www-form-urlencoded), as `curl -d` sends it.
    func post(_ path: String, key: String? = nil, form: [(String, String)]) async throws -> Response {
        try await request(.post, path, key: key, headers: [.contentType: "application/x-www-form-urlencoded"], body: Self.urlencoded(form))
    }

    /// `BatchClient`'s requests, with the bodies curl would have sent.
    func send(_ request: TestRequest) async throws -> Curl.Result {
        var headers: HTTPFields = [.authorization: "Basic " + Data("haplo:\(request.key)".utf8).base64EncodedString()]
        var body: ByteBuffer?
        switch request.body {
        case .none: break
        case .form(let fields):
            headers[.contentType] = "application/x-www-form-urlencoded"
            body = ByteBuffer(string: fields.map { "\($0.0)=\($0.1)" }.joined(separator: "&"))
        case .multipart(let parts):
            let (type, bytes) = try Self.multipart(parts)
            headers[.contentType] = type
            body = bytes
        }
        return try await execute(method: request.method, path: request.path, headers: headers, body: body)
    }

    /// One request through the router, answered as curl's result (status line and headers as text).
    func execute(method: String, path: String, headers: HTTPFields, body: ByteBuffer?) async throws -> Curl.Result {
        try await client.execute(uri: path, method: HTTPRequest.Method(method)!, headers: headers, body: body) { response in
            let data = Data(buffer: response.body)
            let headerLines = response.headers.map { "\($0.name.rawName): \($0.value)\r\n" }.joined()
            return Curl.Result(
                status: Int(response.status.code), body: String(data: data, encoding: .utf8) ?? "",
                headers: "HTTP/1.1 \(response.status.code)\r\n" + headerLines, data: data)
        }
    }

    /// A form body as `curl --data-urlencode` sends it.
    static func urlencoded(_ fields: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)" }.joined(separator: "&")
    }

    /// A multipart body as `curl -F` sends it, and its content type.
    static func multipart(_ parts: [(String, TestRequest.Part)]) throws -> (String, ByteBuffer) {
        let boundary = "------------------------\(UUID().uuidString.replacingOccurrences(of: "-", with: ""))"
        var data = Data()
        for (name, part) in parts {
            data += Data("--\(boundary)\r\n".utf8)
            switch part {
            case .text(let value):
                data += Data("Content-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
            case .file(let url):
                data += Data(
                    "Content-Disposition: form-data; name=\"\(name)\"; filename=\"\(url.lastPathComponent)\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                        .utf8)
                data += try Data(contentsOf: url)
                data += Data("\r\n".utf8)
            }
        }
        data += Data("--\(boundary)--\r\n".utf8)
        return ("multipart/form-data; boundary=\(boundary)", ByteBuffer(bytes: data))
    }
}
