/// How urgently a finding needs a person. Ordered from least to most severe.
public enum Severity: String, Sendable, Codable, CaseIterable, Comparable {
    case info, notice, warning, error, critical

    /// The syslog priority journald stores for this severity.
    public var syslogPriority: Int {
        switch self {
        case .critical: 2
        case .error: 3
        case .warning: 4
        case .notice: 5
        case .info: 6
        }
    }

    private var rank: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}
