import Foundation
import IntakeCore
import IntakeRunner
import IntakeStore
import Logging

/// The refusals of the push API definition use cases.
package enum PushAPIError: UserFacingError, Equatable {
    case invalidName(String)
    case invalidBodyLimit(Int)
    case invalidDescription
    case exists(String)
    case notFound(String)
    case noFileSpecification

    package var kind: ErrorKind {
        switch self {
        case .exists: .conflict
        default: .invalidRequest
        }
    }

    package var userMessage: String {
        switch self {
        case .invalidName(let name):
            "Invalid push API name: \(name.escapingControlCharacters) (use 1 to 64 of a-z, 0-9 and '-')"
        case .invalidBodyLimit(let limit): "Invalid body limit: \(limit) (use 1 to \(PushAPIRecord.maxBodyLimit) bytes)"
        case .invalidDescription: "A push API's description is at most 1000 characters, on one line"
        case .exists(let name): "A push API named \(name.escapingControlCharacters) exists already"
        case .notFound(let name): "No push API named \(name.escapingControlCharacters)"
        case .noFileSpecification:
            "A push API's control file needs a DEFAULT (or \"body\") file specification: the request body is its file \"body\""
        }
    }
}

extension PushAPIRecord {
    /// Bodies are read into memory whole (one record, or a few): 1 MiB unless the API says otherwise.
    package static let defaultBodyLimit = 1 << 20
    package static let maxBodyLimit = 64 << 20
    /// The name of the file a call's body becomes, as in the original.
    package static let bodyFileName = "body"

    package static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count) && name.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }
    }
}

/// Where a push API's control file comes from: a new upload (checked as any upload is), or one of
/// the control files uploaded before.
package enum PushAPIControlSource {
    case upload(any BlobUpload)
    case stored(Digest)

    package func discard() { if case .upload(let upload) = self { upload.discard() } }
}

/// What a push API call answers (the original's response: `result`, `applied`, `failures`,
/// `errorCount`, `errors`, `actions`), whatever format it is written in.
package struct PushOutcome: Sendable, Equatable {
    package enum Result: String, Sendable {
        case success, failure, error
        case notAuthorised = "not authorised"
    }

    /// One record: its identifier and the objects it saved.
    package struct Action: Sendable, Equatable {
        package var record: String
        package var changed: [Change]

        package init(record: String, changed: [Change]) {
            self.record = record
            self.changed = changed
        }
    }

    package struct Change: Sendable, Equatable {
        package var kind: String
        package var destination: String
        package var ref: String
        package var isNew: Bool

        package init(kind: String, destination: String, ref: String, isNew: Bool) {
            self.kind = kind
            self.destination = destination
            self.ref = ref
            self.isNew = isNew
        }
    }

    package var result: Result
    package var applied = 0
    package var failures = 0
    package var errorCount = 0
    package var errors: [String] = []
    package var actions: [Action] = []
    /// The batch the call was recorded as; nil when it was refused before.
    package var batch: BatchID?

    package static func refused(_ message: String) -> PushOutcome {
        PushOutcome(result: .error, errorCount: 1, errors: [message])
    }

    package static let notAuthorised = PushOutcome(result: .notAuthorised, errorCount: 1)

    /// A GET: the original answers it with this and no `actions`.
    package static let onlyPOST = "Only POST requests supported for push data REST APIs."

    package static func notDefined(_ name: String) -> PushOutcome { refused("API not defined: \(name)") }
    package static func disabled(_ name: String) -> PushOutcome { refused("API is disabled: \(name)") }
}

extension ImportService {
    // MARK: Defining push APIs

    /// Defines a push API over an uploaded control file, checked as any upload is.
    package func createPushAPI(
        name: String, description: String, enabled: Bool, response: PushResponseFormat, control source: PushAPIControlSource,
        bodyLimit: Int?, by: String
    ) async throws -> PushAPIRecord {
        defer { source.discard() }
        guard PushAPIRecord.isValidName(name) else { throw PushAPIError.invalidName(name) }
        let checked = try Self.checkedPushAPIFields(description: description, bodyLimit: bodyLimit ?? PushAPIRecord.defaultBodyLimit)
        let control = try await pushAPIControl(source, name: name, by: by)
        let now = environment.now()
        let api = PushAPIRecord(
            name: name, description: checked.description, enabled: enabled, response: response, control: control.hex,
            bodyLimit: checked.bodyLimit, created: now, updated: now)
        do {
            try await store.createPushAPI(api)
        } catch StoreError.pushAPIExists {
            throw PushAPIError.exists(name)
        }
        try await store.recordAudit(
            event: "push API created", batch: nil, detail: "\(name) \(enabled ? "enabled" : "disabled") by \(by)", now: now)
        return api
    }

    /// Changes what is given of a push API (never its name); a new control file is checked as an
    /// upload is.
    package func updatePushAPI(
        name: String, description: String? = nil, enabled: Bool? = nil, response: PushResponseFormat? = nil,
        control source: PushAPIControlSource? = nil, bodyLimit: Int? = nil, by: String
    ) async throws -> PushAPIRecord {
        defer { source?.discard() }
        guard var api = try await store.pushAPI(named: name) else { throw PushAPIError.notFound(name) }
        let checked = try Self.checkedPushAPIFields(description: description ?? api.description, bodyLimit: bodyLimit ?? api.bodyLimit)
        let before = api.control
        if let source { api.control = try await pushAPIControl(source, name: name, by: by).hex }
        (api.description, api.bodyLimit) = (checked.description, checked.bodyLimit)
        if let enabled { api.enabled = enabled }
        if let response { api.response = response }
        api.updated = environment.now()
        guard try await store.updatePushAPI(api) else { throw PushAPIError.notFound(name) }
        var changed: [String] = []
        if let enabled { changed.append(enabled ? "enabled" : "disabled") }
        if api.control != before { changed.append("control file \(api.control.prefix(12))") }
        let detail = ([name] + (changed.isEmpty ? [] : [changed.joined(separator: ", ")])).joined(separator: " ") + " by \(by)"
        try await store.recordAudit(event: "push API updated", batch: nil, detail: detail, now: api.updated)
        return api
    }

    package func pushAPIs() async throws -> [PushAPIRecord] { try await store.pushAPIs() }

    package func pushAPI(named name: String) async throws -> PushAPIRecord? { try await store.pushAPI(named: name) }

    /// Removes a push API; the batches of its calls stay.
    package func removePushAPI(name: String, by: String) async throws {
        guard try await store.deletePushAPI(name: name) else { throw PushAPIError.notFound(name) }
        try await store.recordAudit(event: "push API removed", batch: nil, detail: "\(name) by \(by)", now: environment.now())
    }

    private static func checkedPushAPIFields(description: String, bodyLimit: Int) throws -> (description: String, bodyLimit: Int) {
        guard description.count <= 1000, !description.contains(where: \.isNewline) else { throw PushAPIError.invalidDescription }
        guard (1...PushAPIRecord.maxBodyLimit).contains(bodyLimit) else { throw PushAPIError.invalidBodyLimit(bodyLimit) }
        return (description, bodyLimit)
    }

    /// Checks (and stores, when new) a push API's control file: as any control file, and it must
    /// read the body.
    private func pushAPIControl(_ source: PushAPIControlSource, name: String, by: String) async throws -> Digest {
        switch source {
        case .upload(let upload):
            try Self.checkReadsBody(try await checkControlFile(upload))
            return try await addControlFile(upload, comment: "push API \(name)", uploadedBy: by)
        case .stored(let digest):
            try Self.checkReadsBody(try await control(ofDigest: digest))
            return digest
        }
    }

    private static func checkReadsBody(_ control: JSONValue) throws {
        do {
            try checkFileName(PushAPIRecord.bodyFileName, control: control)
        } catch {
            throw PushAPIError.noFileSpecification
        }
    }

    // MARK: Calls

    /// Runs a push API's control file over a request body as a batch (comment `push NAME`, the body
    /// its file `body`), to the end, and answers as the original did. Calls to one API run one at a
    /// time, in the order they arrive at this process.
    package func push(to api: PushAPIRecord, body: [UInt8], by: String, logger: Logger) async throws -> PushOutcome {
        guard api.enabled else { return .disabled(api.name) }
        let environment = environment
        return try await environment.pushLanes.run(in: api.name) {
            try await environment.writeYield.run { try await runPush(to: api, body: body, by: by, logger: logger) }
        }
    }

    /// One call, in its lane, with imports stepping aside (`WriteYield`).
    private func runPush(to api: PushAPIRecord, body: [UInt8], by: String, logger: Logger) async throws -> PushOutcome {
        let environment = environment
        guard let digest = Digest(hex: api.control), let control = await environment.controlFile(digest) else {
            return .refused("Exception when processing: the control file of push API \(api.name) is missing")
        }
        do {
            try Self.checkFileName(PushAPIRecord.bodyFileName, control: control)
        } catch {
            return .refused("Exception when processing: \(PushAPIError.noFileSpecification.userMessage)")
        }
        // The batch is made with its file in one write (a call waits behind an import at each).
        let upload = try environment.blobs.makeUpload()
        defer { upload.discard() }
        try body.withUnsafeBytes { try upload.write($0) }
        let (fileDigest, size) = try await upload.finish()
        environment.metrics.recordUpload(bytes: size)
        let id = BatchID.random()
        let file = BatchFile(name: PushAPIRecord.bodyFileName, digest: fileDigest, size: size, filename: PushAPIRecord.bodyFileName)
        try await store.createBatch(id: id, control: digest, comment: "push \(api.name)", state: .uploading, files: [file], now: environment.now())
        try await nameFeed(of: id, control: digest)
        try await store.startDirectRun(id, dryRun: false, by: by, now: environment.now())
        guard let batch = try await store.batch(id) else { throw StoreError.batchNotFound(id) }
        _ = await BatchRun(environment: environment, batch: batch, logger: logger).runOnOwnThread()
        return try await outcome(of: id)
    }

    /// The answer to a call, from its batch's results and end.
    private func outcome(of id: BatchID) async throws -> PushOutcome {
        guard let batch = try await store.batch(id) else { throw StoreError.batchNotFound(id) }
        var outcome = PushOutcome(
            result: .success, applied: batch.progress.recordsApplied, failures: batch.progress.recordsFailed,
            errorCount: batch.progress.errors, batch: id)
        for try await page in store.resultPages(of: id) {
            for line in page {
                guard case .object(let result)? = try? JSONParser.parse(line) else { continue }
                var action = PushOutcome.Action(record: result["record"]?.stringValue ?? "", changed: [])
                for change in result["changes"]?.arrayValue ?? [] where change["kind"]?.stringValue == "object:save" {
                    action.changed.append(
                        PushOutcome.Change(
                            kind: "object:save", destination: change["destination"]?.stringValue ?? "", ref: change["ref"]?.stringValue ?? "",
                            isNew: change["new"] == .bool(true)))
                }
                outcome.actions.append(action)
                outcome.errors += (result["errors"]?.arrayValue ?? []).compactMap(\.stringValue)
            }
        }
        if outcome.failures > 0 { outcome.result = .failure }
        if batch.state != .complete {
            // The run stopped on an exception (a body that is not what the control file reads, a
            // database failure): said as the original said it.
            let log = try await store.log(of: id)
            let exception = log.last { $0.hasPrefix("EXCEPTION: ") } ?? "EXCEPTION: the call ended \(batch.state.rawValue)"
            outcome.errors.append("Exception when processing: " + Self.exceptionMessage(exception))
            // The run counts its exception among its errors already, unless it never started.
            outcome.errorCount = max(outcome.errorCount, outcome.errors.count)
            outcome.result = .error
        }
        return outcome
    }

    /// `EXCEPTION: Error during import: MESSAGE. File: …, line: …` → `MESSAGE (file …, line …)`.
    static func exceptionMessage(_ line: String) -> String {
        var text = line.dropFirst("EXCEPTION: ".count)
        if text.hasPrefix("Error during import: ") { text = text.dropFirst("Error during import: ".count) }
        return String(text)
    }
}
