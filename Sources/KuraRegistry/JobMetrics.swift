import Metrics

/// Metrics of maintenance jobs, through swift-metrics (exported by whatever backend the
/// server bootstraps, e.g. Prometheus):
/// - `kura_job_duration_seconds{kind}` — a timer per run;
/// - `kura_job_runs_total{kind,outcome}` — `succeeded` or `failed`;
/// - `kura_job_objects_total{kind}` and `kura_job_bytes_total{kind}` — what the run freed
///   (gc, retention) or checked (scrub).
enum JobMetrics {
    static func record(kind: String, duration: Duration, outcome: String, objects: Int, bytes: Int64) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        Timer(label: "kura_job_duration_seconds", dimensions: [("kind", kind)]).recordSeconds(seconds)
        Counter(label: "kura_job_runs_total", dimensions: [("kind", kind), ("outcome", outcome)]).increment()
        if objects > 0 { Counter(label: "kura_job_objects_total", dimensions: [("kind", kind)]).increment(by: objects) }
        if bytes > 0 { Counter(label: "kura_job_bytes_total", dimensions: [("kind", kind)]).increment(by: Int(bytes)) }
    }
}
