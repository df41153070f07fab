import CoreMetrics
import Foundation
import IntakeCore
import Prometheus

/// The process's metrics for `GET /metrics`, shared by the HTTP layer and the worker.
///
/// Recorded through swift-metrics (`Counter`, `Timer`, `Gauge`) with a Prometheus factory bound to
/// this object's own registry, not the global metrics system: two servers in one test process keep
/// separate counts, and nothing is bootstrapped globally. Rendered by swift-prometheus.
package final class IntakeMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory

    package init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        // Requests take milliseconds; batches take seconds to hours.
        factory.durationHistogramBuckets = [
            "intake_http_request_duration_seconds": [
                .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60)
            ],
            "intake_batch_duration_seconds": [
                .seconds(1), .seconds(5), .seconds(15), .seconds(60), .seconds(300), .seconds(900), .seconds(3600), .seconds(4 * 3600)
            ]
        ]
        self.factory = factory
        Gauge(label: "intake_build_info", dimensions: [("version", IntakeVersion.current)], factory: factory).record(1)
    }

    package func recordRequest(method: String, status: Int, duration: Duration? = nil) {
        Counter(label: "intake_http_requests_total", dimensions: [("method", method), ("status", "\(status)")], factory: factory)
            .increment()
        if let duration {
            Timer(label: "intake_http_request_duration_seconds", dimensions: [("method", method)], factory: factory)
                .recordNanoseconds(duration.nanoseconds)
        }
    }

    package func recordUpload(bytes: Int64) {
        Counter(label: "intake_uploads_total", factory: factory).increment()
        Counter(label: "intake_upload_bytes_total", factory: factory).increment(by: Int(bytes))
    }

    /// Called as a run goes, chunk by chunk, so `rate(intake_records_total[1m])` shows a running
    /// batch's speed.
    package func recordRecords(applied: Int, failed: Int) {
        Counter(label: "intake_records_total", dimensions: [("result", "applied")], factory: factory).increment(by: max(0, applied))
        Counter(label: "intake_records_total", dimensions: [("result", "failed")], factory: factory).increment(by: max(0, failed))
    }

    package func recordBatch(state finalState: String, seconds: Double, finished: Date = Date()) {
        Timer(label: "intake_batch_duration_seconds", dimensions: [("state", finalState)], factory: factory)
            .recordNanoseconds(Int64(seconds * 1e9))
        if finalState == "complete" || finalState == "dry-run" {
            Gauge(label: "intake_last_successful_batch_timestamp_seconds", factory: factory).record(finished.timeIntervalSince1970)
        }
    }

    /// The exposition text; `queueDepth` is read from the store by the caller.
    package func render(queueDepth: Int) -> String {
        Gauge(label: "intake_queue_depth", factory: factory).record(queueDepth)
        return registry.emitToString()
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
