import Foundation
import Synchronization

/// Counters for `GET /metrics`, shared by the HTTP layer and the worker of one process.
/// Rendered in the Prometheus text format by hand: the handful of series below do not need a
/// metrics backend.
package final class IntakeMetrics: Sendable {
    private struct State {
        var requests: [String: Int] = [:]  // "METHOD STATUS"
        var uploads = 0
        var uploadBytes: Int64 = 0
        var records: [String: Int] = [:]  // applied / failed
        var batchSeconds: [String: (sum: Double, count: Int)] = [:]  // by final state
    }

    private let state = Mutex(State())

    package init() {}

    package func recordRequest(method: String, status: Int) {
        state.withLock { $0.requests["\(method) \(status)", default: 0] += 1 }
    }

    package func recordUpload(bytes: Int64) {
        state.withLock {
            $0.uploads += 1
            $0.uploadBytes += bytes
        }
    }

    package func recordRecords(applied: Int, failed: Int) {
        state.withLock {
            $0.records["applied", default: 0] += applied
            $0.records["failed", default: 0] += failed
        }
    }

    package func recordBatch(state finalState: String, seconds: Double) {
        state.withLock {
            var entry = $0.batchSeconds[finalState] ?? (0, 0)
            entry.sum += seconds
            entry.count += 1
            $0.batchSeconds[finalState] = entry
        }
    }

    /// The exposition text; `queueDepth` is read from the store by the caller.
    package func render(queueDepth: Int) -> String {
        let s = state.withLock { $0 }
        var out = ""
        out += "# HELP intake_http_requests_total HTTP requests answered, by method and status.\n"
        out += "# TYPE intake_http_requests_total counter\n"
        for key in s.requests.keys.sorted() {
            let parts = key.split(separator: " ")
            out += "intake_http_requests_total{method=\"\(parts[0])\",status=\"\(parts[1])\"} \(s.requests[key]!)\n"
        }
        out += "# HELP intake_uploads_total Data and control files uploaded.\n# TYPE intake_uploads_total counter\n"
        out += "intake_uploads_total \(s.uploads)\n"
        out += "# HELP intake_upload_bytes_total Bytes of uploaded files.\n# TYPE intake_upload_bytes_total counter\n"
        out += "intake_upload_bytes_total \(s.uploadBytes)\n"
        out += "# HELP intake_records_total Records processed by this process's worker; rate() gives records/s.\n"
        out += "# TYPE intake_records_total counter\n"
        for result in ["applied", "failed"] {
            out += "intake_records_total{result=\"\(result)\"} \(s.records[result] ?? 0)\n"
        }
        out += "# HELP intake_queue_depth Batches scheduled and waiting for a worker.\n# TYPE intake_queue_depth gauge\n"
        out += "intake_queue_depth \(queueDepth)\n"
        out += "# HELP intake_batch_duration_seconds Run time of finished batches, by final state.\n"
        out += "# TYPE intake_batch_duration_seconds summary\n"
        for key in s.batchSeconds.keys.sorted() {
            let entry = s.batchSeconds[key]!
            out += "intake_batch_duration_seconds_sum{state=\"\(key)\"} \(entry.sum)\n"
            out += "intake_batch_duration_seconds_count{state=\"\(key)\"} \(entry.count)\n"
        }
        return out
    }
}
