import Foundation
import NTMAlerting

/// One integration that takes notification groups for one receiver (as Alertmanager's Notifier).
public protocol Notifier: Sendable {
    /// The configured receiver's name.
    var receiver: String { get }
    /// Returns only when the receiver accepted every notification of the group; throws otherwise.
    func notify(_ group: NotificationGroup) async throws
}

/// Why a delivery failed, and when it may be tried again.
public struct DeliveryFailure: Error, Sendable, CustomStringConvertible {
    /// What went wrong, for the log and the ledger; never a secret.
    public var reason: String
    /// From a 429/503 `Retry-After`: the dispatcher waits at least this long before the next try.
    public var retryAfter: Duration?

    public init(reason: String, retryAfter: Duration? = nil) {
        self.reason = reason
        self.retryAfter = retryAfter
    }

    public var description: String { reason }
}

/// A configured receiver: a name routes point at, and the integration that delivers to it.
public struct ReceiverConfiguration: Sendable {
    public enum Integration: Sendable {
        /// Alertmanager-compatible webhook JSON files in a spool folder.
        case files(FileSpool)
        /// The same JSON POSTed to a URL, signed when a secret is configured.
        case http(HTTPEndpoint)
        /// One message per group through the system's `sendmail` interface.
        case email(EmailSettings)
    }

    public var name: String
    public var integration: Integration
    /// A scheduled digest of the receiver's alerts, when configured.
    public var digest: DigestSettings?

    public init(name: String, integration: Integration, digest: DigestSettings? = nil) {
        self.name = name
        self.integration = integration
        self.digest = digest
    }
}

public struct FileSpool: Sendable {
    public var directory: String
    /// The oldest files are removed beyond this total, so a reader that stopped cannot fill the disk.
    public var maxSpoolBytes: Int64
    /// At most this many alerts in one file; the rest are counted in `truncatedAlerts`.
    public var maxAlertsPerFile: Int

    public init(directory: String, maxSpoolBytes: Int64 = 100 << 20, maxAlertsPerFile: Int = 500) {
        self.directory = directory
        self.maxSpoolBytes = maxSpoolBytes
        self.maxAlertsPerFile = maxAlertsPerFile
    }
}

/// Timers and limits of the delivery pipeline (Alertmanager's `group_wait`, `group_interval`, plus
/// the ledger's retry and retention policy).
public struct DeliverySettings: Sendable, Equatable {
    /// How long a new group waits for more notifications before its first send.
    public var groupWait: Duration = .seconds(30)
    /// How long a group that was sent waits before it sends what joined it since.
    public var groupInterval: Duration = .seconds(300)
    /// First retry delay; doubled on each failure up to `retryMax`, with jitter.
    public var retryInitial: Duration = .seconds(10)
    public var retryMax: Duration = .seconds(600)
    /// A notification still undelivered to a receiver this long after it was recorded becomes a
    /// dead letter and raises `ntmwatch.delivery_failed`.
    public var deadLetterAfter: Duration = .seconds(24 * 3600)
    /// How long delivered notifications and the history are kept.
    public var historyRetention: Duration = .seconds(400 * 24 * 3600)

    public init() {}
}

/// The pseudo-receiver every notification goes to when journald output is on.
public let journaldReceiver = "journald"
