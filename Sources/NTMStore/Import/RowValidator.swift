import CheckKit
import Foundation
import SQLKit

/// Turns a file's text cells into typed rows, collecting every problem with its row and column.
struct RowValidator {
    let kind: ImportKind
    let spec: KindSpec
    let file: TabularFile
    private(set) var problems: [ImportError.Problem] = []

    private let units: UnitDirectory
    /// Ids that exist, per referenced table.
    private var existingIDs: [String: Set<String>] = [:]
    /// set id → criterion code → unit of measure.
    private var criteria: [String: [String: String]] = [:]
    /// Stored parent links, for the cycle check of a units import.
    private var storedParents: [String: String] = [:]

    init(kind: ImportKind, spec: KindSpec, file: TabularFile, connection: StoreConnection) async throws {
        self.kind = kind
        self.spec = spec
        self.file = file
        let sql = connection.sql
        var unitRows: [UnitDirectory.Entry] = []
        for row in try await sql.raw("SELECT id, name, parent_id FROM units").all() {
            unitRows.append(.init(id: try row.text("id"), name: try row.text("name"), parentID: try row.optionalText("parent_id")))
        }
        storedParents = Dictionary(uniqueKeysWithValues: unitRows.compactMap { u in u.parentID.map { (u.id, $0) } })
        var directory = UnitDirectory(unitRows)
        if kind == .units {
            // Units of the same file may be each other's parents.
            for record in file.records {
                guard let name = Self.cell(record, spec.fields[1]) else { continue }
                let id = Self.cell(record, spec.fields[0]) ?? ""
                directory.add(.init(id: id, name: name, parentID: Self.cell(record, spec.fields[3])))
            }
        }
        units = directory
        for case .reference(let table) in spec.fields.map(\.type) {
            let ids = try await sql.raw("SELECT id FROM \(unsafeRaw: table)").all().map { try $0.text("id") }
            existingIDs[table] = Set(ids)
        }
        if kind == .obligations {
            existingIDs["obligations", default: []].formUnion(file.records.compactMap { Self.cell($0, spec.fields[0]) })
        }
        if kind == .assessments {
            for row in try await sql.raw("SELECT set_id, code, unit FROM criteria").all() {
                criteria[try row.text("set_id"), default: [:]][try row.text("code")] = try row.optionalText("unit") ?? ""
            }
        }
    }

    private static func cell(_ record: TabularFile.Record, _ field: FieldSpec) -> String? {
        for key in field.headerKeys { if let value = record.cells[key], !value.isEmpty { return value } }
        return nil
    }

    /// Whether the row gives the column at all: an absent column keeps what the store holds.
    private static func gives(_ record: TabularFile.Record, _ field: FieldSpec) -> Bool {
        field.headerKeys.contains { record.cells[$0] != nil }
    }

    private mutating func problem(_ row: Int?, _ column: String?, _ value: String?, vi: String, en: String) {
        problems.append(.init(row: row, column: column, value: value, reason: LocalizedText(vi: vi, en: en)))
    }

    /// The typed rows. A column the row does not give is left out of its row, so that an update
    /// keeps the stored value (and an insert takes the column's default); an empty cell is in the
    /// row as the column's default, which clears the stored value.
    mutating func validate() -> [[String: Cell]] {
        checkHeaders()
        guard problems.isEmpty else { return [] }
        var rows: [[String: Cell]] = []
        var rowNumbers: [Int] = []
        var seenKeys: [[Cell]: Int] = [:]
        for record in file.records {
            let before = problems.count
            var row: [String: Cell] = [:]
            for field in spec.fields {
                if field.required || Self.gives(record, field) { row[field.column] = parse(field, in: record) }
            }
            if kind == .units, row["id"] ?? .null == .null, case .text(let name) = row["name"] {
                row["id"] = .text(units.derivedID(name: name, parentID: row["parent_id"].flatMap(\.text)))
            }
            if kind == .assessments { checkCriterion(row, record: record) }
            if problems.count == before {
                for check in spec.checks {
                    if let failure = check(row) {
                        // The value as the file wrote it, so the person can find it.
                        let written = spec.fields.first { $0.column == failure.column }.flatMap { Self.cell(record, $0) }
                        problems.append(.init(row: record.row, column: failure.column,
                                              value: written, reason: failure.reason))
                    }
                }
            }
            let key = spec.key.map { row[$0, default: .null] }
            if problems.count == before {
                if let first = seenKeys[key] {
                    let keyText = key.compactMap(\.text).joined(separator: ", ")
                    problem(record.row, spec.key.joined(separator: "+"), keyText,
                            vi: "trùng khóa với dòng \(first)", en: "duplicate key: same as row \(first)")
                } else {
                    seenKeys[key] = record.row
                }
            }
            rows.append(row)
            rowNumbers.append(record.row)
        }
        if kind == .units, problems.isEmpty { return parentsFirst(rows, rowNumbers) }
        return rows
    }

    private mutating func checkHeaders() {
        var known = Set<String>()
        for field in spec.fields { known.formUnion(field.headerKeys) }
        for header in file.headers where !known.contains(header.key) {
            if Importer.ignoredHeaders.contains(header.key) || Importer.parentHeaders.contains(header.key) { continue }
            problem(1, header.written, nil,
                    vi: "cột không dùng cho loại '\(kind.rawValue)'; các cột: \(spec.fields.map(\.column).joined(separator: ", "))",
                    en: "unknown column for kind '\(kind.rawValue)'; columns: \(spec.fields.map(\.column).joined(separator: ", "))")
        }
        let present = Set(file.headers.map(\.key))
        for field in spec.fields where field.required && present.isDisjoint(with: field.headerKeys) {
            if kind == .units && field.column == "id" { continue }
            problem(1, field.column, nil, vi: "thiếu cột bắt buộc", en: "a required column is missing")
        }
    }

    private mutating func parse(_ field: FieldSpec, in record: TabularFile.Record) -> Cell {
        guard let text = Self.cell(record, field) else {
            if field.required { problem(record.row, field.column, nil, vi: "ô trống ở cột bắt buộc", en: "empty cell in a required column") }
            return field.defaultValue
        }
        let row = record.row, column = field.column
        switch field.type {
        case .text:
            return .text(text)
        case .integer(let range):
            guard let value = Int64(text), range.contains(value) else {
                problem(row, column, text, vi: "cần số nguyên từ \(range.lowerBound) đến \(range.upperBound)",
                        en: "expected a whole number from \(range.lowerBound) to \(range.upperBound)")
                return .null
            }
            return .integer(value)
        case .amount:
            guard let value = Self.amount(text) else {
                problem(row, column, text, vi: "cần số tiền (đồng, số nguyên)", en: "expected an amount in whole VND")
                return .null
            }
            guard value >= 0 else {
                problem(row, column, text, vi: "số tiền âm", en: "negative amount")
                return .null
            }
            return .integer(value)
        case .number(let range):
            guard let value = Self.number(text), range.contains(value) else {
                problem(row, column, text, vi: "cần một số", en: "expected a number")
                return .null
            }
            return .number(value)
        case .date:
            guard let date = CivilDate(text) else {
                problem(row, column, text, vi: "không phải ngày có thật (YYYY-MM-DD hoặc DD/MM/YYYY)",
                        en: "not a date that exists (YYYY-MM-DD or DD/MM/YYYY)")
                return .null
            }
            return .text(date.description)
        case .instant:
            guard let instant = StoreTime.parse(text) else {
                problem(row, column, text, vi: "không phải thời điểm hợp lệ (ISO 8601 hoặc ngày)",
                        en: "not a valid instant (ISO 8601, or a date)")
                return .null
            }
            return .text(StoreTime.format(instant))
        case .flag:
            switch NameKey.exact(text) {
            case "1", "true", "yes", "có", "x", "đạt": return .integer(1)
            case "0", "false", "no", "không", "không đạt", "chưa đạt": return .integer(0)
            default:
                problem(row, column, text, vi: "cần có/không (1/0)", en: "expected yes/no (1/0)")
                return .null
            }
        case .choice(let choices):
            let normalized = text.lowercased()
            guard choices.contains(normalized) else {
                problem(row, column, text, vi: "cần một trong: \(choices.joined(separator: ", "))",
                        en: "expected one of: \(choices.joined(separator: ", "))")
                return .null
            }
            return .text(normalized)
        case .unit:
            let parent = Importer.parentHeaders.lazy.compactMap { record.cells[$0] }.first { !$0.isEmpty }
            switch units.resolve(text, parent: kind == .units ? nil : parent) {
            case .found(let id): return .text(id)
            case .missing:
                problem(row, column, text, vi: "không có đơn vị này trong kho dữ liệu", en: "unknown unit")
            case .ambiguous(let ids):
                problem(row, column, text, vi: "nhiều đơn vị cùng tên (\(ids.joined(separator: ", "))); ghi mã hoặc cột huyện",
                        en: "several units have this name (\(ids.joined(separator: ", "))); give the id or a district column")
            }
            return .null
        case .reference(let table):
            guard existingIDs[table, default: []].contains(text) else {
                problem(row, column, text, vi: "không có mã này trong bảng \(table)", en: "no such id in \(table)")
                return .null
            }
            return .text(text)
        case .schedule:
            guard let schedule = ObligationSchedule.parse(text) else {
                problem(row, column, text, vi: "cần ngày (2024-10-30), monthly:N hoặc yearly:MM-DD",
                        en: "expected a date (2024-10-30), monthly:N or yearly:MM-DD")
                return .null
            }
            return .text(ObligationSchedule.format(schedule))
        case .days:
            let days = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !days.isEmpty, days.allSatisfy({ ($0 ?? -1) >= 0 }) else {
                problem(row, column, text, vi: "cần danh sách số ngày, ví dụ 30,14,7", en: "expected a list of days, e.g. 30,14,7")
                return .null
            }
            return .text(days.map { String($0!) }.joined(separator: ","))
        case .regionThresholds:
            guard let table = StoreTime.regionThresholds(text),
                  table.keys.allSatisfy(["plains", "midland", "mountain"].contains) else {
                problem(row, column, text, vi: "cần JSON như {\"mountain\": 70}", en: "expected JSON such as {\"mountain\": 70}")
                return .null
            }
            let data = (try? JSONEncoder.sorted.encode(table)) ?? Data()
            return .text(String(decoding: data, as: UTF8.self))
        }
    }

    private mutating func checkCriterion(_ row: [String: Cell], record: TabularFile.Record) {
        guard case .text(let set) = row["set_id"], case .text(let code) = row["criterion_code"] else { return }
        guard let unit = criteria[set]?[code] else {
            problem(record.row, "criterion_code", code, vi: "bộ tiêu chí \(set) không có tiêu chí này",
                    en: "criteria set \(set) has no such criterion")
            return
        }
        if unit == "%", case .number(let value) = row["value"], value < 0 || value > 100 {
            problem(record.row, "value", String(value), vi: "tỷ lệ phải từ 0% đến 100%", en: "a rate must be from 0% to 100%")
        }
    }

    /// Orders units so that each parent is written before its children, and reports a cycle.
    private mutating func parentsFirst(_ rows: [[String: Cell]], _ rowNumbers: [Int]) -> [[String: Cell]] {
        var parentOf = storedParents
        var indexOf: [String: Int] = [:]
        for (index, row) in rows.enumerated() {
            guard case .text(let id) = row["id"] else { continue }
            indexOf[id] = index
            switch row["parent_id"] {
            case .text(let parent)?: parentOf[id] = parent
            case nil: break                     // the file does not give parents: the stored one stays
            default: parentOf[id] = nil
            }
        }
        for (index, row) in rows.enumerated() {
            guard case .text(let start) = row["id"] else { continue }
            var seen: [String] = [start]
            var current = start
            while let parent = parentOf[current] {
                if parent == start {
                    problem(rowNumbers[index], "parent_id", row["parent_id"]?.text,
                            vi: "vòng lặp cấp trên: \((seen + [start]).joined(separator: " → "))",
                            en: "parent cycle: \((seen + [start]).joined(separator: " → "))")
                    break
                }
                if seen.contains(parent) { break }
                seen.append(parent)
                current = parent
            }
        }
        guard problems.isEmpty else { return [] }
        func depth(_ id: String) -> Int {
            var depth = 0, current = id
            while let parent = parentOf[current], depth < parentOf.count { depth += 1; current = parent }
            return depth
        }
        return rows.enumerated().sorted { a, b in
            let da = a.element["id"]?.text.map(depth) ?? 0, db = b.element["id"]?.text.map(depth) ?? 0
            return da == db ? a.offset < b.offset : da < db
        }.map(\.element)
    }
}

extension Cell {
    var text: String? {
        switch self {
        case .text(let s): s
        case .integer(let i): String(i)
        case .number(let d): String(d)
        case .null: nil
        }
    }
}

extension RowValidator {
    /// "1.234.567.000", "1,234,567,000", "1 234 567 000" or plain digits.
    static func amount(_ text: String) -> Int64? {
        var compact = text.replacingOccurrences(of: "\u{00A0}", with: " ")
        for suffix in [" đ", "đ", " VND", "VND", " vnd"] where compact.hasSuffix(suffix) { compact.removeLast(suffix.count) }
        compact = compact.trimmingCharacters(in: .whitespaces)
        if let plain = Int64(compact) { return plain }
        let negative = compact.hasPrefix("-")
        let body = negative ? String(compact.dropFirst()) : compact
        for separator in [".", ",", " "] {
            let groups = body.components(separatedBy: separator)
            guard groups.count > 1, (1...3).contains(groups[0].count),
                  groups.dropFirst().allSatisfy({ $0.count == 3 }),
                  groups.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
                  let value = Int64(groups.joined()) else { continue }
            return negative ? -value : value
        }
        return nil
    }

    /// "92.5" or, as Vietnamese write it, "92,5": decimal digits only. Swift's own parser also
    /// reads "0x10" (16), "1e3", "inf" and "nan", which no one means in a spreadsheet cell.
    static func number(_ text: String) -> Double? {
        var trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasSuffix("%") { trimmed = String(trimmed.dropLast()).trimmingCharacters(in: .whitespaces) }
        let digits = trimmed.hasPrefix("-") || trimmed.hasPrefix("+") ? trimmed.dropFirst() : trimmed[...]
        let parts = digits.split(separator: digits.contains(",") ? "," : ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !(digits.contains(",") && digits.contains(".")),
              parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }) else { return nil }
        return Double(trimmed.replacingOccurrences(of: ",", with: "."))
    }
}

/// Units by id and by name, for resolving what people type.
struct UnitDirectory {
    struct Entry { let id: String; let name: String; let parentID: String? }
    enum Resolution { case found(String), missing, ambiguous([String]) }

    private var byID: [String: Entry] = [:]
    private var byExactName: [String: [Entry]] = [:]
    private var byFoldedName: [String: [Entry]] = [:]

    init(_ entries: [Entry]) { entries.forEach { add($0) } }

    mutating func add(_ entry: Entry) {
        if !entry.id.isEmpty { byID[entry.id] = entry }
        byExactName[NameKey.exact(entry.name), default: []].append(entry)
        byFoldedName[NameKey.folded(entry.name), default: []].append(entry)
    }

    /// By id first; then by name (exact, then without diacritics when that is unique), within
    /// `parent` (an id or a name) when one is given.
    func resolve(_ text: String, parent: String?) -> Resolution {
        if byID[text] != nil { return .found(text) }
        let parentIDs: Set<String>? = parent.map { parent in
            if byID[parent] != nil { return [parent] }
            return Set((byExactName[NameKey.exact(parent)] ?? byFoldedName[NameKey.folded(parent)] ?? []).map(\.id))
        }
        for candidates in [byExactName[NameKey.exact(text)], byFoldedName[NameKey.folded(text)]] {
            let matching = (candidates ?? []).filter { entry in parentIDs.map { $0.contains(entry.parentID ?? "") } ?? true }
            let ids = Array(Set(matching.map(\.id))).sorted()
            if ids.count == 1 { return .found(ids[0]) }
            if ids.count > 1 { return .ambiguous(ids) }
        }
        return .missing
    }

    /// The id of a unit given without one: the existing unit of that name under that parent, or a
    /// new id from the parent's id and the name without diacritics.
    func derivedID(name: String, parentID: String?) -> String {
        if let existing = byExactName[NameKey.exact(name)]?.first(where: { $0.parentID == parentID && !$0.id.isEmpty }) {
            return existing.id
        }
        let slug = NameKey.folded(name).map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
        return [parentID, slug].compactMap { $0 }.joined(separator: ".")
    }
}
