import Dispatch
import Foundation
import NTMAlerting
import NTMSQLite

/// The rows one tracker step writes into the state file, made ready (packed, routed, bound) apart
/// from the writing.
///
/// A national first cycle writes 70,000 alerts, 61,000 notifications and 61,000 ledger rows in
/// one transaction on the state's one thread. Packing and routing them there took a third of
/// that thread's time while the other core had nothing to do (issue 21), so ``AlertStateStore``
/// writes one slice of rows while another thread prepares the next: each table gets the same
/// rows in the same order, and at most two slices' bytes are held at a time.
struct StepRows: Sendable {
    /// One thing to write: an alert (by its place in `alerts`), or a notification (by its place in
    /// `notifications`) with its ledger rows. `after` is the alert written just before it, whose
    /// packed bytes the notification reuses when it carries that very alert.
    enum Item: Sendable {
        case alert(Int)
        case notification(Int, after: Int?)
    }

    /// A slice's rows by table, each row its statement's values in order.
    struct Rows: Sendable {
        /// Templates and words first packed by this step: number and texts (``MessageTable``).
        var messages: [[SQLite3Value]] = []
        var words: [[SQLite3Value]] = []
        var alerts: [[SQLite3Value]] = []
        var notifications: [[SQLite3Value]] = []
        var deliveries: [[SQLite3Value]] = []
    }

    /// Each changed alert once, as it ended (an alert changed twice in one step is written once),
    /// in the order of its first change.
    let alerts: [Alert]
    let notifications: [NTMAlerting.Notification]
    let items: [Item]

    /// Alerts in their order and notifications in theirs, each alert written just before the
    /// first notification that needs it, so that its packed bytes go into that notification too
    /// and are then let go: holding every alert's bytes for the ledger was 650 MB of a national
    /// first cycle. Alerts no notification needs come last.
    init(alerts changed: [Alert], notifications: [NTMAlerting.Notification]) {
        // One table, fingerprint to place: keying the alerts and then their places was 0.13 s of
        // a national first cycle, on the state's thread before anything was written.
        var alerts: [Alert] = [], position: [String: Int] = [:]
        alerts.reserveCapacity(changed.count)
        position.reserveCapacity(changed.count)
        for alert in changed {
            if let at = position[alert.fingerprint] {
                alerts[at] = alert
            } else {
                position[alert.fingerprint] = alerts.count
                alerts.append(alert)
            }
        }
        var items: [Item] = []
        items.reserveCapacity(alerts.count + notifications.count)
        var written = 0
        for (index, notification) in notifications.enumerated() {
            guard let at = position[notification.alert.fingerprint], at >= written else {
                items.append(.notification(index, after: nil))
                continue
            }
            while written < at {
                items.append(.alert(written))
                written += 1
            }
            items.append(.alert(at))
            written += 1
            items.append(.notification(index, after: at))
        }
        while written < alerts.count {
            items.append(.alert(written))
            written += 1
        }
        self.alerts = alerts
        self.notifications = notifications
        self.items = items
    }

    /// The rows of `items[range]`, `recordedAt` being the ledger's clock.
    func rows(_ range: Range<Int>, destinations: (NTMAlerting.Notification) -> [Destination], recordedAt: Double,
              preparation: Preparation) throws -> Rows {
        var rows = Rows()
        rows.alerts.reserveCapacity(range.count)
        rows.notifications.reserveCapacity(range.count)
        rows.deliveries.reserveCapacity(range.count)
        var last: (index: Int, bytes: [UInt8])?
        /// Packs with the step's table, and writes the templates and words it did not have before.
        func pack(_ pack: (inout MessageTable) -> [UInt8]) -> [UInt8] {
            let known = preparation.messages.count, knownWords = preparation.messages.wordCount
            let bytes = pack(&preparation.messages)
            for number in known..<preparation.messages.count {
                let template = preparation.messages[number]
                rows.messages.append([.integer(Int64(number)), .text(template.vi), .text(template.en)])
            }
            for number in knownWords..<preparation.messages.wordCount {
                rows.words.append([.integer(Int64(number)), .text(preparation.messages.word(at: number))])
            }
            return bytes
        }
        for item in items[range] {
            switch item {
            case .alert(let index):
                let alert = alerts[index]
                let bytes = pack { AlertCodec.pack(alert, messages: &$0) }
                rows.alerts.append([.text(alert.fingerprint), .text(alert.check), .text(alert.status.rawValue), .blob(bytes),
                                    .text(alert.severity.rawValue), .of(alert.subject.unitID),
                                    .real(alert.activeSince.timeIntervalSince1970), .of(alert.resolvedAt?.timeIntervalSince1970)])
                last = (index, bytes)
            case .notification(let index, let after):
                let notification = notifications[index]
                let packed = if let after, let last, last.index == after, notification.alert == alerts[after] {
                    AlertCodec.pack(notification, packedAlert: last.bytes)
                } else {
                    pack { AlertCodec.pack(notification, messages: &$0) }
                }
                last = nil
                rows.notifications.append([.text(notification.id), .real(notification.at.timeIntervalSince1970),
                                           .text(notification.alert.fingerprint), .text(notification.reason.rawValue),
                                           .blob(packed)])
                for destination in destinations(notification) {
                    rows.deliveries.append([.text(notification.id), .text(destination.receiver), .text(destination.groupKey),
                                            .text(try preparation.labelsText(destination.groupLabels)), .real(recordedAt)])
                }
            }
        }
        return rows
    }

    /// Prepares the rows of slice k+1 on another thread while `write` takes those of slice k,
    /// slices in order. The slices are prepared one after another, never two at once. Returns
    /// `messages` with the templates and words the rows added.
    func pipelined(sliceSize: Int = 1024, messages: MessageTable,
                   destinations: @escaping @Sendable (NTMAlerting.Notification) -> [Destination],
                   recordedAt: Double, write: (Rows) throws -> Void) throws -> MessageTable {
        let preparation = Preparation(messages: messages)
        let slices = stride(from: 0, to: items.count, by: sliceSize).map { $0..<min($0 + sliceSize, items.count) }
        guard !slices.isEmpty else { return messages }
        let prepare: @Sendable (Int) -> Result<Rows, any Error> = { slice in
            Result { try rows(slices[slice], destinations: destinations, recordedAt: recordedAt, preparation: preparation) }
        }
        var next = prepare(0)
        for slice in slices.indices {
            let current = next
            let prepared = Prepared()
            if slice + 1 < slices.count {
                DispatchQueue.global().async(group: prepared.group) { prepared.result = prepare(slice + 1) }
            }
            // A failed write leaves the next slice's preparation to finish on its own: it writes nothing.
            try write(current.get())
            prepared.group.wait()
            if let result = prepared.result { next = result }
        }
        return preparation.messages
    }

    /// One slice under preparation; `group.wait()` orders its result before the writer reads it.
    private final class Prepared: @unchecked Sendable {
        let group = DispatchGroup()
        var result: Result<Rows, any Error>?
    }
}

/// What the preparation of one slice hands to the next: the message table, which grows as new
/// templates and words are packed, and each group's labels as the ledger keeps them (JSON, keys sorted),
/// encoded once per group (tens of thousands of rows share a handful). Used by one slice's
/// preparation at a time (``StepRows/pipelined(sliceSize:messages:destinations:recordedAt:write:)``
/// starts the next only after the one before has ended), hence unchecked.
final class Preparation: @unchecked Sendable {
    var messages: MessageTable
    private var known: [[String: String]: String] = [:]
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    init(messages: MessageTable) { self.messages = messages }

    func labelsText(_ labels: [String: String]) throws -> String {
        if let text = known[labels] { return text }
        let text = String(decoding: try encoder.encode(labels), as: UTF8.self)
        known[labels] = text
        return text
    }
}
