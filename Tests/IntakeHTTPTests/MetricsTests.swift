import Foundation
import IntakeCore
import IntakeStore
import Testing

@Suite struct MetricsTests {
    @Test func prometheusTextAfterARun() async throws {
        try await TestServer.start().scoped { server in
            let client = BatchClient(server)
            let batch = try await client.prepareBatch(
                control: Fixtures.examples.appendingPathComponent("control.json"),
                files: [("data0", Fixtures.examples.appendingPathComponent("data.json"))])
            _ = try await client.schedule(batch: batch)
            _ = try await client.waitForBatch(batch)
            _ = try await Curl.run(["\(server.base)/api/haplo-data-import-batch/status"])  // 401, counted too
            let metrics = try await Curl.run(["\(server.base)/metrics"])
            #expect(metrics.status == 200)
            let lines = Set(metrics.body.split(separator: "\n").map(String.init))
            #expect(lines.contains(#"intake_records_total{result="applied"} 3"#))
            #expect(lines.contains(#"intake_records_total{result="failed"} 0"#))
            #expect(lines.contains("intake_uploads_total 2"))
            #expect(lines.contains("intake_queue_depth 0.0"))
            #expect(lines.contains(#"intake_build_info{version="\#(IntakeVersion.current)"} 1.0"#))
            #expect(lines.contains(#"intake_http_request_duration_seconds_count{method="POST"} 4"#))
            // Every GET is timed: the histogram's count is the sum of the GET request counters.
            func value(_ prefix: String) -> [Double] { lines.filter { $0.hasPrefix(prefix) }.compactMap { Double($0.split(separator: " ").last!) } }
            #expect(value(#"intake_http_request_duration_seconds_count{method="GET"}"#) == [value(#"intake_http_requests_total{method="GET""#).reduce(0, +)])
            #expect(lines.contains { $0.hasPrefix("intake_last_successful_batch_timestamp_seconds ") })
            #expect(lines.contains(#"intake_http_requests_total{method="GET",status="401"} 1"#))
            #expect(lines.contains(#"intake_batch_duration_seconds_count{state="complete"} 1"#))
        }
    }

    @Test func metricsCanRequireAReadKey() async throws {
        try await TestServer.start(scope: .batch, metricsRequireKey: true).scoped { server in
            #expect(try await Curl.run(["\(server.base)/metrics"]).status == 401)
            #expect(try await BatchClient(server).get("/metrics").status == 403)  // a batch-scope key
            let readKey = APIKeyHashing.newKey()
            _ = try await server.store.createAPIKey(name: "scraper", scope: .read, hash: APIKeyHashing.hash(readKey), now: Date())
            #expect(try await BatchClient(server, key: readKey).get("/metrics").status == 200)
        }
    }

    @Test func headAndOptionsOnKnownPaths() async throws {
        try await TestServer.start().scoped { server in
            let head = try await Curl.run(["-I", "\(server.base)/health"])
            #expect(head.status == 200)
            #expect(!head.body.hasSuffix("OK"))  // curl -I writes the headers where the body would go
            let options = try await Curl.run(["-X", "OPTIONS", "\(server.base)/api/haplo-data-import-batch/control"])
            #expect(options.status == 405)
            #expect(options.headers.lowercased().contains("allow: post"))
            let headOnPost = try await Curl.run(["-I", "\(server.base)/api/haplo-data-import-batch/schedule"])
            #expect(headOnPost.status == 405)
            let headStatus = try await Curl.run(["-I", "--user", "haplo:\(server.apiKey)", "\(server.base)/api/haplo-data-import-batch/status?batch=nope"])
            #expect(headStatus.status == 400)
            #expect(try await Curl.run(["-X", "OPTIONS", "\(server.base)/nope"]).status == 404)
        }
    }
}
