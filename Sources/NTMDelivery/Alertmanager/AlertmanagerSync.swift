import AsyncHTTPClient
import CheckKit
import Foundation
import Logging
import NIOCore
import NTMAlerting
import ServiceLifecycle

/// Keeps Alertmanagers' view of the alerts in step with the tracker through API v2, as Prometheus
/// does: every firing alert is sent again every `resendInterval` with `endsAt` a few intervals
/// ahead (so Alertmanager resolves it by itself if the daemon dies), and a resolved alert is sent
/// with its resolution time for `resolvedRetention` (so one lost request does not leave it firing).
///
/// This is state synchronisation, not notification: nothing here is in the delivery ledger, and
/// a failed push is logged and repaired by the next one.
public actor AlertmanagerSync: Service {
    public struct Endpoint: Sendable {
        public var url: URL
        public var timeout: Duration
        public var resendInterval: Duration
        public init(url: URL, timeout: Duration, resendInterval: Duration) {
            self.url = url
            self.timeout = timeout
            self.resendInterval = resendInterval
        }
    }

    /// One alert as `POST /api/v2/alerts` takes it (`postableAlert`).
    public struct PostableAlert: Codable, Sendable, Equatable {
        public var labels: [String: String]
        public var annotations: [String: String]
        public var startsAt: String
        public var endsAt: String
        public var generatorURL: String
    }

    let endpoints: [Endpoint]
    let client: HTTPClient
    let language: Language
    let externalURL: String
    let logger: Logger
    let now: @Sendable () -> Date
    /// Prometheus keeps sending a resolved alert for 15 minutes.
    let resolvedRetention: Duration
    private var firing: [String: Alert] = [:]
    private var resolved: [String: (alert: Alert, until: Date)] = [:]

    public init(endpoints: [Endpoint], client: HTTPClient, language: Language, externalURL: String, logger: Logger,
                resolvedRetention: Duration = .seconds(15 * 60), now: @escaping @Sendable () -> Date = Date.init) {
        self.endpoints = endpoints
        self.client = client
        self.language = language
        self.externalURL = externalURL
        self.logger = logger
        self.resolvedRetention = resolvedRetention
        self.now = now
    }

    /// Takes the tracker's view after one processed step and pushes what changed. Pending alerts
    /// are not sent: Alertmanager, like Prometheus' notifier, only hears of firing ones.
    public func update(active: [Alert], resolved newlyResolved: [Alert], at: Date) async {
        var changed: [PostableAlert] = []
        for alert in active where alert.status == .firing {
            if firing[alert.fingerprint] != alert { changed.append(postable(alert)) }
            firing[alert.fingerprint] = alert
            resolved[alert.fingerprint] = nil
        }
        for alert in newlyResolved {
            firing[alert.fingerprint] = nil
            var ended = alert
            ended.resolvedAt = alert.resolvedAt ?? at
            resolved[alert.fingerprint] = (ended, now().addingTimeInterval(resolvedRetention.seconds))
            changed.append(postable(ended))
        }
        if !changed.isEmpty { await push(changed) }
    }

    /// Re-sends everything every resend interval until shutdown.
    public func run() async throws {
        guard let interval = endpoints.map(\.resendInterval).min() else { return }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            await resend()
        }
    }

    /// Sends every firing alert and every recently resolved one again.
    public func resend() async {
        let current = now()
        resolved = resolved.filter { $0.value.until > current }
        let alerts = firing.values.map(postable) + resolved.values.map { postable($0.alert) }
        if !alerts.isEmpty { await push(alerts) }
    }

    func postable(_ alert: Alert) -> PostableAlert {
        var labels = alert.notificationLabels
        labels["alertname"] = alert.ruleID
        let summary = alert.summary
        var annotations = ["summary": summary.text(in: language), "summary_vi": summary.vi,
                           "summary_en": summary.en, "subject_name": alert.subject.name]
        if let source = alert.source { annotations["source"] = source }
        for (key, value) in alert.values where annotations[key] == nil { annotations[key] = value.plain(in: language) }
        let endsAt: Date
        if alert.status == .resolved || alert.resolvedAt != nil {
            endsAt = alert.resolvedAt ?? now()
        } else {
            // Four resend intervals, as Prometheus: three lost pushes in a row do not end the alert.
            let longest = endpoints.map(\.resendInterval).max() ?? .seconds(60)
            endsAt = now().addingTimeInterval(4 * longest.seconds)
        }
        return PostableAlert(labels: labels, annotations: annotations, startsAt: Self.time(alert.firingSince ?? alert.activeSince),
                             endsAt: Self.time(endsAt), generatorURL: externalURL)
    }

    private func push(_ alerts: [PostableAlert]) async {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let body = try? encoder.encode(alerts) else { return }
        await withTaskGroup(of: Void.self) { group in
            for endpoint in endpoints {
                group.addTask { [client, logger] in
                    let target = endpoint.url.appendingPathComponent("api/v2/alerts")
                    var request = HTTPClientRequest(url: target.absoluteString)
                    request.method = .POST
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.headers.add(name: "User-Agent", value: "ntmwatch")
                    request.body = .bytes(ByteBuffer(bytes: body))
                    let place = HTTPWebhookNotifier.redacted(target)
                    do {
                        let response = try await client.execute(request, timeout: .nanoseconds(endpoint.timeout.nanoseconds))
                        let answer = try await response.body.collect(upTo: 64 << 10)
                        guard (200..<300).contains(response.status.code) else {
                            logger.warning("Alertmanager \(place) answered \(response.status.code): \(String(buffer: answer).prefix(300)); the next push sends the alerts again")
                            return
                        }
                    } catch {
                        logger.warning("pushing \(alerts.count) alerts to Alertmanager \(place) failed: \(error); the next push sends them again")
                    }
                }
            }
        }
    }

    static func time(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC")!))
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
