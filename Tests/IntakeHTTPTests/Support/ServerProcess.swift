import Foundation
import Testing

/// The real `intake serve` executable as a child process, for tests that kill it hard.
final class ServerProcess: @unchecked Sendable {
    let process: Process
    let port: Int
    let apiKey: String?
    /// What the server wrote to stderr (its log).
    let errorsFile: URL
    private let output: Pipe

    static var executable: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/intake")
    }

    /// What a starting server prints, up to its "Intake is listening on" line (or all of it, if it
    /// exits first).
    static func readUntilListening(_ reader: FileHandle) async throws -> String {
        try await onOwnThread {
            var text = ""
            while !text.contains("Intake is listening on") {
                let data = reader.availableData
                if data.isEmpty { break }  // the process exited
                text += String(decoding: data, as: UTF8.self)
            }
            return text
        }
    }

    /// - Parameter fileSizeLimitKB: a `ulimit -f` for the server, to make its writes fail for lack of
    ///   room; only the soft limit when `softLimit`, so that `prlimit` can lift it again.
    static func start(
        data: URL, arguments extra: [String] = [], fileSizeLimitKB: Int? = nil, softLimit: Bool = false, environment: [String: String] = [:]
    ) async throws -> ServerProcess {
        guard FileManager().isExecutableFile(atPath: executable.path) else {
            throw CocoaError(
                .fileNoSuchFile,
                userInfo: [
                    NSLocalizedDescriptionKey:
                        "\(executable.path) is missing: run `swift build` before the tests (.ci/run does)"
                ])
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = try await TestBackend.arguments(["serve", "--data", data.path, "--port", "0", "--print-initial-credentials"] + extra)
        if let fileSizeLimitKB {
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["-c", "ulimit \(softLimit ? "-S " : "")-f \(fileSizeLimitKB) && exec \"$0\" \"$@\"", executable.path] + process.arguments!
        }
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let output = Pipe()
        process.standardOutput = output
        // Kept for the failure message when the server does not start.
        let errors = FileManager().temporaryDirectory.appendingPathComponent("serve-stderr-\(UUID().uuidString)")
        _ = FileManager().createFile(atPath: errors.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        let text = try await readUntilListening(output.fileHandleForReading)
        guard let range = text.range(of: #"http://127\.0\.0\.1:(\d+)/"#, options: .regularExpression) else {
            process.terminate()
            let stderr = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "server did not start: \(text) \(stderr.suffix(2000))"])
        }
        let url = String(text[range])
        let port = Int(url.dropFirst("http://127.0.0.1:".count).dropLast()) ?? 0
        let key = text.split(separator: "\n").first { $0.contains("API key:") }
            .map { String($0.split(separator: " ").last!) }
        return ServerProcess(process: process, port: port, apiKey: key, errorsFile: errors, output: output)
    }

    private init(process: Process, port: Int, apiKey: String?, errorsFile: URL, output: Pipe) {
        self.process = process
        self.port = port
        self.apiKey = apiKey
        self.errorsFile = errorsFile
        self.output = output
    }

    /// The server's log so far.
    var log: String { (try? String(contentsOf: errorsFile, encoding: .utf8)) ?? "" }

    func kill() async throws {
        Foundation.kill(process.processIdentifier, SIGKILL)
        let process = UncheckedProcess(process: process)
        try await onOwnThread { process.process.waitUntilExit() }
    }

    /// SIGTERM, and waits for the server to exit; one that has not after a minute is a failure of
    /// the test (a server must always stop when asked), and is killed so the suite goes on.
    func terminate() async throws {
        process.terminate()
        let process = UncheckedProcess(process: process)
        let exited = try await onOwnThread { () -> Bool in
            let deadline = Date().addingTimeInterval(60)
            while process.process.isRunning && Date() < deadline { usleep(50_000) }
            return !process.process.isRunning
        }
        if !exited {
            Issue.record("the server (pid \(process.process.processIdentifier)) did not stop within 60 s of SIGTERM")
            Foundation.kill(process.process.processIdentifier, SIGKILL)
            try await onOwnThread { process.process.waitUntilExit() }
        }
    }

    /// Sends the server SIGTERM now, without waiting for it to exit: for `defer`, which cannot wait.
    /// (A `Task` started there could outlive the test process, and the server with it.)
    func stopWithoutWaiting() {
        if process.isRunning { process.terminate() }
    }

    deinit { stopWithoutWaiting() }
}

private struct UncheckedProcess: @unchecked Sendable {
    let process: Process
}
