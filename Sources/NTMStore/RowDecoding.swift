import CheckKit
import Foundation
import NTMSQLite
import PostgresKit
import SQLKit

/// Typed access to columns, the same on both backends.
extension SQLRow {
    func text(_ column: String) throws -> String { try decode(column: column, as: String.self) }
    func optionalText(_ column: String) throws -> String? {
        try decode(column: column, as: String?.self).flatMap { $0.isEmpty ? nil : $0 }
    }
    func int(_ column: String) throws -> Int { try decode(column: column, as: Int.self) }
    func optionalInt(_ column: String) throws -> Int? { try decode(column: column, as: Int?.self) }
    func int64(_ column: String) throws -> Int64 { try decode(column: column, as: Int64.self) }
    func double(_ column: String) throws -> Double { try decode(column: column, as: Double.self) }
    func optionalDouble(_ column: String) throws -> Double? { try decode(column: column, as: Double?.self) }
    /// A civil date column; nil when empty or not a real date.
    func date(_ column: String) throws -> CivilDate? { try optionalText(column).flatMap(StoreTime.day) }
}

/// A row the store reader decodes: on SQLite straight from the statement being stepped, by
/// column position (sql-kit's `Decoder` per column, then SQLiteNIO's row arrays, were a fifth of
/// a national cycle and most of its peak memory, issue 21); on PostgreSQL through sql-kit. Both
/// read a column the same way: text as text, numbers converted as sql-kit would.
enum ReaderRow {
    case native(NativeRow)
    case sql(any SQLRow)

    struct BadColumn: Error, CustomStringConvertible {
        let column: String, expected: String, found: String
        var description: String { "the store's column \(column) holds \(found), not \(expected)" }
    }

    /// A column that may not be NULL.
    private static func required<T>(_ value: T?, _ column: String, _ expected: String) throws -> T {
        guard let value else { throw BadColumn(column: column, expected: expected, found: "NULL") }
        return value
    }

    func text(_ column: String) throws -> String {
        switch self {
        case .native(let row): try Self.required(row.text(column), column, "text")
        case .sql(let row): try row.text(column)
        }
    }
    func optionalText(_ column: String) throws -> String? {
        switch self {
        case .native(let row): try row.text(column).flatMap { $0.isEmpty ? nil : $0 }
        case .sql(let row): try row.optionalText(column)
        }
    }
    func int(_ column: String) throws -> Int { Int(try int64(column)) }
    func optionalInt(_ column: String) throws -> Int? {
        switch self {
        case .native(let row): try row.integer(column).map(Int.init)
        case .sql(let row): try row.optionalInt(column)
        }
    }
    func int64(_ column: String) throws -> Int64 {
        switch self {
        case .native(let row): try Self.required(row.integer(column), column, "an integer")
        case .sql(let row): try row.int64(column)
        }
    }
    func double(_ column: String) throws -> Double {
        switch self {
        case .native(let row): try Self.required(row.number(column), column, "a number")
        case .sql(let row): try row.double(column)
        }
    }
    func optionalDouble(_ column: String) throws -> Double? {
        switch self {
        case .native(let row): try row.number(column)
        case .sql(let row): try row.optionalDouble(column)
        }
    }
    /// A civil date column; nil when empty or not a real date.
    func date(_ column: String) throws -> CivilDate? {
        switch self {
        case .native(let row): try row.date(column)
        case .sql(let row): try row.date(column)
        }
    }
}

/// The current row of a statement being stepped (``SQLiteSnapshot``), read by column name.
/// Valid only until the next step. One object per query, not a struct: each column read passes
/// the row along (``ReaderRow``), and a struct of four references was four retains and releases
/// a column, a tenth of a national cycle's store reading (issue 21).
final class NativeRow {
    let statement: SQLite3Statement
    let columns: [String]
    /// Only for rows too wide to search (see ``position(_:)``).
    private let positions: [String: Int]?

    /// Each column's last text, given again while the next rows repeat it.
    private let recent: RecentTexts

    init(_ statement: SQLite3Statement) {
        self.statement = statement
        columns = (0..<statement.columnCount).map(statement.columnName)
        positions = columns.count > 16
            ? Dictionary(columns.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first }) : nil
        recent = RecentTexts(columns: columns.count)
    }

    /// A text longer than fits inside a `String` (15 bytes) is a heap allocation of its own, and
    /// rows ordered by a key repeat the texts beside it: each of a national store's 1.9 million
    /// assessments held its own copy of its set's id ("xa-ntm-2021-2025"), 135 MB (issue 21).
    /// The same text as the row before in that column is that row's string, shared.
    private final class RecentTexts {
        var byPosition: [String?]

        init(columns: Int) { byPosition = Array(repeating: nil, count: columns) }

        func text(_ statement: SQLite3Statement, _ position: Int) -> String {
            statement.withText(position) { bytes in
                guard bytes.count > 15 else { return String(decoding: bytes, as: UTF8.self) }
                if var last = byPosition[position], last.utf8.count == bytes.count,
                   last.withUTF8({ $0.elementsEqual(bytes) }) {
                    return last
                }
                let made = String(decoding: bytes, as: UTF8.self)
                byPosition[position] = made
                return made
            }
        }
    }

    /// A query's few columns are searched: the names are short, and comparing them cost less
    /// than hashing the name for every column of every row.
    private func position(_ column: String) throws -> Int {
        let found = if let positions { positions[column] } else { columns.firstIndex(of: column) }
        guard let position = found else {
            throw ReaderRow.BadColumn(column: column, expected: "a column", found: "nothing (no such column)")
        }
        return position
    }

    private func found(_ position: Int) -> String {
        switch statement.type(position) {
        case .blob: "a blob"
        case .text: "\"\(statement.text(position))\""
        case .integer: String(statement.int64(position))
        case .real: String(statement.double(position))
        case .null: "NULL"
        }
    }

    /// Text from text, or from a number written as sql-kit writes it; nil for NULL.
    func text(_ column: String) throws -> String? {
        let position = try position(column)
        switch statement.type(position) {
        case .text: return recent.text(statement, position)
        case .integer: return String(statement.int64(position))
        case .real: return String(statement.double(position))
        case .null: return nil
        case .blob: throw ReaderRow.BadColumn(column: column, expected: "text", found: found(position))
        }
    }

    /// Integers only from integers, as sql-kit converts; nil for NULL.
    func integer(_ column: String) throws -> Int64? {
        let position = try position(column)
        switch statement.type(position) {
        case .integer: return statement.int64(position)
        case .null: return nil
        default: throw ReaderRow.BadColumn(column: column, expected: "an integer", found: found(position))
        }
    }

    /// Numbers from integers and reals; nil for NULL.
    func number(_ column: String) throws -> Double? {
        let position = try position(column)
        switch statement.type(position) {
        case .integer, .real: return statement.double(position)
        case .null: return nil
        default: throw ReaderRow.BadColumn(column: column, expected: "a number", found: found(position))
        }
    }

    /// A civil date read from the column's bytes when it has the store's `YYYY-MM-DD` form;
    /// nil when empty, NULL or not a real date.
    func date(_ column: String) throws -> CivilDate? {
        let position = try position(column)
        guard statement.type(position) == .text else { return try text(column).flatMap { $0.isEmpty ? nil : StoreTime.day($0) } }
        let fast: CivilDate?? = statement.withText(position) { bytes in bytes.isEmpty ? .some(nil) : StoreTime.storeDay(bytes) }
        return fast ?? StoreTime.day(statement.text(position))
    }
}

/// How instants are written in the store: ISO 8601 in UTC, to the second, so that text order is
/// time order on both backends.
package enum StoreTime {
    package static func format(_ instant: Date) -> String {
        instant.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: false, timeZone: TimeZone(identifier: "UTC")!))
    }

    /// Reads an ISO 8601 instant with any offset, or a civil date (its first instant in Vietnam).
    static func parse(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let date = try? Date(trimmed, strategy: .iso8601) { return date }
        if let date = CivilDate(trimmed), trimmed.count <= 10 { return date.startInstant() }
        return nil
    }

    /// A civil date as the store writes it, `YYYY-MM-DD`, read byte by byte: dates are most of a
    /// cycle's columns, and the general parser's splitting cost a tenth of a national cycle
    /// (issue 21). Anything else (an operator's `DD/MM/YYYY`, blanks) goes to the general parser.
    static func day(_ text: String) -> CivilDate? {
        var text = text
        return text.withUTF8(storeDay) ?? CivilDate(text)
    }

    /// `.some` when `bytes` have the store's `YYYY-MM-DD` form (`.some(nil)` for an impossible
    /// day like `2023-02-30`), `.none` for any other form.
    static func storeDay(_ bytes: UnsafeBufferPointer<UInt8>) -> CivilDate?? {
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return .none }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let digit = Int(bytes[index]) - 48
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10) else { return .none }
        return .some(CivilDate(year: year, month: month, day: day))
    }

    /// `{"mountain": 70, "plains": 90}`.
    static func regionThresholds(_ json: String) -> [String: Double]? {
        try? JSONDecoder().decode([String: Double].self, from: Data(json.utf8))
    }
}

/// The text form of an obligation's schedule in the store: `2024-10-30` (once), `monthly:20`,
/// `quarterly:03-15|06-15|09-15|12-15` (one date in each quarter, in order), `yearly:06-30`.
public enum ObligationSchedule {
    public static func parse(_ text: String) -> Obligation.Schedule? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("monthly:") {
            guard let day = Int(trimmed.dropFirst("monthly:".count)), (1...31).contains(day) else { return nil }
            return .monthly(day: day)
        }
        if trimmed.hasPrefix("quarterly:") {
            let dates = trimmed.dropFirst("quarterly:".count).split(separator: "|", omittingEmptySubsequences: false).map(monthDay)
            // The n-th date in the n-th quarter: a list out of order or with two dates in one quarter
            // is a typing mistake, not a schedule.
            guard dates.count == 4,
                  dates.enumerated().allSatisfy({ $0.element.map { ($0.month - 1) / 3 } == $0.offset }) else { return nil }
            return .quarterly(dates: dates.compactMap { $0 })
        }
        if trimmed.hasPrefix("yearly:") {
            guard let date = monthDay(trimmed.dropFirst("yearly:".count)) else { return nil }
            return .yearly(month: date.month, day: date.day)
        }
        return CivilDate(trimmed).map { .once(due: $0) }
    }

    /// `MM-DD`.
    static func monthDay(_ text: Substring) -> Obligation.Schedule.MonthDay? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let month = Int(parts[0]), let day = Int(parts[1]) else { return nil }
        return Obligation.Schedule.MonthDay(month: month, day: day)
    }

    public static func format(_ schedule: Obligation.Schedule) -> String {
        switch schedule {
        case .once(let due): due.description
        case .monthly(let day): "monthly:\(day)"
        case .quarterly(let dates): "quarterly:" + dates.map { String(format: "%02d-%02d", $0.month, $0.day) }.joined(separator: "|")
        case .yearly(let month, let day): String(format: "yearly:%02d-%02d", month, day)
        }
    }

    static func parseDays(_ text: String) -> [Int] {
        text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }
}

/// An operator's SQL query, run with `?` placeholders bound in order. Read-only is the
/// connection's business (SQLite `query_only`, PostgreSQL read-only transaction), not ours.
enum ReadOnlyQuery {
    struct ParameterCountMismatch: Error, CustomStringConvertible {
        let placeholders: Int, parameters: Int
        var description: String { "the query has \(placeholders) '?' placeholders but \(parameters) parameters were given" }
    }

    /// A query the server refused or stopped, with what the server said.
    struct Failed: Error, CustomStringConvertible {
        let description: String
    }

    static func run(_ text: String, parameters: [Value], on sql: any SQLDatabase) async throws -> [StoreRow] {
        let query = try bind(text, parameters)
        do {
            return try await sql.raw(query).all().map(storeRow)
        } catch let error as PSQLError {
            throw Failed(description: serverMessage(error))
        }
    }

    /// PSQLError's own description is a generic text, on purpose (it may hold the query's data);
    /// the server's message, SQLSTATE, detail and hint say what went wrong and are safe to show.
    static func serverMessage(_ error: PSQLError) -> String {
        guard let info = error.serverInfo, let message = info[.message] else {
            return "the query failed: \(error.code.description)"
        }
        var text = "the PostgreSQL server refused the query: \(message)"
        if let state = info[.sqlState] { text += " (SQLSTATE \(state))" }
        if let detail = info[.detail] { text += "; \(detail)" }
        if let hint = info[.hint] { text += "; hint: \(hint)" }
        return Redaction.redact(text)
    }

    static func bind(_ text: String, _ parameters: [Value]) throws -> SQLQueryString {
        var query = SQLQueryString("")
        var literal = ""
        var quote: Character?
        var index = 0
        for character in text {
            if let open = quote {
                if character == open { quote = nil }
                literal.append(character)
            } else if character == "'" || character == "\"" {
                quote = character
                literal.append(character)
            } else if character == "?" {
                guard index < parameters.count else {
                    throw ParameterCountMismatch(placeholders: placeholderCount(text), parameters: parameters.count)
                }
                query.appendLiteral(literal)
                literal = ""
                appendBind(parameters[index], to: &query)
                index += 1
            } else {
                literal.append(character)
            }
        }
        guard index == parameters.count else {
            throw ParameterCountMismatch(placeholders: index, parameters: parameters.count)
        }
        query.appendLiteral(literal)
        return query
    }

    private static func placeholderCount(_ text: String) -> Int { text.filter { $0 == "?" }.count }

    private static func appendBind(_ value: Value, to query: inout SQLQueryString) {
        switch value {
        case .integer(let i), .amountVND(let i): query.appendInterpolation(bind: i)
        case .number(let d), .percent(let d): query.appendInterpolation(bind: d)
        case .bool(let b): query.appendInterpolation(bind: b ? 1 : 0)
        case .instant(let t): query.appendInterpolation(bind: StoreTime.format(t))
        case .text, .date, .list, .localized: query.appendInterpolation(bind: value.plain)
        }
    }

    static func storeRow(_ row: any SQLRow) -> StoreRow {
        let columns = row.allColumns
        let values: [Value?] = columns.map { column in
            if (try? row.decodeNil(column: column)) == true { return nil }
            if let i = try? row.decode(column: column, as: Int64.self) { return .integer(i) }
            if let d = try? row.decode(column: column, as: Double.self) { return .number(d) }
            if let s = try? row.decode(column: column, as: String.self) { return .text(s) }
            if let b = try? row.decode(column: column, as: Bool.self) { return .bool(b) }
            return nil
        }
        return StoreRow(columns: columns, values: values)
    }
}
