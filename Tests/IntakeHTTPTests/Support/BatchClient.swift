import Foundation
import IntakeCore

/// One request of the tests: what `BatchClient` asks, sent by curl to a server on a socket or
/// through the router (`RoutedServer`).
struct TestRequest: Sendable {
    enum Part: Sendable {
        case text(String)
        case file(URL)
    }
    enum Body: Sendable {
        case none
        /// Sent as `curl -d name=value` sends it: not percent-encoded.
        case form([(String, String)])
        /// `curl -F name=value` and `-F name=@file`.
        case multipart([(String, Part)])
    }
    var method: String
    var path: String
    var key: String
    var body: Body = .none
}

/// The four batch API calls, made with curl exactly as the reference client makes them, or through
/// the router when the server is a `RoutedServer`.
struct BatchClient {
    let server: any ServerEndpoint
    var key: String

    init(_ server: any ServerEndpoint, key: String? = nil) {
        self.server = server
        self.key = key ?? server.apiKey
    }

    private func path(_ endpoint: String) -> String { "/api/haplo-data-import-batch/\(endpoint)" }

    private func send(_ method: String, _ path: String, _ body: TestRequest.Body = .none) async throws -> Curl.Result {
        try await server.send(TestRequest(method: method, path: path, key: key, body: body))
    }

    func uploadControl(_ file: URL, comment: String? = "Example control") async throws -> Curl.Result {
        var parts: [(String, TestRequest.Part)] = []
        if let comment { parts.append(("comment", .text(comment))) }
        return try await send("POST", path("control"), .multipart(parts + [("file", .file(file))]))
    }

    func createBatch(control: String, comment: String = "Example import") async throws -> Curl.Result {
        try await send("POST", path("batch"), .form([("comment", comment), ("control", control)]))
    }

    func uploadFile(batch: String, name: String, file: URL) async throws -> Curl.Result {
        try await send("POST", path("file"), .multipart([("batch", .text(batch)), ("name", .text(name)), ("file", .file(file))]))
    }

    func schedule(batch: String, dryRun: Bool = false, force: Bool = false) async throws -> Curl.Result {
        try await send(
            "POST", path("schedule"), .form([("batch", batch)] + (dryRun ? [("mode", "dry-run")] : []) + (force ? [("force", "true")] : [])))
    }

    /// A form POST to a batch API endpoint.
    func post(_ endpoint: String, _ fields: [String: String]) async throws -> Curl.Result {
        try await send("POST", path(endpoint), .form(fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))
    }

    /// Every result line of a batch, parsed.
    func results(_ batch: String) async throws -> [JSONValue] {
        try await get("/api/haplo-data-import-batch/results?batch=\(batch)").body.split(separator: "\n").map { try JSONParser.parse(String($0)) }
    }

    func get(_ path: String) async throws -> Curl.Result {
        try await send("GET", path)
    }

    /// Control upload, batch creation and file uploads; returns the batch identifier.
    func prepareBatch(control: URL, files: [(String, URL)]) async throws -> String {
        let digest = try await uploadControl(control).body
        let batch = try await createBatch(control: digest).body
        for (name, file) in files { _ = try await uploadFile(batch: batch, name: name, file: file) }
        return batch
    }

    /// Polls the status endpoint until the batch reaches a final state.
    func waitForBatch(_ id: String, timeout: TimeInterval = 120) async throws -> JSONValue {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let json = try JSONParser.parse(try await get("/api/haplo-data-import-batch/status?batch=\(id)").body)
            if let state = json["state"]?.stringValue, ["complete", "dry-run", "error", "cancelled", "held"].contains(state) {
                return json
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "batch \(id) did not finish"])
    }
}
