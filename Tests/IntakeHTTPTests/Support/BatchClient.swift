import Foundation

/// The four batch API calls, made with curl exactly as the reference client makes them.
struct BatchClient {
    let server: TestServer
    var key: String

    init(_ server: TestServer, key: String? = nil) {
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
        try await Curl.run(["-X", "POST", "-F", "batch=\(batch)", "-F", "name=\(name)", "-F", "file=@\(file.path)",
                            "--user", "haplo:\(key)", url("file")])
    }

    func schedule(batch: String, dryRun: Bool = false) async throws -> Curl.Result {
        try await Curl.run(["-X", "POST", "-d", "batch=\(batch)"] + (dryRun ? ["-d", "mode=dry-run"] : [])
                           + ["--user", "haplo:\(key)", url("schedule")])
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
}
