import Foundation
import IntakeCore

/// The four batch API calls, made with curl exactly as the reference client makes them.
struct BatchClient {
    let server: any ServerEndpoint
    var key: String

    init(_ server: any ServerEndpoint, key: String? = nil) {
        self.server = server
        self.key = key ?? server.apiKey
    }

    private func url(_ endpoint: String) -> String { "\(server.base)/api/haplo-data-import-batch/\(endpoint)" }

    func uploadControl(_ file: URL, comment: String? = "Example control") async throws -> Curl.Result {
        var args = ["-X", "POST"]
        if let comment { args += ["-F", "comment=\(comment)"] }
        return try await Curl.run(args + ["-F", "file=@\(file.path)", "--user", "haplo:\(key)", url("control")])
    }

    func createBatch(control: String, comment: String = "Example import") async throws -> Curl.Result {
        try await Curl.run(["-X", "POST", "-d", "comment=\(comment)", "-d", "control=\(control)", "--user", "haplo:\(key)", url("batch")])
    }

    func uploadFile(batch: String, name: String, file: URL) async throws -> Curl.Result {
        try await Curl.run([
            "-X", "POST", "-F", "batch=\(batch)", "-F", "name=\(name)", "-F", "file=@\(file.path)",
            "--user", "haplo:\(key)", url("file")
        ])
    }

    func schedule(batch: String, dryRun: Bool = false, force: Bool = false) async throws -> Curl.Result {
        try await Curl.run(
            ["-X", "POST", "-d", "batch=\(batch)"] + (dryRun ? ["-d", "mode=dry-run"] : []) + (force ? ["-d", "force=true"] : [])
                + ["--user", "haplo:\(key)", url("schedule")])
    }

    /// A form POST to a batch API endpoint.
    func post(_ endpoint: String, _ fields: [String: String]) async throws -> Curl.Result {
        try await Curl.run(
            ["-X", "POST"] + fields.sorted { $0.key < $1.key }.flatMap { ["-d", "\($0.key)=\($0.value)"] } + ["--user", "haplo:\(key)", url(endpoint)])
    }

    /// Every result line of a batch, parsed.
    func results(_ batch: String) async throws -> [JSONValue] {
        try await get("/api/haplo-data-import-batch/results?batch=\(batch)").body.split(separator: "\n").map { try JSONParser.parse(String($0)) }
    }

    func get(_ path: String) async throws -> Curl.Result {
        try await Curl.run(["--user", "haplo:\(key)", "\(server.base)\(path)"])
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
