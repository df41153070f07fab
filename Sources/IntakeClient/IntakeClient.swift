// IntakeClient: Intake's HTTP API from the other side, for the `intake` client commands (push,
// status, log, results, cancel, copy, rollback, batches). Owns the requests and their retries,
// streamed multipart uploads, the status document, profiles in ~/.config/intake/config and the
// errors a person can act on. Imports AsyncHTTPClient and NIO, never the server's modules: it speaks
// to any Intake server over the wire, as a script would.
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// One Intake server, as a client with an API key sees it.
package struct BatchClient: Sendable {
    package let server: ServerAddress
    let key: String
    let http: HTTPClient
    /// Attempts for a request that failed on the way (connection refused or reset, timeouts,
    /// 502/503/504); uploads are safe to repeat, since the server names files by their digest and
    /// a repeated upload of the same name replaces the earlier one.
    package var attempts = 4
    /// Waits before the second, third… attempt.
    package var backoff: [Duration] = [.milliseconds(500), .seconds(1), .seconds(2), .seconds(4)]

    package init(server: ServerAddress, key: String, http: HTTPClient) {
        self.server = server
        self.key = key
        self.http = http
    }

    /// Runs `body` with a client of its own, shut down afterwards. Connection attempts are not
    /// retried inside AsyncHTTPClient (it would keep trying a refused connection until the
    /// request's deadline): `BatchClient` retries whole requests itself, with its own backoff.
    package static func with<T>(
        server: ServerAddress, key: String, _ body: (BatchClient) async throws -> T
    ) async throws -> T {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        configuration.decompression = .disabled
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let result = try await body(BatchClient(server: server, key: key, http: http))
            try await http.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    static let batchAPI = "/api/haplo-data-import-batch/"

    // MARK: The four steps

    package func uploadControl(path: String, comment: String?, progress: UploadProgress? = nil) async throws -> String {
        var fields: [(String, String)] = []
        if let comment { fields.append(("comment", comment)) }
        return try await upload(Self.batchAPI + "control", fields: fields, filePath: path, progress: progress)
    }

    package func createBatch(control: String, comment: String?) async throws -> String {
        var fields = [("control", control)]
        if let comment { fields.append(("comment", comment)) }
        return try await post(Self.batchAPI + "batch", fields)
    }

    package func uploadFile(batch: String, name: String, path: String, progress: UploadProgress? = nil) async throws -> String {
        try await upload(Self.batchAPI + "file", fields: [("batch", batch), ("name", name)], filePath: path, progress: progress)
    }

    /// `force`: a feed batch transforms every record, skipping none. `maxErrors`: the batch stops
    /// once it has more errors.
    package func schedule(batch: String, dryRun: Bool, force: Bool = false, maxErrors: Int? = nil) async throws {
        _ = try await post(
            Self.batchAPI + "schedule",
            [("batch", batch)] + (dryRun ? [("mode", "dry-run")] : []) + (force ? [("force", "true")] : [])
                + (maxErrors.map { [("maxErrors", String($0))] } ?? []))
    }

    // MARK: The extensions

    package func status(batch: String) async throws -> BatchStatus {
        let body = try await getText(Self.batchAPI + "status", [("batch", batch)])
        do {
            return try JSONDecoder().decode(BatchStatus.self, from: Data(body.utf8))
        } catch {
            throw ClientFailure(.rejected, "The server's status of batch \(batch) is not the JSON Intake sends: \(body.prefix(200))")
        }
    }

    /// The status document as the server sent it.
    package func statusText(batch: String) async throws -> String {
        try await getText(Self.batchAPI + "status", [("batch", batch)])
    }

    /// Streams the log to `line`, one line at a time.
    package func log(batch: String, line: (Substring) throws -> Void) async throws {
        try await getLines(Self.batchAPI + "log", [("batch", batch)], line: line)
    }

    /// Streams per-record results (NDJSON) to `line`; `statuses` filters them.
    package func results(batch: String, statuses: [String], line: (Substring) throws -> Void) async throws {
        try await getLines(Self.batchAPI + "results", [("batch", batch)] + statuses.map { ("status", $0) }, line: line)
    }

    package func cancel(batch: String) async throws -> String { try await post(Self.batchAPI + "cancel", [("batch", batch)]) }
    package func copy(batch: String) async throws -> String { try await post(Self.batchAPI + "copy", [("batch", batch)]) }
    package func retry(batch: String) async throws -> String { try await post(Self.batchAPI + "retry", [("batch", batch)]) }
    package func rollback(batch: String) async throws -> String { try await post(Self.batchAPI + "rollback", [("batch", batch)]) }
    package func rollbackPreview(batch: String) async throws -> String { try await getText(Self.batchAPI + "rollback-preview", [("batch", batch)]) }
    package func approve(batch: String) async throws -> String { try await post(Self.batchAPI + "approve", [("batch", batch)]) }

    /// Feeds, one feed, and a feed's keys (the read API; the key needs the `read` scope).
    package func feeds() async throws -> String { try await getText("/api/v1/feeds", []) }
    package func feed(name: String) async throws -> String { try await getText("/api/v1/feeds/\(Self.pathSegment(name))", []) }
    package func feedKeys(name: String, state: String?, after: String?, limit: Int) async throws -> String {
        var query = [("limit", String(limit))]
        if let state { query.append(("state", state)) }
        if let after { query.append(("after", after)) }
        return try await getText("/api/v1/feeds/\(Self.pathSegment(name))/keys", query)
    }

    /// A feed name as a path segment (names are plain, but a typo must not become another path).
    static func pathSegment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "._-"))) ?? text
    }

    /// The newest batches (the read API; the key needs the `read` scope).
    package func batches(limit: Int) async throws -> String {
        try await getText("/api/v1/batches", [("limit", String(limit))])
    }

    // MARK: Requests

    private var authorization: String {
        "Basic " + Data("haplo:\(key)".utf8).base64EncodedString()
    }

    private func request(_ path: String, _ query: [(String, String)] = [], method: HTTPMethod) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: server.url(path: path, query: query))
        request.method = method
        request.headers.add(name: "Authorization", value: authorization)
        request.headers.add(name: "User-Agent", value: "intake-cli")
        return request
    }

    func post(_ path: String, _ fields: [(String, String)]) async throws -> String {
        let body = FormEncoding.urlEncoded(fields)
        return try await withRetries(path) {
            var request = request(path, method: .POST)
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: body))
            return try await text(of: try await http.execute(request, timeout: .seconds(300)), path: path)
        }
    }

    func getText(_ path: String, _ query: [(String, String)]) async throws -> String {
        try await withRetries(path) {
            try await text(of: try await http.execute(request(path, query, method: .GET), timeout: .seconds(60)), path: path)
        }
    }

    /// Streams the failed records of a batch (`format`: original, json or csv; `file`: one file's)
    /// to `chunk`, as the server sends them.
    package func failedRecords(batch: String, format: String, file: String?, chunk: (ByteBuffer) throws -> Void) async throws {
        let path = Self.batchAPI + "results"
        let query = [("batch", batch), ("status", "failed"), ("format", format)] + (file.map { [("file", $0)] } ?? [])
        for try await buffer in try await streamingGet(path, query).body { try chunk(buffer) }
    }

    /// A GET whose body is read as it comes (retried until its head arrives); a refusal throws.
    private func streamingGet(_ path: String, _ query: [(String, String)]) async throws -> HTTPClientResponse {
        try await withRetries(path) {
            let response = try await http.execute(request(path, query, method: .GET), timeout: .hours(12))
            guard response.status == .ok else {
                _ = try await text(of: response, path: path)
                throw ClientFailure(.rejected, "Unexpected answer from \(path): \(response.status.code)")
            }
            return response
        }
    }

    /// Streams a text response line by line: a log or a million results are never held whole.
    func getLines(_ path: String, _ query: [(String, String)], line: (Substring) throws -> Void) async throws {
        let response = try await streamingGet(path, query)
        var pending = Data()
        for try await buffer in response.body {
            pending.append(contentsOf: buffer.readableBytesView)
            // Lines are cut where they lie; the consumed part is dropped once per buffer, not once
            // per line (which would move the rest of the buffer for every line).
            var start = pending.startIndex
            while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                try line(Substring(String(decoding: pending[start..<newline], as: UTF8.self)))
                start = pending.index(after: newline)
            }
            pending.removeSubrange(pending.startIndex..<start)
        }
        if !pending.isEmpty { try line(Substring(String(decoding: pending, as: UTF8.self))) }
    }

    func upload(_ path: String, fields: [(String, String)], filePath: String, progress: UploadProgress?) async throws -> String {
        let file = try MultipartFile(path: filePath, fields: fields)
        return try await withRetries(path) {
            var request = request(path, method: .POST)
            request.headers.add(name: "Content-Type", value: "multipart/form-data; boundary=\(file.boundary)")
            request.body = .stream(file.body(progress: progress), length: .known(file.length))
            return try await text(of: try await http.execute(request, timeout: .hours(12)), path: path)
        }
    }

    /// The body of a successful response, or the failure it stands for.
    private func text(of response: HTTPClientResponse, path: String) async throws -> String {
        // Bodies worth reading whole are short (a digest, an id, a status document, a message).
        let buffer = try await response.body.collect(upTo: 16 << 20)
        let body = String(buffer: buffer)
        switch response.status.code {
        case 200: return body
        case 401:
            throw ClientFailure(.connection, "The server at \(server) refused the API key (401 Unauthorized): check --key, INTAKE_API_KEY or your profile")
        case 403:
            throw ClientFailure(
                .connection,
                "The API key's scope does not cover \(path) (403 Forbidden): it needs the \(path.hasPrefix("/api/v1/") ? "read" : "batch") scope, or all")
        case 404:
            // The read API answers an unknown thing (a feed, an object) with its JSON error.
            if let message = (try? JSONDecoder().decode([String: String].self, from: Data(body.utf8)))?["error"] {
                throw ClientFailure(.rejected, message)
            }
            throw ClientFailure(.connection, "\(server) has no \(path) (404): is it an Intake server?")
        case 429: throw ClientFailure(.connection, "The server at \(server) is refusing this address for a while after failed authentications (429)")
        case 502, 503, 504: throw TransientFailure(description: "\(response.status.code) \(response.status.reasonPhrase)")
        case 400..<500: throw ClientFailure(.rejected, body.isEmpty ? "\(response.status.code) \(response.status.reasonPhrase)" : body)
        default: throw ClientFailure(.rejected, "The server failed (\(response.status.code) \(response.status.reasonPhrase)): \(body)")
        }
    }

    private func withRetries<T>(_ path: String, _ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await body()
            } catch let failure as ClientFailure {
                throw failure
            } catch {
                let transient = Self.describeTransient(error)
                guard let transient else { throw ClientFailure(.connection, "Request to \(server)\(path) failed: \(error)") }
                if attempt >= attempts {
                    throw ClientFailure(.connection, "Cannot reach the Intake server at \(server): \(transient) (tried \(attempt) times)")
                }
                try await Task.sleep(for: backoff[min(attempt - 1, backoff.count - 1)])
            }
        }
    }

    /// A short description of a failure worth retrying, or nil for one that is not.
    static func describeTransient(_ error: any Error) -> String? {
        if let failure = error as? TransientFailure { return failure.description }
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout, .readTimeout, .writeTimeout, .remoteConnectionClosed, .deadlineExceeded: return "\(error)"
            default: return nil
            }
        }
        let text = String(describing: error)
        if text.contains("connection") || text.contains("Connection") || text.contains("ECONNREFUSED") || text.contains("refused") {
            return text.contains("refused") ? "connection refused" : text
        }
        return nil
    }
}

struct TransientFailure: Error, CustomStringConvertible {
    let description: String
}

/// Where a server is: a base URL such as `http://127.0.0.1:8080` or `https://intake.example.ac.uk/base`.
package struct ServerAddress: Sendable, CustomStringConvertible {
    let base: String

    /// - Throws: `ClientFailure` when the text is not an http(s) URL.
    package init(_ text: String) throws {
        var text = text
        if !text.contains("://") { text = "http://" + text }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            url.host?.isEmpty == false
        else {
            throw ClientFailure(.rejected, "Not a server URL: \(text) (expected http://HOST:PORT or https://HOST)")
        }
        base = text.hasSuffix("/") ? String(text.dropLast()) : text
    }

    func url(path: String, query: [(String, String)]) -> String {
        query.isEmpty ? base + path : base + path + "?" + FormEncoding.urlEncoded(query)
    }

    package var description: String { base }
}

enum FormEncoding {
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func urlEncoded(_ fields: [(String, String)]) -> String {
        fields.map { name, value in
            "\(name.addingPercentEncoding(withAllowedCharacters: unreserved) ?? name)=\(value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value)"
        }.joined(separator: "&")
    }
}
