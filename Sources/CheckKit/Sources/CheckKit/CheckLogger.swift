/// The log a module writes to. The daemon sends it to journald with the module's name attached.
///
/// The SDK has its own small logger rather than swift-log's `Logger` so that it links nothing but
/// Foundation (see Package.swift).
public struct CheckLogger: Sendable {
    public enum Level: String, Sendable, Codable, CaseIterable {
        case debug, info, notice, warning, error
    }

    private let sink: @Sendable (Level, String, [String: String]) -> Void

    public init(_ sink: @escaping @Sendable (Level, String, [String: String]) -> Void) {
        self.sink = sink
    }

    /// A logger that drops everything, for tests.
    public static let discarding = CheckLogger { _, _, _ in }

    public func log(_ level: Level, _ message: String, metadata: [String: String] = [:]) {
        sink(level, message, metadata)
    }

    public func debug(_ message: String, metadata: [String: String] = [:]) { log(.debug, message, metadata: metadata) }
    public func info(_ message: String, metadata: [String: String] = [:]) { log(.info, message, metadata: metadata) }
    public func warning(_ message: String, metadata: [String: String] = [:]) { log(.warning, message, metadata: metadata) }
    public func error(_ message: String, metadata: [String: String] = [:]) { log(.error, message, metadata: metadata) }
}
