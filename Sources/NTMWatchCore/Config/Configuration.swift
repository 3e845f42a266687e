import CheckKit
import Foundation
import NTMStore

/// The daemon's configuration, validated. See `Config/ntmwatch.yaml` for the commented example.
public struct Configuration: Sendable {
    public struct StoreSettings: Sendable {
        public var location: StoreLocation
        /// A folder of CSV/JSON files that fills the store when it is created empty.
        public var seedFrom: String?
        public var queryTimeout: Duration
        /// A PostgreSQL URL of a read-only role, handed to exec modules (`store.readonly_url[_file]`).
        public var readOnlyURL: String?
    }

    public struct CheckSettings: Sendable {
        /// The name alerts carry in their `check` label; the module name unless set.
        public var name: String
        public var module: String
        public var interval: Duration
        public var timeout: Duration
        public var settings: [String: SettingValue]
        /// Rule id → severity, replacing the rule's default.
        public var severity: [String: Severity]
        /// Rule id → pending duration, replacing the rule's default `for`.
        public var pendingFor: [String: Duration]
        /// Where the check's block starts in the file, for errors found later (module settings).
        public var line: Int
    }

    public struct Receiver: Sendable {
        public var name: String
        public var directory: String
        public var maxSpoolBytes: Int64
        /// At most this many alerts in one file; the rest are counted in `truncatedAlerts`.
        public var maxAlertsPerFile: Int
    }

    public struct Route: Sendable {
        public var receiver: String?
        public var match: [String: String]
        public var matchRegex: [String: String]
        public var groupBy: [String]?
        public var continueMatching: Bool
        public var routes: [Route]
    }

    public var instance: String
    public var language: Language
    public var stateDirectory: String
    public var store: StoreSettings
    public var moduleDirectories: [String]
    public var maxConcurrentChecks: Int
    /// For checks that do not set their own, and for manifest modules (`*.exec.yaml`,
    /// `*.sql.yaml`) that run without a `checks:` entry.
    public var defaultInterval: Duration
    public var defaultTimeout: Duration
    public var checks: [CheckSettings]
    /// Severity → how long a still-firing alert waits before it is notified again.
    public var repeatInterval: [Severity: Duration]
    public var journald: Bool
    public var externalURL: String
    public var receivers: [Receiver]
    public var route: Route
    /// Where the file was read from.
    public var path: String

    public static let defaultRepeatInterval: [Severity: Duration] = [
        .critical: .seconds(4 * 3600), .error: .seconds(12 * 3600), .warning: .seconds(24 * 3600),
        .notice: .seconds(72 * 3600), .info: .seconds(168 * 3600),
    ]
}
