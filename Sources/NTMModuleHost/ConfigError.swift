import CheckKit

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
