import CheckKit
import CoreMetrics
import Foundation
import NTMAlerting

/// The daemon's own figures, through swift-metrics with an explicit factory (the daemon gives
/// it a Prometheus registry; tests and `--once` a no-op one), so nothing is bootstrapped globally.
public struct DaemonMetrics: Sendable {
    let factory: any MetricsFactory

    public init(factory: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.factory = factory
    }

    func checkRun(_ check: String, outcome: CheckOutcome, duration: Duration?, at instant: Date) {
        let result: String
        switch outcome {
        case .findings(let findings):
            result = "ok"
            Gauge(label: "ntmwatch_check_findings", dimensions: [("check", check)], factory: factory).record(findings.count)
            Gauge(label: "ntmwatch_check_last_success_timestamp_seconds", dimensions: [("check", check)], factory: factory)
                .record(instant.timeIntervalSince1970)
        case .failed: result = "failed"
        case .timedOut: result = "timed_out"
        case .cancelled: result = "cancelled"
        }
        Counter(label: "ntmwatch_check_runs_total", dimensions: [("check", check), ("result", result)], factory: factory).increment()
        if let duration {
            Timer(label: "ntmwatch_check_duration_seconds", dimensions: [("check", check)], factory: factory).recordNanoseconds(
                duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
        }
    }

    /// An alert's state and severity: counted by the two values, not by a text made of them for
    /// each of 70,000 national alerts after every run.
    private struct Kind: Hashable {
        let status: Alert.Status
        let severity: Severity
    }

    func alerts(_ active: some Collection<TrackedAlert>) {
        var counts: [Kind: Int] = [:]
        for alert in active { counts[Kind(status: alert.status, severity: alert.severity), default: 0] += 1 }
        for status in [Alert.Status.pending, .firing] {
            for severity in Severity.allCases {
                Gauge(label: "ntmwatch_alerts", dimensions: [("state", status.rawValue), ("severity", severity.rawValue)], factory: factory)
                    .record(counts[Kind(status: status, severity: severity), default: 0])
            }
        }
    }

    func notifications(receiver: String, result: String, count: Int) {
        guard count > 0 else { return }
        Counter(label: "ntmwatch_notifications_total", dimensions: [("receiver", receiver), ("result", result)], factory: factory)
            .increment(by: count)
    }

    func ledger(pending: Int, deadLetters: Int) {
        Gauge(label: "ntmwatch_ledger_pending", factory: factory).record(pending)
        Gauge(label: "ntmwatch_dead_letters", factory: factory).record(deadLetters)
    }

    func moduleProblems(_ count: Int) {
        Gauge(label: "ntmwatch_module_load_failures", factory: factory).record(count)
    }

    func lateRun(_ check: String) {
        Counter(label: "ntmwatch_check_late_starts_total", dimensions: [("check", check)], factory: factory).increment()
    }
}
