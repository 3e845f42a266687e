import CheckKit
import Foundation
import NTMAlerting
import NTMDelivery
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

    public typealias Receiver = ReceiverConfiguration
    public typealias Route = NTMAlerting.Route

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
    /// Alertmanagers that get the firing and resolved alerts through their API v2.
    public var alertmanagers: [AlertmanagerSync.Endpoint]
    public var route: Route
    public var delivery: DeliverySettings
    /// Alertmanager's `inhibit_rules`; the domain's defaults unless the file sets its own.
    public var inhibitRules: [InhibitRule] = InhibitRule.defaults
    /// Where `/metrics`, `/healthz` and `/readyz` are served (`http.listen`); nil: not served.
    public var httpListen: (host: String, port: Int)?
    /// The web console on the same listener (`http.console`); nil: pages off.
    public var console: ConsoleSettings?
    /// Where the file was read from.
    public var path: String

    public struct ConsoleSettings: Sendable {
        /// The journald catalog whose "Cần làm gì" / "What to do" paragraphs the alert pages show.
        public var catalog: String
        /// Lines `user:bcrypt-hash`; with it, silences can be managed after a login.
        public var passwordFile: String?
        /// A header naming the user, set by a reverse proxy that did the login.
        public var proxyUserHeader: String?
        /// Only requests from these peer addresses may carry `proxyUserHeader`.
        public var trustedProxies: [String]

        public init(catalog: String = "/usr/lib/systemd/catalog/ntmwatch.catalog", passwordFile: String? = nil,
                    proxyUserHeader: String? = nil, trustedProxies: [String] = []) {
            self.catalog = catalog; self.passwordFile = passwordFile
            self.proxyUserHeader = proxyUserHeader; self.trustedProxies = trustedProxies
        }
    }

    public static let defaultRepeatInterval = AlertTracker.defaultRepeatInterval
}
