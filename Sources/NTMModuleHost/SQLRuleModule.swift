import CheckKit
import Foundation

/// A check written as one read-only SQL query, described by `<name>.sql.yaml`: each row (that
/// passes the optional condition) is a finding about the subject its columns name, and every
/// column is a value the message can use. The store refuses writes itself (a read-only connection
/// or transaction) and applies its query time limit; nothing here inspects the SQL.
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

    init(manifest path: String) throws(ModuleLoadFailure) {
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
        } catch let error as ConfigError {
            throw ModuleLoadFailure(path: path, reason: error.description)
        } catch {
            throw ModuleLoadFailure(path: path, reason: "\(error)")
        }
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
        let rows = try await context.store.query(query, parameters: bound)
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
            findings.append(Finding(rule: rule, subject: Subject(kind: subject.kind, id: id, name: row[subject.name]?.plain ?? id,
                                                                 unitID: subject.unit.flatMap { row[$0]?.plain }),
                                    values: values))
        }
        return findings
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
