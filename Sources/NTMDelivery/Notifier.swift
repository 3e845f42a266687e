// TEMPORARY: the lead's interface, copied from the brief until main has NTMDelivery.
import NTMWatchCore

/// One integration that takes notification groups for one receiver (as Alertmanager's Notifier).
public protocol Notifier: Sendable {
    /// The configured receiver's name.
    var receiver: String { get }
    /// Returns only when the receiver accepted every notification of the group; throws otherwise.
    func notify(_ group: NotificationGroup) async throws
}
/// Why a delivery failed, and when it may be tried again.
public struct DeliveryFailure: Error, Sendable, CustomStringConvertible {
    public var reason: String          // no secrets in it
    public var retryAfter: Duration?   // from 429/503 Retry-After, honoured by the dispatcher's backoff
    public init(reason: String, retryAfter: Duration? = nil) { self.reason = reason; self.retryAfter = retryAfter }
    public var description: String { reason }
}
