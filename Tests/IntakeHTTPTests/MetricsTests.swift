import Foundation
import Testing

@Suite struct MetricsTests {
    @Test func prometheusTextAfterARun() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let client = BatchClient(server)
        let batch = try await client.prepareBatch(control: Fixtures.examples.appendingPathComponent("control.json"),
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
        #expect(lines.contains("intake_queue_depth 0"))
        #expect(lines.contains(#"intake_http_requests_total{method="GET",status="401"} 1"#))
        #expect(lines.contains(#"intake_batch_duration_seconds_count{state="complete"} 1"#))
    }
}
