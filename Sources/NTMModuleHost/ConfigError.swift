import CheckKit

/// A configuration problem, with the place in the file.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int?
    public let column: Int?
    public let key: String?
    public let message: LocalizedText

    package init(file: String, line: Int?, column: Int?, key: String?, message: LocalizedText) {
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.message = message
    }

    public func text(in language: Language) -> String {
        var place = file
        if let line { place += ":\(line)" }
        if let column { place += ":\(column)" }
        if let key { place += ": \(key)" }
        return "\(place): \(message.text(in: language))"
    }

    public var description: String { text(in: .en) }
}
