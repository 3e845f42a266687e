import CheckKit
import Foundation
import NTMAlerting
import NTMDelivery
import NTMStore

/// Builds a receiver's digest from the state file and the store: shared by the engine (which
/// sends it once per period) and `ntmwatch digest` (which prints it).
public enum DigestBuilder {
    public static func build(receiver: String, schedule: DigestSchedule, periodEnd: Date, route: Route,
                             state: AlertStateStore, store: Store) async throws -> Digest {
        let from = try await state.lastDigest(receiver: receiver, before: periodEnd) ?? schedule.previous(periodEnd)
        let router = Router(root: route)
        let alerts = try await state.allAlerts().filter { alert in
            router.destinations(for: alert.notificationLabels).contains { $0.receiver == receiver }
        }
        let units = try await store.withReader(asOf: periodEnd) { try await $0.unitsByID() }
        return Digest(receiver: receiver, from: from, to: periodEnd, alerts: alerts,
                      transitions: try await state.transitions(since: from), silences: try await state.silences(),
                      units: units)
    }
}

extension Engine {
    /// Sends each receiver's digest of the period that ended last before `instant`, once: a
    /// restart or a re-run of the same day finds the period claimed or sent.
    public func sendDueDigests(at instant: Date) async {
        let configuration = runtime.configuration
        for receiver in configuration.receivers {
            guard let settings = receiver.digest else { continue }
            let periodEnd = settings.schedule.due(atOrBefore: instant)
            do {
                guard try await state.claimDigest(receiver: receiver.name, periodEnd: periodEnd, at: Date()) else { continue }
                let digest = try await DigestBuilder.build(receiver: receiver.name, schedule: settings.schedule, periodEnd: periodEnd,
                                                           route: configuration.route, state: state, store: store)
                try await DigestDelivery.deliver(digest, to: receiver, settings: settings, instance: configuration.instance,
                                                 language: configuration.language, at: Date())
                try await state.markDigestSent(receiver: receiver.name, periodEnd: periodEnd, at: Date())
            } catch {
                logger.error("the digest of \(receiver.name) for the period ending \(periodEnd) was not sent; it is tried again at the next cycle: \(error)")
            }
        }
    }
}
