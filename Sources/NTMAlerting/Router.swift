import Foundation

/// A node of the routing tree (Alertmanager's `route`): matchers compiled once, when the
/// configuration is loaded.
public struct Route: Sendable {
    public var receiver: String?
    public var matchers: [LabelMatcher]
    public var groupBy: [String]?
    public var continueMatching: Bool
    public var routes: [Route]

    public init(receiver: String?, matchers: [LabelMatcher] = [], groupBy: [String]? = nil,
                continueMatching: Bool = false, routes: [Route] = []) {
        self.receiver = receiver
        self.matchers = matchers
        self.groupBy = groupBy
        self.continueMatching = continueMatching
        self.routes = routes
    }
}

/// Alertmanager's routing tree: a notification goes down the first child route whose matchers
/// all hold (and on to the next when that child says `continue`), else stays at the node.
/// Receivers and `group_by` are inherited from the parent.
public struct Router: Sendable {
    public struct Match: Sendable, Hashable {
        public let receiver: String
        public let groupBy: [String]
        /// Which route matched (`0.2` = the root's third child), part of the group key.
        public let routePath: String
    }

    let root: Route
    public static let defaultGroupBy = ["check", "rule"]

    public init(root: Route) { self.root = root }

    public func destinations(for labels: [String: String]) -> [Match] {
        guard let receiver = root.receiver else { return [] }
        return walk(root, labels: labels, receiver: receiver, groupBy: root.groupBy ?? Self.defaultGroupBy, path: "0")
    }

    private func walk(_ route: Route, labels: [String: String], receiver: String, groupBy: [String], path: String) -> [Match] {
        var found: [Match] = []
        for (index, child) in route.routes.enumerated() where child.matchers.matches(labels) {
            found += walk(child, labels: labels, receiver: child.receiver ?? receiver,
                          groupBy: child.groupBy ?? groupBy, path: "\(path).\(index)")
            if !child.continueMatching { return found }
        }
        return found.isEmpty ? [Match(receiver: receiver, groupBy: groupBy, routePath: path)] : found
    }
}

/// Where one notification goes: a receiver and the aggregation group it joins there.
public struct Destination: Sendable, Hashable {
    public let receiver: String
    /// Alertmanager's group key: the route's path and the values of its `group_by` labels.
    public let groupKey: String
    public let groupLabels: [String: String]

    public init(receiver: String, groupKey: String, groupLabels: [String: String]) {
        self.receiver = receiver
        self.groupKey = groupKey
        self.groupLabels = groupLabels
    }
}

extension Router {
    /// The receivers and groups of a notification, decided once, when it is recorded: a later
    /// change of routes does not move a notification that is already on its way.
    public func destinations(of notification: Notification) -> [Destination] {
        let labels = notification.alert.notificationLabels
        var seen = Set<Destination>()
        return destinations(for: labels).compactMap { destination in
            var groupLabels: [String: String] = [:]
            for name in destination.groupBy { if let value = labels[name] { groupLabels[name] = value } }
            let rendered = groupLabels.keys.sorted().map { "\($0)=\"\(groupLabels[$0]!)\"" }.joined(separator: ",")
            let found = Destination(receiver: destination.receiver, groupKey: "{\(destination.routePath)}:{\(rendered)}",
                                    groupLabels: groupLabels)
            return seen.insert(found).inserted ? found : nil
        }
    }
}

/// Notifications grouped for one receiver: one webhook payload, one e-mail.
///
/// The group knows each notification's id, instant and alert fingerprint; the notifications
/// themselves are read when a notifier asks for them. After a national first cycle one group holds
/// 20,000 notifications and a webhook file shows 500: decoding all of them (360,000 at the large
/// size) before anything was sent made the flush's time and most of the daemon's peak memory.
public struct NotificationGroup: Sendable {
    public struct Entry: Sendable, Hashable {
        public let id: String
        public let at: Date
        public let fingerprint: String

        public init(id: String, at: Date, fingerprint: String) {
            self.id = id
            self.at = at
            self.fingerprint = fingerprint
        }
    }

    public let receiver: String
    public let groupKey: String
    public let groupLabels: [String: String]
    /// Oldest first.
    public let entries: [Entry]
    private let load: @Sendable ([Entry]) async throws -> [Notification]

    /// `load` gives the notifications of the entries it is given, in their order, or throws.
    public init(receiver: String, groupKey: String, groupLabels: [String: String], entries: [Entry],
                load: @escaping @Sendable ([Entry]) async throws -> [Notification]) {
        self.receiver = receiver
        self.groupKey = groupKey
        self.groupLabels = groupLabels
        self.entries = entries
        self.load = load
    }

    /// A group of notifications already in memory.
    public init(receiver: String, groupKey: String, groupLabels: [String: String], notifications: [Notification]) {
        let byID = Dictionary(notifications.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.init(receiver: receiver, groupKey: groupKey, groupLabels: groupLabels,
                  entries: notifications.map { Entry(id: $0.id, at: $0.at, fingerprint: $0.alert.fingerprint) },
                  load: { entries in entries.compactMap { byID[$0.id] } })
    }

    public var ids: [String] { entries.map(\.id) }

    /// Every notification of the group, oldest first.
    public func notifications() async throws -> [Notification] { try await load(entries) }

    /// The notifications of some of the group's entries, in the entries' order.
    public func notifications(_ some: [Entry]) async throws -> [Notification] { try await load(some) }

    /// The group's delivery key: the same receiver, group and notification ids give the same key.
    /// The ledger fixes a batch's composition before it is sent, so a batch sent again (after a
    /// crash, or a timeout the receiver in fact survived) carries the key it carried the first
    /// time: HTTP receivers get it as `Idempotency-Key`, e-mail as the `Message-ID`.
    public var deliveryKey: String {
        Self.deliveryKey(receiver: receiver, groupKey: groupKey, ids: ids)
    }

    public static func deliveryKey(receiver: String, groupKey: String, ids: [String]) -> String {
        Fingerprint.of(["receiver": receiver, "group": groupKey, "ids": ids.sorted().joined(separator: ",")])
    }
}
