import CheckKit

/// Why an import was refused. Nothing was written.
public struct ImportError: Error, Sendable, CustomStringConvertible {
    public struct Problem: Sendable, Hashable {
        public let row: Int?
        public let column: String?
        public let value: String?
        public let reason: LocalizedText

        package init(row: Int?, column: String?, value: String?, reason: LocalizedText) {
            self.row = row; self.column = column; self.value = value; self.reason = reason
        }

        package init(row: Int?, column: String?, value: String?, reason: String) {
            self.init(row: row, column: column, value: value, reason: LocalizedText(vi: reason, en: reason))
        }
    }

    public let file: String
    public let problems: [Problem]

    /// At most this many problems are listed; the rest are counted.
    static let listed = 50

    public func message(in language: Language) -> String {
        let rowWord = language == .vi ? "dòng" : "row"
        let columnWord = language == .vi ? "cột" : "column"
        return Self.listing(problems, in: language) { problem in
            var place = file
            if let row = problem.row { place += ":\(rowWord) \(row)" }
            if let column = problem.column { place += ", \(columnWord) '\(column)'" }
            if let value = problem.value { place += " ('\(Self.shortened(value))')" }
            return "\(place): \(problem.reason.text(in: language))"
        }
    }

    /// One line per problem, at most ``listed`` of them, then how many more, then that nothing was written.
    package static func listing<Item>(_ items: [Item], in language: Language, line: (Item) -> String) -> String {
        var lines = items.prefix(listed).map(line)
        if items.count > listed {
            lines.append(language == .vi ? "... và \(items.count - listed) lỗi khác" : "... and \(items.count - listed) more")
        }
        lines.append(language == .vi ? "Không có gì được ghi vào kho dữ liệu." : "Nothing was written to the store.")
        return lines.joined(separator: "\n")
    }

    public var description: String { message(in: .en) }

    /// At most this many characters of a value are quoted: a 5 MB cell must not make a 5 MB message.
    static let quotedLength = 80

    /// The value as written, cut to ``quotedLength`` characters with its full length said.
    package static func shortened(_ value: String) -> String {
        guard value.count > quotedLength else { return value }
        return "\(value.prefix(quotedLength))… (\(value.count) ký tự/characters)"
    }
}
