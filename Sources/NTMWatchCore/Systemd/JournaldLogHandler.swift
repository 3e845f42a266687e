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

    public func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?,
                    source: String, file: String, function: String, line: UInt) {
        var fields: [(String, String)] = [
            ("MESSAGE", message.description),
            ("PRIORITY", String(Self.priority(level))),
            ("SYSLOG_IDENTIFIER", "ntmwatchd"),
            ("CODE_FILE", file), ("CODE_LINE", String(line)), ("CODE_FUNC", function),
            ("NTMWATCH_LOGGER", label),
        ]
        for (key, value) in self.metadata.merging(explicit ?? [:], uniquingKeysWith: { _, new in new }) {
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
