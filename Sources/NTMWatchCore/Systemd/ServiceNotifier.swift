import CSystemd
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `sd_notify` messages to the service manager. Without `NOTIFY_SOCKET` they go nowhere,
/// which is what a daemon run by hand wants.
public struct ServiceNotifier: Sendable {
    public init() {}

    public var isSupervised: Bool { ProcessInfo.processInfo.environment["NOTIFY_SOCKET"] != nil }

    public func notify(_ state: String) {
        _ = sd_notify(0, state)
    }

    public func ready(status: String) { notify("READY=1\nSTATUS=\(status)") }
    public func reloading() {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let usec = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        notify("RELOADING=1\nMONOTONIC_USEC=\(usec)")
    }
    public func stopping() { notify("STOPPING=1") }
    public func status(_ text: String) { notify("STATUS=\(text)") }
    public func watchdog() { notify("WATCHDOG=1") }

    /// The watchdog interval systemd expects pings within, when it watches this process.
    public var watchdogInterval: Duration? {
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return .microseconds(Int64(usec))
    }
}
