import ArgumentParser
import AsyncHTTPClient
import Foundation
import IntakeClient

/// Where the client commands find the server and the key: flags first, then the environment,
/// then the profile in the configuration file.
struct ServerOptions: ParsableArguments {
    @Option(help: "The Intake server's URL (else INTAKE_SERVER, the profile's server, or http://127.0.0.1:8080).")
    var server: String?

    @Option(help: "The API key (else INTAKE_API_KEY or the profile's key). Others on the machine can see command lines: prefer the variable or a profile.")
    var key: String?

    @Option(help: "A profile of ~/.config/intake/config (else INTAKE_PROFILE, else `default`).")
    var profile: String?

    /// Runs `body` with a client for the chosen server and key.
    func withClient(_ body: (BatchClient) async throws -> Void) async throws {
        let (server, key) = try resolve()
        try await BatchClient.with(server: server, key: key, body)
    }

    private func resolve() throws -> (ServerAddress, String) {
        let environment = ProcessInfo.processInfo.environment
        let named = profile ?? environment["INTAKE_PROFILE"]
        let stored = try ClientProfile.load(name: named ?? "default", required: named != nil)
        let server = try ServerAddress(self.server ?? environment["INTAKE_SERVER"] ?? stored?.server ?? "http://127.0.0.1:8080")
        guard let key = key ?? environment["INTAKE_API_KEY"] ?? stored?.key, !key.isEmpty else {
            throw ClientFailure(.connection, "No API key: pass --key, set INTAKE_API_KEY, or put key = … in a profile of \(ClientProfile.defaultPath)")
        }
        return (server, key)
    }
}

/// The exit statuses shared by `intake push --wait` and `intake run` (documented in their help and
/// the README).
enum ImportExitStatus {
    static let help = """
        Exit status: 0 every record applied; 1 the batch finished with record errors; 2 the input was \
        rejected, or the run stopped on an error or was cancelled; 3 the server could not be reached or \
        refused the key; 4 (push --wait) a feed's guard held the batch: approve or cancel it.
        """

    static func of(state: String, recordsFailed: Int, errors: Int) -> Int32 {
        switch state {
        case "complete", "dry-run": return recordsFailed > 0 || errors > 0 ? 1 : 0
        case "held": return 4
        default: return 2
        }
    }

    static func of(_ failure: ClientFailure) -> Int32 { failure.kind == .connection ? 3 : 2 }
}

/// Runs a client command's body; a `ClientFailure` becomes one line on stderr and its exit status.
func reportingFailures(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let failure as ClientFailure {
        Terminal.standardError.line(failure.description)
        throw ExitCode(ImportExitStatus.of(failure))
    }
}

struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Upload a control file and data files to a server, and schedule the import.",
        discussion: """
            The four steps of the batch API in one command: upload the control file, create a batch, \
            upload each file under its name, schedule it. The batch id is printed on stdout, alone, \
            as the last line; progress and the summary go to stderr. Requests that fail on the way are \
            retried (uploads are safe to repeat).

            Examples:
              intake push --server https://intake.example.ac.uk \\
                  --control people.json --file people=staff.csv --wait
              INTAKE_API_KEY=ik_… intake push --control control.json \\
                  --file data0=data.json --dry-run --wait --json

            \(ImportExitStatus.help) Without --wait, 0 means the batch was scheduled.
            """)

    @OptionGroup var server: ServerOptions

    @Option(help: "The control file.") var control: String

    @Option(name: .customLong("file"), help: "NAME=PATH: a data file and its name in the control file (repeatable).")
    var files: [String] = []

    @Option(help: "A comment for the control file and the batch.") var comment: String?

    @Flag(help: "Schedule a dry run: transform everything, commit nothing.") var dryRun = false

    @Flag(help: "A feed batch transforms every record, skipping none (docs/feeds.md).") var force = false

    @Option(help: "Stop the batch once it has more than N errors, over the control file's errorPolicy.") var maxErrors: Int?

    @Flag(help: "Wait for the batch to finish, showing its progress, then summarise it.") var wait = false

    @Flag(help: "Print the final status document (with --wait) or the batch id as JSON on stdout.") var json = false

    func run() async throws {
        let pairs = try FileArgument.parse(files)
        try await reportingFailures { try await server.withClient { client in try await push(client, pairs) } }
    }

    private func push(_ client: BatchClient, _ pairs: [(name: String, path: String)]) async throws {
        // Every file is checked before the first request, so a typo leaves no half-made batch.
        for path in [control] + pairs.map(\.path) where !FileManager().isReadableFile(atPath: path) {
            throw ClientFailure(.rejected, "Cannot read the file \(path)")
        }
        let terminal = Terminal.standardError
        let controlDigest = try await client.uploadControl(
            path: control, comment: comment, progress: terminal.uploadProgress(label: "control file"))
        terminal.line("Uploaded the control file \(control)")
        let batch = try await client.createBatch(control: controlDigest, comment: comment)
        for (name, path) in pairs {
            _ = try await client.uploadFile(batch: batch, name: name, path: path, progress: terminal.uploadProgress(label: name))
            terminal.line("Uploaded \(name) from \(path)")
        }
        try await client.schedule(batch: batch, dryRun: dryRun, force: force, maxErrors: maxErrors)
        terminal.line("Scheduled batch \(batch)\(dryRun ? " as a dry run" : "")")
        guard wait else {
            print(json ? #"{"batch":"\#(batch)","control":"\#(controlDigest)"}"# : batch)
            return
        }
        let status = try await BatchWaiter(client: client, terminal: terminal).wait(batch: batch)
        try await BatchWaiter.summarise(status, client: client, terminal: terminal)
        print(json ? try await client.statusText(batch: batch) : batch)
        let exit = ImportExitStatus.of(state: status.state, recordsFailed: status.progress.recordsFailed, errors: status.errors)
        if exit != 0 { throw ExitCode(exit) }
    }
}

/// The summary of a batch in lines: what it did per destination, then a feed's skipped and left
/// records, and why a held batch waits.
func summaryLines(_ status: BatchStatus) -> [String] {
    var lines: [String] = []
    if let summary = status.summary {
        for (name, c) in summary.destinations.sorted(by: { $0.key < $1.key }) {
            lines.append("\(name): \(c.created) created, \(c.updated) updated, \(c.unchanged) unchanged, \(c.deleted) deleted")
        }
        if let feed = status.feed { lines.append("feed \(feed): \(summary.skipped) skipped, \(summary.left) left") }
    }
    if let notApplied = status.progress.recordsNotApplied, notApplied > 0 {
        lines.append("nothing applied: the control file asks for all or nothing; \(notApplied) records would have been applied")
    }
    if let held = status.held {
        let what = held.reason == "leavers" ? "\(held.count) of \(held.of) keys would leave" : "\(held.count) records against \(held.of)"
        lines.append(
            "held: \(what), more than the limit of \(held.limit); intake approve \(status.identifier) or intake cancel \(status.identifier)")
    }
    return lines
}

/// Polls a batch's status until it finishes, drawing its progress on a terminal.
struct BatchWaiter {
    let client: BatchClient
    let terminal: Terminal

    func wait(batch: String) async throws -> BatchStatus {
        var delay = Duration.milliseconds(200)
        while true {
            let status = try await client.status(batch: batch)
            if status.isFinished {
                terminal.clearProgress()
                return status
            }
            let p = status.progress
            let fraction = p.bytesTotal > 0 ? Double(p.bytesRead) / Double(p.bytesTotal) : 0
            terminal.progress(
                fraction: status.state == "running" ? fraction : nil,
                "\(status.state): \(p.recordsRead) records read, \(p.recordsApplied) applied, \(p.recordsFailed) failed")
            try await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(2))
        }
    }

    /// The summary of a finished batch, with its first error lines from the log.
    static func summarise(_ status: BatchStatus, client: BatchClient, terminal: Terminal) async throws {
        let p = status.progress
        let ok = ImportExitStatus.of(state: status.state, recordsFailed: p.recordsFailed, errors: status.errors) == 0
        terminal.line(
            "\(terminal.coloured(status.state, ok ? .green : .red)): \(p.recordsRead) records read, \(p.recordsApplied) applied, "
                + "\(p.recordsFailed) failed, \(p.recordsUnchanged) unchanged, \(status.errors) errors (batch \(status.identifier))")
        for line in summaryLines(status) { terminal.line("  " + line) }
        guard status.errors > 0 else { return }
        var shown = 0
        struct Enough: Error {}
        do {
            try await client.log(batch: status.identifier) { line in
                if line.hasPrefix("START: ") || line.hasPrefix("END: ") { return }
                if shown == 5 { throw Enough() }
                terminal.line("  " + line)
                shown += 1
            }
        } catch is Enough {
            terminal.line("  … (intake log \(status.identifier) shows them all)")
        }
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Print a batch's status document (JSON) from a server.",
        discussion: "Example: intake status --server http://127.0.0.1:8080 01JBATCHID")
    @OptionGroup var server: ServerOptions
    @Argument(help: "The batch id.") var batch: String
    @Flag(help: "Wait for the batch to finish first, showing its progress.") var wait = false

    func run() async throws {
        try await reportingFailures {
            try await server.withClient { client in
                if wait { _ = try await BatchWaiter(client: client, terminal: .standardError).wait(batch: batch) }
                print(try await client.statusText(batch: batch))
            }
        }
    }
}

struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log", abstract: "Print a batch's log from a server (streamed).",
        discussion: "Example: intake log 01JBATCHID | grep -v '^START\\|^END'")
    @OptionGroup var server: ServerOptions
    @Argument(help: "The batch id.") var batch: String

    func run() async throws {
        try await reportingFailures {
            try await server.withClient { client in try await client.log(batch: batch) { print($0) } }
        }
    }
}

struct ResultsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "results", abstract: "Print a batch's per-record results (NDJSON) from a server (streamed).",
        discussion: """
            Examples:
              intake results --failed 01JBATCHID > failed.ndjson
              intake results --failed --format original --file staff 01JBATCHID \\
                  > staff-failed.csv
            With --format original the failed records come as they were in the file, with their errors \
            added (_errors): fix them there and upload the file again. A batch with failures in several \
            files gives a zip unless --file names one.
            """)
    @OptionGroup var server: ServerOptions
    @Argument(help: "The batch id.") var batch: String
    @Flag(help: "Only the records that failed.") var failed = false
    @Option(help: "Only records with this status: applied, failed, unchanged or dry-run (repeatable).") var status: [String] = []
    @Option(help: "With --failed: original (as in the files, with _errors), json or csv (a table of the failures).")
    var format: String?
    @Option(help: "With --format: one file's failed records.") var file: String?

    func validate() throws {
        if format != nil && !failed { throw ValidationError("--format needs --failed") }
        if file != nil && format == nil { throw ValidationError("--file needs --format") }
    }

    func run() async throws {
        try await reportingFailures {
            try await server.withClient { client in
                if let format {
                    let output = FileHandle.standardOutput
                    try await client.failedRecords(batch: batch, format: format, file: file) { buffer in
                        try output.write(contentsOf: Data(buffer.readableBytesView))
                    }
                    return
                }
                try await client.results(batch: batch, statuses: status + (failed ? ["failed"] : [])) { print($0) }
            }
        }
    }
}

/// cancel, copy and rollback: one POST with the batch id, whose answer is printed.
struct BatchActionCommand<Action: BatchAction>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: Action.name, abstract: Action.abstract, discussion: "Example: intake \(Action.name) 01JBATCHID")
    }
    @OptionGroup var server: ServerOptions
    @Argument(help: "The batch id.") var batch: String

    func run() async throws {
        try await reportingFailures {
            try await server.withClient { client in print(try await Action.perform(client, batch)) }
        }
    }
}

protocol BatchAction {
    static var name: String { get }
    static var abstract: String { get }
    static func perform(_ client: BatchClient, _ batch: String) async throws -> String
}

enum CancelAction: BatchAction {
    static let name = "cancel"
    static let abstract = "Cancel a batch that has not finished (a running one stops after its current record)."
    static func perform(_ client: BatchClient, _ batch: String) async throws -> String { try await client.cancel(batch: batch) }
}

enum ApproveAction: BatchAction {
    static let name = "approve"
    static let abstract = "Let a batch that a feed's guard held go on (its leavers, or its records, are applied)."
    static func perform(_ client: BatchClient, _ batch: String) async throws -> String { try await client.approve(batch: batch) }
}

enum CopyAction: BatchAction {
    static let name = "copy"
    static let abstract = "Copy a batch (same control file and files) into a new one to upload or schedule; prints the new id."
    static func perform(_ client: BatchClient, _ batch: String) async throws -> String { try await client.copy(batch: batch) }
}

struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Undo a complete batch: delete what it created, restore what it changed (unless changed since).",
        discussion: "Example: intake rollback --preview 01JBATCHID, then intake rollback 01JBATCHID")
    @OptionGroup var server: ServerOptions
    @Flag(help: "Print what the rollback would do (JSON), changing nothing.") var preview = false
    @Argument(help: "The batch id.") var batch: String

    func run() async throws {
        try await reportingFailures {
            try await server.withClient { client in
                print(preview ? try await client.rollbackPreview(batch: batch) : try await client.rollback(batch: batch))
            }
        }
    }
}

struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Schedule a batch whose files are uploaded (a copy, a retry), for real or as a dry run.",
        discussion: """
            Examples:
              intake push --control control.json --file data0=data.json --dry-run \\
                  --wait   # then, if it looks right:
              intake schedule $(intake copy 01JBATCHID) --wait
            \(ImportExitStatus.help)
            """)
    @OptionGroup var server: ServerOptions
    @Argument(help: "The batch id (its state must be uploading).") var batch: String
    @Flag(help: "Schedule a dry run: transform everything, commit nothing.") var dryRun = false
    @Flag(help: "A feed batch transforms every record, skipping none (docs/feeds.md).") var force = false
    @Flag(help: "Wait for the batch to finish, showing its progress, then summarise it.") var wait = false

    func run() async throws {
        try await reportingFailures {
            try await server.withClient { client in
                let terminal = Terminal.standardError
                try await client.schedule(batch: batch, dryRun: dryRun, force: force)
                terminal.line("Scheduled batch \(batch)\(dryRun ? " as a dry run" : "")")
                print(batch)
                guard wait else { return }
                try await Self.waitAndSummarise(batch, client: client, terminal: terminal)
            }
        }
    }

    /// Waits for a scheduled batch, prints its summary, and exits as `ImportExitStatus` says.
    static func waitAndSummarise(_ batch: String, client: BatchClient, terminal: Terminal) async throws {
        let status = try await BatchWaiter(client: client, terminal: terminal).wait(batch: batch)
        try await BatchWaiter.summarise(status, client: client, terminal: terminal)
        let exit = ImportExitStatus.of(state: status.state, recordsFailed: status.progress.recordsFailed, errors: status.errors)
        if exit != 0 { throw ExitCode(exit) }
    }
}

struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Put the failed records of a batch in a new batch, replace any of its files with fixed ones, and schedule it.",
        discussion: """
            Examples:
              intake retry 01JBATCHID --wait
              intake results --failed --format original --file staff 01JBATCHID \\
                  > staff.csv   # fix the rows, then:
              intake retry 01JBATCHID --file staff=staff.csv --wait
            A --file replaces the new batch's file of that name (the failed records as they were); \
            a file given back with its _errors column or member imports the same. The new batch's id is \
            printed on stdout. \(ImportExitStatus.help)
            """)
    @OptionGroup var server: ServerOptions
    @Argument(help: "The batch whose failed records to retry.") var batch: String
    @Option(name: .customLong("file"), help: "NAME=PATH: a fixed file to use instead of the failed records of NAME (repeatable).")
    var files: [String] = []
    @Flag(help: "Schedule a dry run.") var dryRun = false
    @Flag(help: "Wait for the new batch to finish, then summarise it.") var wait = false

    func run() async throws {
        let pairs = try FileArgument.parse(files)
        for path in pairs.map(\.path) where !FileManager().isReadableFile(atPath: path) {
            throw ClientFailure(.rejected, "Cannot read the file \(path)")
        }
        try await reportingFailures {
            try await server.withClient { client in
                let terminal = Terminal.standardError
                let retry = try await client.retry(batch: batch)
                terminal.line("Created batch \(retry) with the failed records of \(batch)")
                for (name, path) in pairs {
                    _ = try await client.uploadFile(batch: retry, name: name, path: path, progress: terminal.uploadProgress(label: name))
                    terminal.line("Replaced \(name) with \(path)")
                }
                try await client.schedule(batch: retry, dryRun: dryRun, force: false)
                terminal.line("Scheduled batch \(retry)\(dryRun ? " as a dry run" : "")")
                print(retry)
                guard wait else { return }
                try await ScheduleCommand.waitAndSummarise(retry, client: client, terminal: terminal)
            }
        }
    }
}

struct BatchesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batches", abstract: "List the newest batches on a server (JSON; the key needs the read scope).",
        discussion: "Example: intake batches --limit 20")
    @OptionGroup var server: ServerOptions
    @Option(help: "How many batches.") var limit = 50

    func run() async throws {
        try await reportingFailures {
            try await server.withClient { client in print(try await client.batches(limit: limit)) }
        }
    }
}

struct FeedsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feeds", abstract: "List the feeds on a server with their key counts and last night (JSON; read scope).",
        discussion: "Example: intake feeds")
    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await reportingFailures { try await server.withClient { client in print(try await client.feeds()) } }
    }
}

struct FeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feed", abstract: "Show one feed, or with --keys the keys it remembers (JSON; read scope).",
        discussion: "Examples: intake feed hr-staff; intake feed hr-staff --keys --state left")
    @OptionGroup var server: ServerOptions
    @Argument(help: "The feed's name.") var name: String
    @Flag(help: "List the feed's keys instead.") var keys = false
    @Option(help: "With --keys: only active or left keys.") var state: String?
    @Option(help: "With --keys: start after this FILE/KEY (the `next` of the previous page).") var after: String?
    @Option(help: "With --keys: how many keys.") var limit = 100

    func validate() throws {
        if let state, !["active", "left"].contains(state) { throw ValidationError("--state is active or left") }
    }

    func run() async throws {
        try await reportingFailures {
            try await server.withClient { client in
                print(keys ? try await client.feedKeys(name: name, state: state, after: after, limit: limit) : try await client.feed(name: name))
            }
        }
    }
}

/// `--file NAME=PATH` arguments.
enum FileArgument {
    static func parse(_ arguments: [String]) throws -> [(name: String, path: String)] {
        try arguments.map { argument in
            guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else {
                throw ValidationError("--file expects NAME=PATH, got '\(argument)'.")
            }
            return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
        }
    }
}
