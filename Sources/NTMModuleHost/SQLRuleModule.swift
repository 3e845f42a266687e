import CheckKit
import Foundation
import NTMStore

/// A check written as one read-only SQL query, described by `<name>.sql.yaml`: each row (that
/// passes the optional condition) is a finding about the subject its columns name, and every
/// column is a value the message can use.
///
/// Read-only twice over: at load, a query that is not one SELECT (or WITH/VALUES), or that names a
/// statement that writes, attaches or sets a PRAGMA, is refused with the reason (on SQLite it is
/// also compiled against the store under the read-only authorizer); at run time, SQLite queries
/// run on the host's own read-only connection with that authorizer and are interrupted at the
/// deadline (``SQLiteRuleQuery``), PostgreSQL queries in a READ ONLY transaction with
/// `statement_timeout`.
struct SQLRuleModule: CheckModule {
    struct Condition {
        let column: String
        let operation: String
        let number: Double

        init?(_ text: String) {
            let parts = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard parts.count == 3, ["<", "<=", ">", ">=", "=", "!="].contains(parts[1]), let number = Double(parts[2]) else { return nil }
            column = parts[0]; operation = parts[1]; self.number = number
        }

        func holds(for value: Double) -> Bool {
            switch operation {
            case "<": value < number
            case "<=": value <= number
            case ">": value > number
            case ">=": value >= number
            case "=": value == number
            default: value != number
            }
        }
    }

    /// Which columns give the subject.
    struct SubjectColumns {
        let kind: String
        let id: String
        let name: String
        let unit: String?
    }

    let descriptor: ModuleDescriptor
    let query: String
    /// `today`, `instant`, or a literal, bound in order to the query's `?`.
    let parameters: [String]
    let subject: SubjectColumns
    let condition: Condition?
    let manifestInterval: Duration?
    let manifestTimeout: Duration?
    let access: ModuleStoreAccess

    init(manifest path: String, access: ModuleStoreAccess = ModuleStoreAccess()) throws(ModuleLoadFailure) {
        do {
            let section = try ManifestHeader.section(path: path)
            let header = try ManifestHeader(section)
            query = try section.requiredString("query")
            parameters = try section.strings("parameters") ?? []
            let columns = try section.stringMap("subject") ?? [:]
            guard let id = columns["id"] else {
                throw section.error(section["subject"], "subject", vi: "cần subject: {id: CỘT, name: CỘT, kind: loại, unit: CỘT}",
                                    en: "needs subject: {id: COLUMN, name: COLUMN, kind: kind, unit: COLUMN}")
            }
            subject = SubjectColumns(kind: columns["kind"] ?? "unit", id: id, name: columns["name"] ?? id, unit: columns["unit"])
            if let text = try section.string("condition") {
                guard let parsed = Condition(text) else {
                    throw section.error(section["condition"], "condition", vi: "điều kiện có dạng 'CỘT < số' (<, <=, >, >=, =, !=)",
                                        en: "a condition reads 'COLUMN < number' (<, <=, >, >=, =, !=)")
                }
                condition = parsed
            } else {
                condition = nil
            }
            let rule = try ManifestHeader.rule(section, module: header.name, defaultID: try section.string("rule") ?? "found")
            try section.rejectUnknownKeys()
            descriptor = ModuleDescriptor(name: header.name, version: "sql", summary: header.title, settings: [], rules: [rule])
            manifestInterval = header.interval
            manifestTimeout = header.timeout
            self.access = access
        } catch let error as ConfigError {
            throw ModuleLoadFailure(path: path, reason: error.description)
        } catch {
            throw ModuleLoadFailure(path: path, reason: "\(error)")
        }
        if let refusal = Self.refusal(of: query) ?? sqliteQuery.flatMap({ $0.refusal(parameterCount: parameters.count) }) {
            throw ModuleLoadFailure(path: path, reason: "query: \(refusal)")
        }
    }

    /// The query on the host's own SQLite connection, when the store is an SQLite file that exists.
    var sqliteQuery: SQLiteRuleQuery? {
        guard case .sqlite(let path)? = access.store, FileManager.default.fileExists(atPath: path) else { return nil }
        return SQLiteRuleQuery(path: path, query: query)
    }

    /// Statements and functions that write, reach outside the store or change the connection.
    static let forbiddenWords: Set<String> = [
        "ATTACH", "DETACH", "PRAGMA", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "VACUUM", "REINDEX",
        "LOAD_EXTENSION", "COPY", "TRUNCATE", "GRANT", "REVOKE", "LISTEN", "NOTIFY", "CALL",
    ]

    /// Why a query's text cannot be a SQL rule, or nil, for both backends: several statements
    /// (only the first would run), not a query, or a forbidden word outside strings and comments.
    static func refusal(of query: String) -> String? {
        var statements: [[String]] = [[]]
        var characters = Substring(query)
        while let character = characters.first {
            if character == ";" {
                statements.append([])
                characters.removeFirst()
            } else if characters.hasPrefix("--") {
                characters = characters.drop { $0 != "\n" }
            } else if characters.hasPrefix("/*") {
                characters = characters.dropFirst(2)
                while !characters.isEmpty && !characters.hasPrefix("*/") { characters.removeFirst() }
                characters = characters.dropFirst(2)
            } else if let close = ["'": "'", "\"": "\"", "`": "`", "[": "]"][character] {
                characters.removeFirst()
                characters = characters.drop { String($0) != close }.dropFirst()
            } else if character.isLetter || character == "_" {
                let word = characters.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "$" }
                statements[statements.count - 1].append(word.uppercased())
                characters = characters.dropFirst(word.count)
            } else {
                characters.removeFirst()
            }
        }
        let nonEmpty = statements.filter { !$0.isEmpty }
        guard let words = nonEmpty.first else { return "the query is empty" }
        if nonEmpty.count > 1 {
            return "the query holds \(nonEmpty.count) statements; a SQL rule is exactly one query (only the first would run)"
        }
        guard ["SELECT", "WITH", "VALUES"].contains(words[0]) else {
            return "the query begins with \(words[0]); a SQL rule is one read-only query (SELECT, WITH or VALUES)"
        }
        if let word = words.first(where: forbiddenWords.contains) {
            return "refused: the query uses \(word), and a SQL rule may only read"
        }
        return nil
    }

    struct RowError: Error, CustomStringConvertible {
        let description: String
    }

    func evaluate(_ context: EvaluationContext) async throws -> [Finding] {
        let bound: [Value] = parameters.map { name in
            switch name {
            case "today": .text(context.today.description)
            case "instant": .text(context.instant.formatted(.iso8601))
            default: Double(name).map { .number($0) } ?? .text(name)
            }
        }
        let rows: [StoreRow]
        if let sqliteQuery {
            rows = try await sqliteQuery.run(parameters: bound, timeout: access.queryTimeout)
        } else {
            rows = try await context.store.query(query, parameters: bound)
        }
        let rule = descriptor.rules[0]
        var findings: [Finding] = []
        for (index, row) in rows.enumerated() {
            guard let id = row[subject.id]?.plain, !id.isEmpty else {
                throw RowError(description: "row \(index + 1) has no value in the subject column '\(subject.id)'; columns: \(row.columns.joined(separator: ", "))")
            }
            if let condition {
                guard let cell = row[condition.column] else {
                    throw RowError(description: "the condition's column '\(condition.column)' is not in the result; columns: \(row.columns.joined(separator: ", "))")
                }
                guard let number = Self.number(cell), condition.holds(for: number) else { continue }
            }
            var values: [String: Value] = [:]
            for (column, value) in zip(row.columns, row.values) {
                guard let value else { continue }
                // Dates are stored as ISO text; as dates they read "20/11/2020" in Vietnamese.
                if case .text(let text) = value, text.count == 10, let date = CivilDate(text) {
                    values[column] = .date(date)
                } else {
                    values[column] = value
                }
            }
            Self.mergeLanguagePairs(&values)
            findings.append(Finding(rule: rule, subject: Subject(kind: subject.kind, id: id, name: row[subject.name]?.plain ?? id,
                                                                 unitID: subject.unit.flatMap { row[$0]?.plain }),
                                    values: values))
        }
        return findings
    }

    /// Columns `x_vi` and `x_en` also give the localized value `x`, so a message writes `{x}` and
    /// each reader gets their language; the pair stays for templates that name it.
    static func mergeLanguagePairs(_ values: inout [String: Value]) {
        for key in values.keys where key.hasSuffix("_vi") {
            let base = String(key.dropLast(3))
            guard !base.isEmpty, values[base] == nil, let vi = values[key], let en = values[base + "_en"] else { continue }
            values[base] = .localized(LocalizedText(vi: vi.plain, en: en.plain))
        }
    }

    static func number(_ value: Value) -> Double? {
        switch value {
        case .integer(let i), .amountVND(let i): Double(i)
        case .number(let d), .percent(let d): d
        case .text(let s): Double(s)
        case .bool(let b): b ? 1 : 0
        default: nil
        }
    }
}
