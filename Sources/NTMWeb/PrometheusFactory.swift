import CoreMetrics
import Prometheus

/// swift-metrics' factory onto a Prometheus registry, like swift-prometheus' own, but giving each
/// family its `# HELP` text (Prometheus' promtool refuses families without one, and the registry
/// insists that every metric of a family has the same help).
public struct HelpfulPrometheusFactory: MetricsFactory {
    public let registry: PrometheusCollectorRegistry
    let help: [String: String]
    let durationBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300),
    ]

    public init(registry: PrometheusCollectorRegistry, help: [String: String] = Self.ntmwatchHelp) {
        self.registry = registry
        self.help = help
    }

    /// What each of the daemon's metrics means (`DaemonMetrics` names them).
    public static let ntmwatchHelp: [String: String] = [
        "ntmwatch_check_runs_total": "Check runs, by check and result (ok, failed, timed_out, cancelled).",
        "ntmwatch_check_duration_seconds": "Wall time of check runs.",
        "ntmwatch_check_findings": "Findings of the check's last successful run.",
        "ntmwatch_check_last_success_timestamp_seconds": "Evaluation instant of the check's last successful run.",
        "ntmwatch_check_late_starts_total": "Runs started more than two ticks after they were due.",
        "ntmwatch_alerts": "Active alerts, by state and severity.",
        "ntmwatch_notifications_total": "Notifications handled per receiver, by result (delivered, failed, dead).",
        "ntmwatch_ledger_pending": "Notifications waiting in the delivery ledger.",
        "ntmwatch_dead_letters": "Notifications that could not be delivered within dead_letter_after.",
        "ntmwatch_module_load_failures": "Module files and checks that could not be loaded or configured.",
    ]

    /// The whole label is the metric's name: `DaemonMetrics` names them in full, units included,
    /// so the descriptor's unit stays empty (empty parts are left out of the name).
    func descriptor(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "",
                             helpText: help[label] ?? label.replacingOccurrences(of: "_", with: " "))
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: descriptor(label), labels: dimensions) }
        return registry.makeValueHistogram(descriptor: descriptor(label), labels: dimensions,
                                           buckets: [1, 10, 100, 1000, 10_000])
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(descriptor: descriptor(label), labels: dimensions, buckets: durationBuckets)
    }

    public func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    public func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
        if let histogram = handler as? ValueHistogram { registry.unregisterValueHistogram(histogram) }
    }

    public func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    public func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }
}
