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

    /// A receiver takes its notifications as files in a spool folder (`directory`) or as HTTP
    /// POSTs (`http`): exactly one of the two is set.
    public struct Receiver: Sendable {
        public var name: String
        public var directory: String?
        public var http: HTTPEndpoint?
        public var maxSpoolBytes: Int64
        /// At most this many alerts in one file or request; the rest are counted in `truncatedAlerts`.
        public var maxAlertsPerFile: Int
    }

    public struct HTTPEndpoint: Sendable {
        public var url: URL
        public var headers: [String: String]
        /// Where the HMAC key is; requests are unsigned without one.
        public var secret: SecretSource?
        public var timeout: Duration
        /// PEM certificates trusted instead of the system's.
        public var caFile: String?
        /// At most this many alerts in one request; the rest are counted in `truncatedAlerts`.
        public var maxAlerts: Int
    }

    /// Where a secret is read from. The secret itself is read only where it is used, so that
    /// the configuration never holds it and cannot print it.
    public enum SecretSource: Sendable, Equatable {
        case file(String)
        /// A systemd credential (`LoadCredential=NAME:...`): `$CREDENTIALS_DIRECTORY/NAME`.
        case credential(String)
    }

    /// An Alertmanager that gets the firing and resolved alerts through its API v2.
    public struct Alertmanager: Sendable {
        public var url: URL
        public var timeout: Duration
        public var resendInterval: Duration
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
    public var alertmanagers: [Alertmanager]
    public var route: Route
    /// Where the file was read from.
    public var path: String

    public static let defaultRepeatInterval: [Severity: Duration] = [
        .critical: .seconds(4 * 3600), .error: .seconds(12 * 3600), .warning: .seconds(24 * 3600),
        .notice: .seconds(72 * 3600), .info: .seconds(168 * 3600),
    ]
}

/// A configuration problem, with the place in the file.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int?
    public let column: Int?
    public let key: String?
    public let message: LocalizedText

    public func text(in language: Language) -> String {
        var place = file
        if let line { place += ":\(line)" }
        if let column { place += ":\(column)" }
        if let key { place += ": \(key)" }
        return "\(place): \(message.text(in: language))"
    }

    public var description: String { text(in: .en) }
}
