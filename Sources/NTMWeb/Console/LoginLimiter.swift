import Foundation

/// Failed logins per client address and per user name in a sliding window: after `limit` of
/// either within `window`, every try of that address or that user is refused, the right password
/// too, until the oldest failure leaves the window. In memory, like the sessions: a restart
/// forgets it.
actor LoginLimiter {
    let limit: Int
    let window: TimeInterval
    private let clock: @Sendable () -> Date
    private var failures: [String: [Date]] = [:]

    init(limit: Int = 5, window: TimeInterval = 15 * 60, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.limit = limit
        self.window = window
        self.clock = clock
    }

    /// A try before its password is checked: whole seconds to wait, or nil when it may go on. The
    /// try counts as a failure at once, so that tries in flight together cannot pass the limit
    /// (bcrypt takes a while); ``succeeded(_:)`` takes it back.
    func admit(user: String, address: String?) -> Attempt.Decision {
        let now = clock()
        let keys = Self.keys(user: user, address: address)
        forget(before: now.addingTimeInterval(-window), only: failures.count > 10_000 ? nil : keys)
        let waits = keys.compactMap { key -> TimeInterval? in
            guard let times = failures[key], times.count >= limit else { return nil }
            // Once this one leaves the window, fewer than `limit` remain.
            return times[times.count - limit].addingTimeInterval(window).timeIntervalSince(now)
        }
        if let wait = waits.max() { return .refused(retryAfter: max(1, Int(wait.rounded(.up)))) }
        for key in keys { failures[key, default: []].append(now) }
        return .admitted(Attempt(user: user, address: address, at: now))
    }

    /// The password was right: the try was no failure, and the user's earlier failures are
    /// forgotten. The address keeps its own, so signing in to one's own account between guesses
    /// at another's does not reset the count of those guesses.
    func succeeded(_ attempt: Attempt) {
        failures[Self.keys(user: attempt.user, address: nil)[0]] = nil
        if let address = attempt.address {
            let key = Self.keys(user: attempt.user, address: address)[1]
            if let index = failures[key]?.lastIndex(of: attempt.at) { failures[key]!.remove(at: index) }
        }
    }

    struct Attempt: Sendable {
        let user: String, address: String?, at: Date

        enum Decision: Sendable {
            case admitted(Attempt)
            case refused(retryAfter: Int)
        }
    }

    private static func keys(user: String, address: String?) -> [String] {
        ["user:" + user] + (address.map { ["address:" + $0] } ?? [])
    }

    /// Drops failures older than the window: of `keys`, or of every key when the table has grown.
    private func forget(before cut: Date, only keys: [String]?) {
        for key in keys ?? Array(failures.keys) {
            guard let times = failures[key] else { continue }
            let kept = times.filter { $0 > cut }
            failures[key] = kept.isEmpty ? nil : kept
        }
    }
}
