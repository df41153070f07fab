import Foundation
import IntakeCore
import Testing

/// The self-contained cases in `Tests/Conformance/`, each run through the application `intake serve`
/// runs, by its router (`RoutedServer`: the cases are about what an import does, not about the
/// socket; the original's curl client itself is run against a socket in `ReferenceClientTests`).
///
/// A case folder holds `control.json`, input files named `input-NAME.EXT` (uploaded as NAME, in name
/// order), optionally `schema.json`, `mode` (the text `dry-run`), and a `before/` folder with its own
/// `control.json` and inputs, run for real first to put objects in the store. Expectations:
/// `expected-log.txt` (the log without its START and END lines), `expected-objects.json` (every
/// object after the run, in creation order, without timestamps) and optionally `expected-status.json`
/// (a subset of the status JSON).
@Suite struct ConformanceTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Conformance")

    static var cases: [String] {
        ((try? FileManager().contentsOfDirectory(atPath: root.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    @Test func thereAreEnoughCases() {
        #expect(Self.cases.count >= 20)
    }

    private static func runBatch(_ client: BatchClient, folder: URL, dryRun: Bool) async throws -> (String, JSONValue) {
        let files = try FileManager().contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("input-") }.sorted()
        let inputs = files.map { file -> (String, URL) in
            let name = String(file.dropFirst("input-".count).split(separator: ".").first ?? "")
            return (name, folder.appendingPathComponent(file))
        }
        let digest = try await client.uploadControl(folder.appendingPathComponent("control.json"))
        #expect(digest.status == 200, "control upload: \(digest.body)")
        let batch = try await client.createBatch(control: digest.body).body
        for (name, url) in inputs {
            let upload = try await client.uploadFile(batch: batch, name: name, file: url)
            #expect(upload.status == 200, "upload \(name): \(upload.body)")
        }
        _ = try await client.schedule(batch: batch, dryRun: dryRun)
        return (batch, try await client.waitForBatch(batch))
    }

    private static func withoutTimestamps(_ objects: [JSONValue]) -> [JSONValue] {
        objects.map { object in
            guard case .object(var o) = object else { return object }
            o["created"] = nil
            o["updated"] = nil
            return .object(o)
        }
    }

    /// Objects with their keys sorted, so expectations may list keys in any order.
    static func canonical(_ value: JSONValue) -> JSONValue {
        switch value {
        case .array(let items): return .array(items.map(canonical))
        case .object(let o):
            var sorted = JSONObject()
            for key in o.keys.sorted() { sorted[key] = canonical(o[key]!) }
            return .object(sorted)
        default: return value
        }
    }

    @Test(arguments: cases) func conformance(_ name: String) async throws {
        let folder = Self.root.appendingPathComponent(name)
        var schema = StandardSchema.make()
        let schemaURL = folder.appendingPathComponent("schema.json")
        if FileManager().fileExists(atPath: schemaURL.path) {
            try SchemaFile.apply(try JSONParser.parse(Array(try Data(contentsOf: schemaURL))), named: "schema.json", to: &schema)
        }
        try await RoutedServer.run(schema: schema) { server in
            let client = BatchClient(server)

            let before = folder.appendingPathComponent("before")
            if FileManager().fileExists(atPath: before.path) {
                let (_, status) = try await Self.runBatch(client, folder: before, dryRun: false)
                #expect(status["state"] == .string("complete"), "before: \(status)")
            }
            let mode = (try? String(contentsOf: folder.appendingPathComponent("mode"), encoding: .utf8)) ?? ""
            let (batch, status) = try await Self.runBatch(client, folder: folder, dryRun: mode.contains("dry-run"))

            let logBody = try await client.get("/api/haplo-data-import-batch/log?batch=\(batch)").body
            #expect(logBody.hasSuffix("\n"))  // docs/api.md: the log ends with a newline
            let log = logBody.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
                .filter { !$0.hasPrefix("START: ") && !$0.hasPrefix("END: ") }
            let expectedLog = try String(contentsOf: folder.appendingPathComponent("expected-log.txt"), encoding: .utf8)
                .split(separator: "\n").map(String.init)
            #expect(log == expectedLog)

            let objects = try JSONParser.parse(try await client.get("/api/v1/objects?limit=1000").body)["objects"]?.arrayValue ?? []
            let expectedObjects = try JSONParser.parse(Array(try Data(contentsOf: folder.appendingPathComponent("expected-objects.json"))))
            #expect(Self.canonical(.array(Self.withoutTimestamps(objects))).compactJSON == Self.canonical(expectedObjects).compactJSON)

            let statusURL = folder.appendingPathComponent("expected-status.json")
            if FileManager().fileExists(atPath: statusURL.path) {
                let expected = try JSONParser.parse(Array(try Data(contentsOf: statusURL))).objectValue ?? JSONObject()
                for (key, value) in expected.pairs {
                    let actual = key == "state" || key == "errors" ? status[key] : status["progress"]?[key]
                    #expect(actual == value, "status \(key)")
                }
            }
        }
    }
}
