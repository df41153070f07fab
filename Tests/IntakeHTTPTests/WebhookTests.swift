import Crypto
import Foundation
import IntakeCore
import IntakeStore
import Testing

/// A real HTTP receiver on loopback (a small Python server, `Support/webhook-receiver.py`) that logs
/// every request it gets, and answers as told: 500 to the first requests, never, or a redirect.
final class WebhookReceiver: @unchecked Sendable {
    let process: Process
    let port: Int
    let logFile: URL

    var url: String { "http://127.0.0.1:\(port)/hook" }

    init(_ options: [String] = []) throws {
        logFile = FileManager().temporaryDirectory.appendingPathComponent("webhook-\(UUID().uuidString).jsonl")
        _ = FileManager().createFile(atPath: logFile.path, contents: nil)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/webhook-receiver.py")
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, logFile.path] + options
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        var line = ""
        while !line.hasSuffix("\n") {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            line += String(decoding: data, as: UTF8.self)
        }
        guard let port = Int(line.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "the receiver did not start: \(line)"])
        }
        self.port = port
    }

    struct Received {
        var headers: [String: String]
        var body: String
        func header(_ name: String) -> String? { headers.first { $0.key.lowercased() == name.lowercased() }?.value }
    }

    var received: [Received] {
        let text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line -> Received? in
            guard let json = try? JSONParser.parse(String(line)), let body = json["body"]?.stringValue else { return nil }
            var headers: [String: String] = [:]
            if case .object(let object)? = json["headers"] {
                for (name, value) in zip(object.keys, object.values) { headers[name] = value.stringValue }
            }
            return Received(headers: headers, body: body)
        }
    }

    /// SIGKILL without waiting (a `defer` cannot wait, and a blocking wait would hold a thread of
    /// the cooperative pool that the server under test needs).
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager().removeItem(at: logFile)
    }
}

/// Webhooks (docs/feeds.md "Webhooks") on a real server and store, delivering to real receivers:
/// signed bodies, retries with back-off, a receiver that never answers, no redirects, feeds'
/// `notify`, and deliveries that survive a restart.
@Suite struct WebhookTests {
    static let secret = "whsec_test"

    static func number(_ value: JSONValue?) -> Double? {
        if case .number(let n)? = value { n } else { nil }
    }

    static func deliveries(_ client: BatchClient, _ batch: String) async throws -> [JSONValue] {
        let answer = try await client.get("/api/haplo-data-import-batch/deliveries?batch=\(batch)")
        #expect(answer.status == 200, "\(answer.body)")
        return try JSONParser.parse(answer.body)["deliveries"]?.arrayValue ?? []
    }

    /// Waits until every delivery of the batch satisfies `done`.
    static func waitForDeliveries(
        _ client: BatchClient, _ batch: String, timeout: TimeInterval = 60, until done: ([JSONValue]) -> Bool
    ) async throws -> [JSONValue] {
        let deadline = Date().addingTimeInterval(timeout)
        var last: [JSONValue] = []
        while Date() < deadline {
            last = try await deliveries(client, batch)
            if done(last) { return last }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("deliveries did not get there in \(timeout) s: \(last)")
        return last
    }

    static func runExample(_ client: BatchClient) async throws -> String {
        let batch = try await client.prepareBatch(
            control: Fixtures.examples.appendingPathComponent("control.json"), files: [("data0", Fixtures.examples.appendingPathComponent("data.json"))])
        #expect(try await client.schedule(batch: batch).status == 200)
        _ = try await client.waitForBatch(batch)
        return batch
    }

    @Test func aFinishedBatchIsDeliveredSignedAndRetriedUntilTheReceiverTakesIt() async throws {
        let receiver = try WebhookReceiver(["--fail-first", "2"])
        defer { receiver.stop() }
        try await TestServer.start(webhookPollInterval: .milliseconds(200)).scoped { server in
            try await server.store.createWebhook(
                name: "ops", url: receiver.url, events: [.finished, .held], everyBatch: true, secret: Self.secret, now: Date())
            let client = BatchClient(server)
            let batch = try await Self.runExample(client)

            let deliveries = try await Self.waitForDeliveries(client, batch) { $0.first?["state"] == .string("delivered") }
            #expect(deliveries.count == 1)
            let delivery = try #require(deliveries.first)
            #expect(delivery["event"] == .string("batch.finished"))
            #expect(delivery["batchState"] == .string("complete"))
            let attempts = delivery["attempts"]?.arrayValue ?? []
            #expect(attempts.map { $0["status"] } == [.number(500), .number(500), .number(200)], "\(attempts)")

            // Three requests, the same body and delivery ID each time, each signed over its own timestamp.
            let received = receiver.received
            #expect(received.count == 3)
            #expect(Set(received.map(\.body)).count == 1)
            for request in received {
                #expect(request.header("Content-Type") == "application/json")
                #expect(request.header("Intake-Event") == "batch.finished")
                #expect(request.header("Intake-Delivery") == delivery["delivery"]?.stringValue)
                let signature = try #require(request.header("Intake-Signature"))
                let parts = Dictionary(
                    uniqueKeysWithValues: signature.split(separator: ",").map { part in
                        let pair = part.split(separator: "=", maxSplits: 1)
                        return (String(pair[0]), String(pair.count > 1 ? pair[1] : ""))
                    })
                let timestamp = try #require(parts["t"])
                let mac = HMAC<SHA256>.authenticationCode(
                    for: Data("\(timestamp).\(request.body)".utf8), using: SymmetricKey(data: Data(Self.secret.utf8)))
                #expect(parts["v1"] == mac.map { String(format: "%02x", $0) }.joined())
                #expect(abs(Double(timestamp)! - Date().timeIntervalSince1970) < 120)
            }
            let body = try JSONParser.parse(try #require(received.first).body)
            #expect(body["event"] == .string("batch.finished"))
            #expect(body["delivery"] == delivery["delivery"])
            #expect(body["batch"]?["identifier"] == .string(batch))
            #expect(body["batch"]?["state"] == .string("complete"))
            #expect(body["batch"]?["summary"]?["failed"] == .number(0))
            let errors = try #require(Self.number(body["batch"]?["errors"]))
            #expect(body["batch"]?["errorLines"]?.arrayValue?.count == min(5, Int(errors)))
            #expect(body["links"]?["status"] == .string("\(server.base)/api/haplo-data-import-batch/status?batch=\(batch)"))
            #expect(body["links"]?["admin"] == .string("\(server.base)/admin/batches/\(batch)"))
        }
    }

    @Test func aReceiverThatNeverAnswersOrRedirectsIsAFailedAttemptTriedAgainLater() async throws {
        let silent = try WebhookReceiver(["--hang"])
        defer { silent.stop() }
        let elsewhere = try WebhookReceiver()
        defer { elsewhere.stop() }
        let redirecting = try WebhookReceiver(["--redirect", elsewhere.url])
        defer { redirecting.stop() }
        try await TestServer.start(webhookPollInterval: .milliseconds(200)).scoped { server in
            for (name, url) in [("silent", silent.url), ("redirecting", redirecting.url)] {
                try await server.store.createWebhook(name: name, url: url, events: [.finished], everyBatch: true, secret: Self.secret, now: Date())
            }
            let client = BatchClient(server)
            let batch = try await Self.runExample(client)
            let deliveries = try await Self.waitForDeliveries(client, batch) { deliveries in
                deliveries.count == 2 && deliveries.allSatisfy { ($0["attempts"]?.arrayValue?.count ?? 0) >= 2 }
            }
            for delivery in deliveries {
                #expect(delivery["state"] == .string("pending"), "\(delivery)")
                #expect(delivery["nextAttempt"] != .null)
                let first = try #require(delivery["attempts"]?.arrayValue?.first)
                if delivery["webhook"] == .string("silent") {
                    #expect(first["status"] == .null)
                    #expect(first["error"] == .string("no answer within 2 s"))
                    #expect((Self.number(first["milliseconds"]) ?? 0) >= 1900)
                } else {
                    #expect(first["status"] == .number(302))
                }
            }
            #expect(elsewhere.received.isEmpty, "a redirect was followed")
        }
    }

    @Test func feedsNotifyTheirOwnWebhooksOfHeldAndFinishedNights() async throws {
        let hr = try WebhookReceiver()
        defer { hr.stop() }
        let other = try WebhookReceiver()
        defer { other.stop() }
        try await TestServer.start(webhookPollInterval: .milliseconds(200)).scoped { server in
            try await server.store.createWebhook(name: "hr", url: hr.url, events: [.finished, .held], everyBatch: false, secret: "a", now: Date())
            try await server.store.createWebhook(name: "other", url: other.url, events: [.finished, .held], everyBatch: false, secret: "b", now: Date())
            let client = BatchClient(server)
            let control = FeedTests.peopleControl(guard: #", "guard": {"maxRecordCountChange": "50%"}, "notify": ["hr", "nobody"]"#)
            let everyone = (1...20).map { (String($0), "P\($0)", "Person") }
            let first = try await FeedTests.night(client, control: control, data: FeedTests.csv(everyone))
            let held = try await FeedTests.night(client, control: control, data: FeedTests.csv(Array(everyone[0..<5])))
            #expect(held.state == "held")
            let heldDeliveries = try await Self.waitForDeliveries(client, held.batch) { $0.first?["state"] == .string("delivered") }
            #expect(heldDeliveries.map { $0["event"] } == [.string("batch.held")])
            let body = try JSONParser.parse(try #require(hr.received.last).body)
            #expect(body["batch"]?["held"]?["reason"] == .string("record-count"))
            #expect(body["batch"]?["feed"] == .string("hr-staff"))

            #expect(try await client.post("cancel", ["batch": held.batch]).body == "CANCELLED")
            let cancelled = try await Self.waitForDeliveries(client, held.batch) { $0.count == 2 && $0[1]["state"] == .string("delivered") }
            #expect(cancelled.last?["batchState"] == .string("cancelled"))
            let firstDeliveries = try await Self.deliveries(client, first.batch)
            #expect(firstDeliveries.map { $0["webhook"] } == [.string("hr")])
            #expect(hr.received.map { $0.header("Intake-Event") } == ["batch.finished", "batch.held", "batch.finished"])
            #expect(other.received.isEmpty, "a webhook for notified feeds only heard about a feed that does not name it")
        }
    }

    @Test func aPendingDeliveryIsSentAfterTheServerRestarts() async throws {
        let receiver = try WebhookReceiver(["--fail-first", "1"])
        defer { receiver.stop() }
        let directory = try TestServer.makeDirectory()
        // Long waits between attempts: the second one is due only after the restart.
        let slow = DeliveryPolicy(firstRetry: 3, longestWait: 3, giveUpAfter: 60, timeout: 2, lease: 10)
        let server = try await TestServer.start(directory: directory, webhookPolicy: slow, webhookPollInterval: .milliseconds(200))
        try await server.store.createWebhook(name: "ops", url: receiver.url, events: [.finished], everyBatch: true, secret: "s", now: Date())
        let client = BatchClient(server)
        let batch = try await Self.runExample(client)
        _ = try await Self.waitForDeliveries(client, batch) { $0.first?["attempts"]?.arrayValue?.count == 1 }
        await server.stop()

        try await TestServer.start(directory: directory, apiKey: server.apiKey, webhookPolicy: slow, webhookPollInterval: .milliseconds(200)).scoped { again in
            let deliveries = try await Self.waitForDeliveries(BatchClient(again), batch) { $0.first?["state"] == .string("delivered") }
            #expect(deliveries.first?["attempts"]?.arrayValue?.count == 2)
            #expect(receiver.received.count == 2)
        }
    }

    @Test func rollingBackACompleteBatchIsAFinishedEventToo() async throws {
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        try await TestServer.start(webhookPollInterval: .milliseconds(200)).scoped { server in
            try await server.store.createWebhook(name: "ops", url: receiver.url, events: [.finished], everyBatch: true, secret: "s", now: Date())
            let client = BatchClient(server)
            let batch = try await Self.runExample(client)
            #expect(try await client.post("rollback", ["batch": batch]).status == 200)
            let deliveries = try await Self.waitForDeliveries(client, batch) { $0.count == 2 && $0.allSatisfy { $0["state"] == .string("delivered") } }
            #expect(deliveries.map { $0["batchState"] } == [.string("complete"), .string("rolled-back")])
        }
    }
}

/// The admin UI's Webhooks page and a batch page's deliveries.
@Suite struct WebhookAdminTests {
    @Test func anAdminAddsAWebhookSeesItsSecretOnceAndItsDeliveriesOnTheBatchPage() async throws {
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        try await AdminBrowser.signedIn(webhookPollInterval: .milliseconds(200)).scoped { browser in
            #expect(try await browser.get("/admin/webhooks").body.contains("There are no webhooks."))

            let refused = try await browser.post("/admin/webhooks", ["name": "ops chat", "url": "ftp://x", "event-finished": "on"])
            #expect(refused.status == 400)
            #expect(refused.body.contains("Invalid webhook name: ops chat"))
            #expect(refused.body.contains("Invalid webhook URL") == false, "one field's refusal at a time")
            let bad = try await browser.post("/admin/webhooks", ["name": "ops", "url": "ftp://x", "event-finished": "on"])
            #expect(bad.body.contains("Invalid webhook URL: ftp://x (use an http or https URL of at most 2000 characters)"))
            #expect(try await browser.server.store.webhooks().isEmpty)

            let added = try await browser.post(
                "/admin/webhooks", ["name": "ops", "url": receiver.url + "?<b>", "event-finished": "on", "batches": "every"])
            #expect(added.status == 200)
            let secret = try #require(added.body.firstMatch(of: /id="created-secret">(whsec_[0-9a-f]{64})</).map { String($0.1) })
            #expect(added.body.contains("?&lt;b&gt;"), "the URL is escaped")
            let list = try await browser.get("/admin/webhooks").body
            #expect(list.contains("batch.finished") && !list.contains(secret))
            let stored = try #require(try await browser.server.store.webhooks().first)
            #expect(stored.secret == secret && stored.events == [.finished] && stored.everyBatch)

            let client = BatchClient(browser.server)
            let batch = try await WebhookTests.runExample(client)
            _ = try await WebhookTests.waitForDeliveries(client, batch) { $0.first?["state"] == .string("delivered") }
            let page = try await browser.get("/admin/batches/\(batch)").body
            #expect(page.contains("id=\"deliveries-table\""))
            #expect(page.contains("HTTP 200"))

            #expect(try await browser.get("/admin/webhooks/ops/remove").body.contains("Remove webhook"))
            let removed = try await browser.post("/admin/webhooks/ops/remove")
            #expect(removed.status == 303)
            #expect(try await browser.server.store.webhooks().isEmpty)
        }
    }
}
