import Foundation

/// Alertmanager's routing tree: a notification goes down the first child route whose matchers
/// all hold (and on to the next when that child says `continue`), else stays at the node.
/// Receivers and `group_by` are inherited from the parent.
public struct Router: Sendable {
    public struct Destination: Sendable, Hashable {
        public let receiver: String
        public let groupBy: [String]
        /// Which route matched (`0.2` = the root's third child), part of the group key.
        public let routePath: String
    }

    let root: Configuration.Route
    static let defaultGroupBy = ["check", "rule"]

    public init(root: Configuration.Route) { self.root = root }

    public func destinations(for labels: [String: String]) -> [Destination] {
        guard let receiver = root.receiver else { return [] }
        return walk(root, labels: labels, receiver: receiver, groupBy: root.groupBy ?? Self.defaultGroupBy, path: "0")
    }

    private func walk(_ route: Configuration.Route, labels: [String: String], receiver: String, groupBy: [String], path: String) -> [Destination] {
        var found: [Destination] = []
        for (index, child) in route.routes.enumerated() where Self.matches(child, labels) {
            found += walk(child, labels: labels, receiver: child.receiver ?? receiver,
                          groupBy: child.groupBy ?? groupBy, path: "\(path).\(index)")
            if !child.continueMatching { return found }
        }
        return found.isEmpty ? [Destination(receiver: receiver, groupBy: groupBy, routePath: path)] : found
    }

    static func matches(_ route: Configuration.Route, _ labels: [String: String]) -> Bool {
        for (name, value) in route.match where labels[name] != value { return false }
        for (name, pattern) in route.matchRegex {
            guard let regex = try? Regex(pattern), (try? regex.wholeMatch(in: labels[name] ?? "")) != nil else { return false }
        }
        return true
    }
}

/// Notifications grouped for one receiver, as one webhook payload.
public struct NotificationGroup: Sendable {
    public let receiver: String
    public let groupKey: String
    public let groupLabels: [String: String]
    public var notifications: [Notification]
}

public enum Grouper {
    public static func group(_ notifications: [Notification], router: Router) -> [NotificationGroup] {
        var groups: [String: NotificationGroup] = [:]
        var order: [String] = []
        for notification in notifications {
            let labels = notification.alert.notificationLabels
            for destination in router.destinations(for: labels) {
                var groupLabels: [String: String] = [:]
                for name in destination.groupBy { if let value = labels[name] { groupLabels[name] = value } }
                let rendered = groupLabels.keys.sorted().map { "\($0)=\"\(groupLabels[$0]!)\"" }.joined(separator: ",")
                let groupKey = "{\(destination.routePath)}:{\(rendered)}"
                let id = "\(destination.receiver)|\(groupKey)"
                if groups[id] == nil {
                    groups[id] = NotificationGroup(receiver: destination.receiver, groupKey: groupKey,
                                                   groupLabels: groupLabels, notifications: [])
                    order.append(id)
                }
                groups[id]!.notifications.append(notification)
            }
        }
        return order.map { groups[$0]! }
    }
}
