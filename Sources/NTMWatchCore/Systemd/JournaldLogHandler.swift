import Foundation
import NTMAlerting
import NTMDelivery
import Logging

/// swift-log to journald, with metadata as structured fields. Used when journald listens;
/// otherwise the daemon logs to stderr and says so once.
public struct JournaldLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("MESSAGE", event.message.description),
            ("PRIORITY", String(Self.priority(event.level))),
            ("SYSLOG_IDENTIFIER", "ntmwatchd"),
            ("CODE_FILE", event.file), ("CODE_LINE", String(event.line)), ("CODE_FUNC", event.function),
            ("NTMWATCH_LOGGER", label),
        ]
        for (key, value) in self.metadata.merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new }) {
            fields.append(("NTMWATCH_" + Journal.fieldName(key), value.description))
        }
        Journal.send(fields)
    }

    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .critical: 2
        case .error: 3
        case .warning: 4
        case .notice: 5
        case .info: 6
        case .debug, .trace: 7
        }
    }
}

public enum DaemonLogging {
    /// Sends swift-log to journald when it listens, else to stderr. Returns where logs go.
    @discardableResult
    public static func bootstrap(level: Logger.Level = .info) -> String {
        let toJournal = Journal.isAvailable
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = toJournal ? JournaldLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        if !toJournal {
            Logger(label: "ntmwatchd").notice("journald is not listening at \(Journal.socketPath); logging to stderr")
        }
        return toJournal ? "journald" : "stderr"
    }
}
