import Foundation
import Logging
import NTMAlerting

/// Sends what the ledger holds: groups pending rows per receiver and group, waits as
/// Alertmanager does (`group_wait` for a new group, `group_interval` after a send), retries
/// each receiver on its own with exponential backoff and jitter, and turns rows it could not
/// deliver within the dead-letter age into dead letters.
///
/// A receiver that fails or hangs never holds up another: receivers are sent to concurrently,
/// and each marks only its own rows.
public actor Dispatcher {
    private let state: AlertStateStore
    private var notifiers: [String: any Notifier]
    private var settings: DeliverySettings
    private let logger: Logger
    private var flushing = false

    public init(state: AlertStateStore, notifiers: [any Notifier], settings: DeliverySettings, logger: Logger) {
        self.state = state
        self.notifiers = Dictionary(notifiers.map { ($0.receiver, $0) }, uniquingKeysWith: { a, _ in a })
        self.settings = settings
        self.logger = logger
    }

    /// Takes a reloaded configuration's receivers; rows of receivers that are gone become dead letters.
    public func update(notifiers: [any Notifier], settings: DeliverySettings) async {
        self.notifiers = Dictionary(notifiers.map { ($0.receiver, $0) }, uniquingKeysWith: { a, _ in a })
        self.settings = settings
        do {
            let dropped = try await state.retireReceivers(keeping: Set(self.notifiers.keys), at: Date())
            if dropped > 0 {
                logger.warning("\(dropped) notifications were waiting for receivers that are no longer configured; they are dead letters now")
            }
        } catch {
            logger.error("could not retire the ledger rows of removed receivers: \(error)")
        }
    }

    public struct Report: Sendable, Equatable {
        public var sent = 0
        public var failed = 0
        public var dead = 0
        public var waiting = 0
        /// Receiver → result (`delivered`, `failed`, `dead`) → notifications.
        public var byReceiver: [String: [String: Int]] = [:]

        mutating func add(_ receiver: String, _ result: String, _ count: Int) {
            guard count > 0 else { return }
            byReceiver[receiver, default: [:]][result, default: 0] += count
        }
    }

    /// Sends every batch that is due at `now`. `force` ignores the group timers (not the retry
    /// backoff): `ntmwatchd --once` and a clean stop use it so nothing waits for a next start.
    /// A flush already under way makes this call return at once: the next tick picks up the rest.
    @discardableResult
    public func flush(now: Date = Date(), force: Bool = false) async -> Report {
        guard !flushing else { return Report() }
        flushing = true
        defer { flushing = false }
        var report = Report()
        let pending: [AlertStateStore.PendingDelivery]
        do {
            pending = try await state.pendingDeliveries(dueAt: now)
        } catch {
            logger.error("reading the delivery ledger failed: \(error)")
            return report
        }
        var batches: [Batch] = []
        for (key, rows) in Dictionary(grouping: pending, by: { BatchKey(receiver: $0.receiver, group: $0.batch ?? "group:" + $0.groupKey) })
            .sorted(by: { ($0.key.receiver, $0.key.group) < ($1.key.receiver, $1.key.group) }) {
            guard let first = rows.first else { continue }
            if let batch = first.batch {
                batches.append(Batch(id: batch, receiver: key.receiver, groupKey: first.groupKey, groupLabels: first.groupLabels,
                                     rows: rows, isNew: false))
                continue
            }
            // journald takes one entry per notification: waiting there would only delay them.
            if key.receiver != journaldReceiver && !force {
                let oldest = rows.map(\.createdAt).min()!
                let due = first.groupLastFlush.map { now.timeIntervalSince($0) >= settings.groupInterval.seconds }
                    ?? (now.timeIntervalSince(oldest) >= settings.groupWait.seconds)
                guard due else { report.waiting += rows.count; continue }
            }
            let id = NotificationGroup.deliveryKey(receiver: key.receiver, groupKey: first.groupKey, ids: rows.map(\.entry.id))
            batches.append(Batch(id: id, receiver: key.receiver, groupKey: first.groupKey, groupLabels: first.groupLabels,
                                 rows: rows, isNew: true))
        }
        guard !batches.isEmpty else { return report }

        // Persist the new batches' composition (one transaction) before anything leaves.
        do {
            try await state.assignBatches(batches.filter(\.isNew).map {
                AlertStateStore.NewBatch(id: $0.id, receiver: $0.receiver, groupKey: $0.groupKey, ids: $0.rows.map(\.entry.id))
            }, at: now)
        } catch {
            logger.error("recording delivery batches failed; they are tried again at the next flush: \(error)")
            return report
        }
        let byReceiver = Dictionary(grouping: batches, by: \.receiver)
        // The caller's clock (tests pass their own); a send's own duration does not matter here.
        let finished = now
        let state = self.state, logger = self.logger
        let outcomes = await withTaskGroup(of: [(Batch, DeliveryFailure?)].self) { group in
            for (receiver, batches) in byReceiver {
                let notifier = notifiers[receiver]
                group.addTask {
                    guard let notifier else {
                        return batches.map { ($0, DeliveryFailure(reason: "no receiver named '\(receiver)' is configured")) }
                    }
                    return await Self.send(batches, to: notifier, recordingIn: state, at: finished, logger: logger)
                }
            }
            var all: [(Batch, DeliveryFailure?)] = []
            for await results in group { all += results }
            return all
        }
        for (batch, failure) in outcomes {
            guard let failure else {
                report.sent += batch.rows.count
                report.add(batch.receiver, "delivered", batch.rows.count)
                continue
            }
            do {
                let retryAt = finished.addingTimeInterval(backoff(attempts: batch.rows.map(\.attempts).max() ?? 0, retryAfter: failure.retryAfter))
                let died = try await state.markFailed(
                    batch: batch.id, receiver: batch.receiver, error: failure.reason, retryAt: retryAt,
                    deadBefore: finished.addingTimeInterval(-settings.deadLetterAfter.seconds), at: finished)
                report.failed += batch.rows.count - died
                report.dead += died
                report.add(batch.receiver, "failed", batch.rows.count - died)
                report.add(batch.receiver, "dead", died)
                logger.warning("delivery to receiver \(batch.receiver) failed; trying again later", metadata: [
                    "receiver": "\(batch.receiver)", "notifications": "\(batch.rows.count)", "error": "\(failure.reason)",
                    "retry_at": "\(retryAt.formatted(.iso8601))", "dead_letters": "\(died)",
                ])
            } catch {
                logger.error("recording a delivery failure failed; the batch is tried again at the next flush: \(error)")
            }
        }
        return report
    }

    /// How many batches of one receiver are on their way at once. Alertmanager flushes each
    /// aggregation group on its own; here a national first cycle's twenty-odd groups of one
    /// receiver were sent one after another while the second core waited.
    static let concurrentBatches = 4

    /// Sends one receiver's batches, a few at a time; each batch is marked delivered as soon as
    /// the receiver accepted it. Returns each batch with its failure, nil when delivered; a
    /// delivered batch whose mark could not be written is left out (it is sent again, same ids).
    static func send(_ batches: [Batch], to notifier: any Notifier, recordingIn state: AlertStateStore, at finished: Date,
                     logger: Logger) async -> [(Batch, DeliveryFailure?)] {
        await withTaskGroup(of: (Batch, DeliveryFailure?)?.self) { group in
            var waiting = batches[...]
            func start() {
                guard let batch = waiting.popFirst() else { return }
                group.addTask {
                    do {
                        try await notifier.notify(batch.group(readingFrom: state))
                    } catch let failure as DeliveryFailure {
                        return (batch, failure)
                    } catch {
                        return (batch, DeliveryFailure(reason: "\(error)"))
                    }
                    // Marked at once, not after the other batches: between a receiver's
                    // acceptance and this commit, a crash re-sends the batch (same ids).
                    do {
                        try await state.markDelivered(batch: batch.id, receiver: batch.receiver, at: finished)
                        return (batch, nil)
                    } catch {
                        logger.error("recording a delivery failed; the batch will be sent again with the same ids: \(error)")
                        return nil
                    }
                }
            }
            for _ in 0..<concurrentBatches { start() }
            var results: [(Batch, DeliveryFailure?)] = []
            for await result in group {
                if let result { results.append(result) }
                start()
            }
            return results
        }
    }

    /// Exponential backoff with "equal jitter": half fixed, half random, capped; at least what
    /// the receiver asked for with `Retry-After`.
    func backoff(attempts: Int, retryAfter: Duration?) -> TimeInterval {
        let base = min(settings.retryInitial.seconds * pow(2, Double(min(attempts, 30))), settings.retryMax.seconds)
        let jittered = base / 2 + Double.random(in: 0...(base / 2))
        return max(jittered, retryAfter?.seconds ?? 0)
    }

    struct BatchKey: Hashable { let receiver: String; let group: String }

    struct Batch: Sendable {
        let id: String
        let receiver: String
        let groupKey: String
        let groupLabels: [String: String]
        let rows: [AlertStateStore.PendingDelivery]
        let isNew: Bool

        func group(readingFrom state: AlertStateStore) -> NotificationGroup {
            NotificationGroup(receiver: receiver, groupKey: groupKey, groupLabels: groupLabels, entries: rows.map(\.entry)) {
                try await state.notifications(ids: $0.map(\.id))
            }
        }
    }
}
