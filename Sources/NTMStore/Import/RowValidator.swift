import CheckKit
import Foundation
import SQLKit
import Synchronization

/// Turns a file's text cells into typed rows, collecting every problem with its row and column.
struct RowValidator: Sendable {
    let kind: ImportKind
    let spec: KindSpec
    let file: TabularFile
    private(set) var problems: [ImportError.Problem] = []

    private let units: UnitDirectory
    /// Ids that exist, per field of type `.reference` (by the field's position).
    private var referenced: [Set<String>?] = []
    /// set id → criterion code → unit of measure.
    private var criteria: [String: [String: String]] = [:]
    /// Stored parent links, for the cycle check of a units import.
    private var storedParents: [String: String] = [:]
    /// Obligations that are templates (`applies_to`), whose completions name a unit.
    private var templates: Set<String> = []
    /// Each key's first row, to refuse a key given twice.
    private var seenKeys: KeyIndex

    /// Where a record's values are: the file's header keys, then (for obligations) the columns
    /// ``deadlineColumns(_:)`` may add.
    private let layout: [String]
    /// Per field, the positions of its header keys in ``layout``, in the order of its keys; a
    /// header written twice counts at its last position, as a later cell overwrote an earlier one.
    private let sources: [[Int]]
    /// The positions of the parent columns that tell apart units of the same name.
    private let parentPositions: [Int]
    private let columns: [String]
    private let keyPositions: [Int]
    /// The key columns' defaults: a key cell the row does not give is stored as its default, so
    /// it is that value, not NULL, that another row of the file must not repeat.
    private let keyDefaults: [Cell]

    init(kind: ImportKind, spec: KindSpec, file: TabularFile, database: any ImportDatabase) async throws {
        self.kind = kind
        self.spec = spec
        self.file = file
        var layout = file.headers.map(\.key)
        if kind == .obligations {
            for column in ["schedule", "starts_on"] where !layout.contains(TabularFile.headerKey(column)) {
                layout.append(TabularFile.headerKey(column))
            }
        }
        var positionOf: [String: Int] = [:]
        for (position, key) in layout.enumerated() { positionOf[key] = position }
        self.layout = layout
        let sources = spec.fields.map { field in field.headerKeys.compactMap { positionOf[$0] } }
        self.sources = sources
        parentPositions = file.headers.indices.filter { Importer.parentHeaders.contains(file.headers[$0].key) }
        columns = spec.columns
        keyPositions = spec.keyPositions
        keyDefaults = spec.keyPositions.map { spec.fields[$0].defaultValue }
        seenKeys = KeyIndex(expected: file.records.count)
        var unitRows: [UnitDirectory.Entry] = []
        // Only a kind that names units needs them (a national store holds tens of thousands).
        let namesUnits = kind == .units || spec.fields.contains { field in
            switch field.type { case .unit, .selector: true; default: false }
        }
        if namesUnits {
            for row in try await database.texts("SELECT id, name, parent_id FROM units", columns: ["id", "name", "parent_id"]) {
                unitRows.append(.init(id: row[0] ?? "", name: row[1] ?? "", parentID: row[2]))
            }
        }
        if kind == .units {
            storedParents = Dictionary(uniqueKeysWithValues: unitRows.compactMap { u in u.parentID.map { (u.id, $0) } })
        }
        var directory = UnitDirectory(unitRows)
        if kind == .units {
            // Units of the same file may be each other's parents.
            var records = file.records.reader()
            while let record = try records.next() {
                guard let name = Self.cell(record, sources[1]) else { continue }
                let id = Self.cell(record, sources[0]) ?? ""
                directory.add(.init(id: id, name: name, parentID: Self.cell(record, sources[3])))
            }
        }
        units = directory
        var existingIDs: [String: Set<String>] = [:]
        for case .reference(let table) in spec.fields.map(\.type) {
            existingIDs[table] = Set(try await database.texts("SELECT id FROM \(table)", columns: ["id"]).compactMap { $0[0] })
        }
        if kind == .obligations {
            var records = file.records.reader()
            while let record = try records.next() {
                if let id = Self.cell(record, sources[0]) { existingIDs["obligations", default: []].insert(id) }
            }
        }
        referenced = spec.fields.map { field in
            if case .reference(let table) = field.type { existingIDs[table, default: []] } else { nil }
        }
        if kind == .completions {
            templates = Set(try await database.texts("SELECT id FROM obligations WHERE applies_to IS NOT NULL", columns: ["id"])
                .compactMap { $0[0] })
        }
        if kind == .assessments {
            for row in try await database.texts("SELECT set_id, code, unit FROM criteria", columns: ["set_id", "code", "unit"]) {
                criteria[row[0] ?? "", default: [:]][row[1] ?? ""] = row[2] ?? ""
            }
        }
    }

    /// The field's first non-empty cell in the record.
    private func cell(_ record: TabularFile.Record, _ field: Int) -> String? { Self.cell(record, sources[field]) }

    /// The first non-empty value at `positions`.
    private static func cell(_ record: TabularFile.Record, _ positions: [Int]) -> String? {
        for position in positions { if let value = record.value(at: position), !value.isEmpty { return value } }
        return nil
    }

    /// Whether the row gives the column at all: an absent column keeps what the store holds.
    private func gives(_ record: TabularFile.Record, _ field: Int) -> Bool {
        sources[field].contains { record.value(at: $0) != nil }
    }

    /// The record's value of a header key ("" or nil when it has none).
    private func given(_ record: TabularFile.Record, _ key: String) -> String? {
        layout.lastIndex(of: key).flatMap { record.value(at: $0) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    private mutating func problem(_ row: Int?, _ column: String?, _ value: String?, vi: String, en: String) {
        problems.append(.init(row: row, column: column, value: value, reason: LocalizedText(vi: vi, en: en)))
    }

    /// The typed rows. A column the row does not give is left out of its row, so that an update
    /// keeps the stored value (and an insert takes the column's default); an empty cell is in the
    /// row as the column's default, which clears the stored value.
    mutating func validate() throws -> [ImportRow] {
        checkHeaders()
        guard problems.isEmpty else { return [] }
        var rows: [ImportRow] = []
        var rowNumbers: [Int] = []
        var records = file.records.reader()
        while let record = try records.next() {
            rows.append(validate(record))
            rowNumbers.append(record.row)
        }
        if kind == .units, problems.isEmpty { return parentsFirst(rows, rowNumbers) }
        return rows
    }

    /// One record's typed row (see ``validate()``); its problems join ``problems``. The headers
    /// are checked first, once (``checkHeaders()``).
    mutating func validate(_ original: TabularFile.Record) -> ImportRow {
        let before = problems.count
        let record = kind == .obligations ? deadlineColumns(original) : original
        // A schedule that `due` and `recurrence` could not give is already reported.
        let scheduleReported = problems.count > before
        var row = ImportRow(columns: columns)
        for (position, field) in spec.fields.enumerated() where !(scheduleReported && field.column == "schedule") {
            if field.required || gives(record, position) { row.cells[position] = parse(position, in: record) }
        }
        if kind == .units, row["id"] ?? .null == .null, case .text(let name) = row["name"] {
            row["id"] = .text(units.derivedID(name: name, parentID: row["parent_id"].flatMap(\.text)))
        }
        if kind == .assessments { checkCriterion(row, record: record) }
        if kind == .completions { checkCompletionUnit(row, record: record) }
        if problems.count == before {
            for check in spec.checks {
                if let failure = check(row) {
                    // The value as the file wrote it, so the person can find it.
                    let written = spec.fields.firstIndex { $0.column == failure.column }.flatMap { cell(record, $0) }
                    problems.append(.init(row: record.row, column: failure.column,
                                          value: written, reason: failure.reason))
                }
            }
        }
        if problems.count == before,
           let first = seenKeys.firstRow(of: row.cells, at: keyPositions, absent: keyDefaults, row: record.row) {
            let keyText = keyPositions.indices.map { (row.cells[keyPositions[$0]] ?? keyDefaults[$0]).text ?? "" }.joined(separator: ", ")
            problem(record.row, spec.key.joined(separator: "+"), keyText,
                    vi: "trùng khóa với dòng \(first)", en: "duplicate key: same as row \(first)")
        }
        return row
    }

    mutating func checkHeaders() {
        var known = Set<String>()
        for field in spec.fields { known.formUnion(field.headerKeys) }
        for header in file.headers where !known.contains(header.key) {
            if Importer.ignoredHeaders.contains(header.key) || Importer.parentHeaders.contains(header.key) { continue }
            if spec.ignored.map(TabularFile.headerKey).contains(header.key) { continue }
            problem(1, header.written, nil,
                    vi: "cột không dùng cho loại '\(kind.rawValue)'; các cột: \(spec.fields.map(\.column).joined(separator: ", "))",
                    en: "unknown column for kind '\(kind.rawValue)'; columns: \(spec.fields.map(\.column).joined(separator: ", "))")
        }
        let present = Set(file.headers.map(\.key))
        for field in spec.fields where field.required && present.isDisjoint(with: field.headerKeys) {
            if kind == .units && field.column == "id" { continue }
            if kind == .obligations && field.column == "schedule" && !present.isDisjoint(with: Self.dueKeys) { continue }
            problem(1, field.column, nil, vi: "thiếu cột bắt buộc", en: "a required column is missing")
        }
    }

    private mutating func parse(_ position: Int, in record: TabularFile.Record) -> Cell {
        let field = spec.fields[position]
        guard let text = cell(record, position) else {
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
            // Most dates are already written as they are stored.
            if Self.isCanonicalDate(text) { return .text(text) }
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
            if text == "1" { return .integer(1) }
            if text == "0" { return .integer(0) }
            switch NameKey.exact(text) {
            case "1", "true", "yes", "có", "x", "đạt": return .integer(1)
            case "0", "false", "no", "không", "không đạt", "chưa đạt": return .integer(0)
            default:
                problem(row, column, text, vi: "cần có/không (1/0)", en: "expected yes/no (1/0)")
                return .null
            }
        case .choice(let choices):
            if choices.contains(text) { return .text(text) }
            let normalized = text.lowercased()
            guard choices.contains(normalized) else {
                problem(row, column, text, vi: "cần một trong: \(choices.joined(separator: ", "))",
                        en: "expected one of: \(choices.joined(separator: ", "))")
                return .null
            }
            return .text(normalized)
        case .unit:
            // An id needs no parent to tell it apart.
            if units.contains(id: text) { return .text(text) }
            let parent = parentPositions.lazy.compactMap { record.value(at: $0) }.first { !$0.isEmpty }
            // In a units or unit-parents file the parent column is the new parent, not a hint.
            switch units.resolve(text, parent: kind == .units || kind == .unitParents ? nil : parent) {
            case .found(let id): return .text(id)
            case .missing:
                problem(row, column, text, vi: "không có đơn vị này trong kho dữ liệu", en: "unknown unit")
            case .ambiguous(let ids):
                problem(row, column, text, vi: "nhiều đơn vị cùng tên (\(ids.joined(separator: ", "))); ghi mã hoặc cột huyện",
                        en: "several units have this name (\(ids.joined(separator: ", "))); give the id or a district column")
            }
            return .null
        case .reference(let table):
            guard referenced[position]?.contains(text) ?? false else {
                problem(row, column, text, vi: "không có mã này trong bảng \(table)", en: "no such id in \(table)")
                return .null
            }
            return .text(text)
        case .schedule:
            guard let schedule = ObligationSchedule.parse(text) else {
                problem(row, column, text, vi: "cần ngày (2024-10-30), monthly:N, quarterly:MM-DD|MM-DD|MM-DD|MM-DD (một ngày mỗi quý, theo thứ tự) hoặc yearly:MM-DD",
                        en: "expected a date (2024-10-30), monthly:N, quarterly:MM-DD|MM-DD|MM-DD|MM-DD (one date in each quarter, in order) or yearly:MM-DD")
                return .null
            }
            return .text(ObligationSchedule.format(schedule))
        case .deadlineSemantics:
            let normalized = text.lowercased()
            if normalized == "before" || normalized == "by" { return .text(normalized) }
            if ["within_month", "within_quarter", "within_half", "within_year"].contains(normalized) { return .text("by") }
            problem(row, column, text, vi: "cần before, by, within_month, within_quarter, within_half hoặc within_year",
                    en: "expected before, by, within_month, within_quarter, within_half or within_year")
            return .null
        case .days:
            let days = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !days.isEmpty, days.allSatisfy({ ($0 ?? -1) >= 0 }) else {
                problem(row, column, text, vi: "cần danh sách số ngày, ví dụ 30,14,7", en: "expected a list of days, e.g. 30,14,7")
                return .null
            }
            return .text(days.map { String($0!) }.joined(separator: ","))
        case .selector:
            do {
                let selector = try UnitSelector(text)
                let unknown = selector.namedUnitIDs.filter { !units.contains(id: $0) }
                guard unknown.isEmpty else {
                    problem(row, column, text, vi: "không có đơn vị: \(unknown.sorted().joined(separator: ", ")) (ghi mã đơn vị)",
                            en: "no such unit: \(unknown.sorted().joined(separator: ", ")) (give unit ids)")
                    return .null
                }
                return .text(selector.text)
            } catch {
                problem(row, column, text, vi: "bộ chọn không đọc được ở '\(error.clause)': \(error.reason.vi); xem tài liệu nhập dữ liệu",
                        en: "unreadable selector at '\(error.clause)': \(error.reason.en); see the import documentation")
                return .null
            }
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

    static let dueKeys = ["due", "recurrence"].map(TabularFile.headerKey)

    /// `ntmwatch extract` writes a deadline as `due` (the first occurrence), `recurrence` (`once`,
    /// `monthly:DD`, `quarterly:...`, `yearly:MM-DD`) and `last_day`, beside `schedule`; a file may
    /// give the first two instead of `schedule`. Returns the record with the schedule they make
    /// (and a recurring duty's occurrences starting at `due` unless `starts_on` says otherwise);
    /// where the columns disagree with each other, a problem at the column to correct.
    mutating func deadlineColumns(_ record: TabularFile.Record) -> TabularFile.Record {
        func given(_ column: String) -> String? { self.given(record, TabularFile.headerKey(column)) }
        let dueText = given("due"), recurrenceText = given("recurrence")
        guard dueText != nil || recurrenceText != nil else { return record }
        let row = record.row
        var due: CivilDate?
        if let dueText {
            due = CivilDate(dueText)
            if due == nil {
                problem(row, "due", dueText, vi: "không phải ngày có thật (YYYY-MM-DD hoặc DD/MM/YYYY)",
                        en: "not a date that exists (YYYY-MM-DD or DD/MM/YYYY)")
                return record
            }
        }
        var derived: Obligation.Schedule?
        if recurrenceText == nil || recurrenceText?.lowercased() == "once" {
            derived = due.map { .once(due: $0) }
        } else if let recurrenceText {
            switch ObligationSchedule.parse(recurrenceText) {
            case nil, .once?:
                problem(row, "recurrence", recurrenceText,
                        vi: "cần once, monthly:DD, quarterly:MM-DD|MM-DD|MM-DD|MM-DD hoặc yearly:MM-DD",
                        en: "expected once, monthly:DD, quarterly:MM-DD|MM-DD|MM-DD|MM-DD or yearly:MM-DD")
                return record
            case let schedule?:
                derived = schedule
                if let due, !Self.falls(due, on: schedule) {
                    problem(row, "due", dueText, vi: "ngày \(due.vietnamese) không phải một kỳ của '\(recurrenceText)'; sửa due hoặc recurrence cho khớp",
                            en: "\(due) is not an occurrence of '\(recurrenceText)'; make due and recurrence agree")
                    return record
                }
            }
        }
        guard let derived else {
            problem(row, "due", nil, vi: "recurrence once cần ngày ở cột due", en: "recurrence once needs a date in column due")
            return record
        }
        var values = record.values + Array(repeating: nil, count: max(0, layout.count - record.values.count))
        let schedulePosition = layout.lastIndex(of: TabularFile.headerKey("schedule"))!
        if let written = cell(record, spec.fields.firstIndex { $0.column == "schedule" }!) {
            if let stated = ObligationSchedule.parse(written), stated != derived {
                let from = [dueText.map { "due \($0)" }, recurrenceText.map { "recurrence \($0)" }].compactMap { $0 }.joined(separator: ", ")
                problem(row, "schedule", written,
                        vi: "khác với \(from) (\(ObligationSchedule.format(derived))); sửa cho khớp hoặc xóa cột schedule",
                        en: "disagrees with \(from) (\(ObligationSchedule.format(derived))); make them agree or remove column schedule")
                return record
            }
        } else {
            values[schedulePosition] = ObligationSchedule.format(derived)
        }
        if let due, let lastDayText = given("last_day") {
            let before = (cell(record, spec.fields.firstIndex { $0.column == "semantics" }!) ?? "before").lowercased() == "before"
            let expected = before ? due.adding(days: -1) : due
            if CivilDate(lastDayText) != expected {
                problem(row, "last_day", lastDayText,
                        vi: "hạn cuối phải là \(expected.vietnamese) (due \(due.vietnamese), \(before ? "trước ngày đó" : "chậm nhất ngày đó")); sửa last_day hoặc due",
                        en: "the last day must be \(expected) (due \(due), \(before ? "before" : "by") it); correct last_day or due")
            }
        }
        let startsPosition = layout.lastIndex(of: TabularFile.headerKey("starts_on"))!
        if let due, derived != .once(due: due), (values[startsPosition] ?? "").isEmpty { values[startsPosition] = due.description }
        return TabularFile.Record(row: record.row, values: values)
    }

    /// Whether `date` is one of the schedule's occurrences.
    static func falls(_ date: CivilDate, on schedule: Obligation.Schedule) -> Bool {
        switch schedule {
        case .once(let due): due == date
        case .monthly(let day): date.day == min(day, CivilDate.daysInMonth(year: date.year, month: date.month))
        case .quarterly(let dates): dates.contains { $0.date(in: date.year) == date }
        case .yearly(let month, let day): Obligation.Schedule.MonthDay(month: month, day: day)?.date(in: date.year) == date
        }
    }

    /// A template's duty is per unit, so its completion must say which unit; any other
    /// obligation's completion must not, or it would never count.
    private mutating func checkCompletionUnit(_ row: ImportRow, record: TabularFile.Record) {
        guard case .text(let obligation) = row["obligation_id"] else { return }
        let named = row["unit_id"].flatMap(\.text).map { !$0.isEmpty } ?? false
        if templates.contains(obligation) && !named {
            problem(record.row, "unit_id", nil, vi: "nhiệm vụ \(obligation) áp dụng cho nhóm đơn vị (applies_to): ghi đơn vị đã hoàn thành",
                    en: "obligation \(obligation) is a template (applies_to): name the unit that completed it")
        } else if !templates.contains(obligation) && named {
            problem(record.row, "unit_id", row["unit_id"]?.text,
                    vi: "nhiệm vụ \(obligation) không áp dụng theo nhóm đơn vị: để trống cột này",
                    en: "obligation \(obligation) is not a template: leave this column empty")
        }
    }

    private mutating func checkCriterion(_ row: ImportRow, record: TabularFile.Record) {
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

    /// Orders units so that each parent and each successor is written before the units that name
    /// it (a merged unit may be listed before the unit it merged into), and reports a cycle with
    /// its row and column instead of leaving the store to refuse a foreign key.
    private mutating func parentsFirst(_ rows: [ImportRow], _ rowNumbers: [Int]) -> [ImportRow] {
        var references = storedParents.mapValues { [("parent_id", $0)] }
        var indexOf: [String: Int] = [:]
        for (index, row) in rows.enumerated() {
            guard case .text(let id) = row["id"] else { continue }
            indexOf[id] = index
            references[id] = ["parent_id", "successor_id"].compactMap { column in
                switch row[column] {
                case .text(let target)?: return (column, target)
                // A file without the column leaves the stored parent in place (absent keeps, empty clears).
                case nil where column == "parent_id": return storedParents[id].map { (column, $0) }
                default: return nil
                }
            }
        }
        for (index, row) in rows.enumerated() {
            guard case .text(let start) = row["id"] else { continue }
            for (column, first) in references[start] ?? [] {
                // Follows the same kind of link only: a successor's parent is no cycle.
                var seen: [String] = [start]
                var current: String? = first
                while let next = current {
                    if next == start {
                        let what = column == "parent_id" ? ("vòng lặp cấp trên", "parent cycle") : ("vòng lặp đơn vị kế thừa", "successor cycle")
                        problem(rowNumbers[index], column, row[column]?.text,
                                vi: "\(what.0): \((seen + [start]).joined(separator: " → "))",
                                en: "\(what.1): \((seen + [start]).joined(separator: " → "))")
                        break
                    }
                    if seen.contains(next) { break }
                    seen.append(next)
                    current = references[next]?.first { $0.0 == column }?.1
                }
            }
        }
        guard problems.isEmpty else { return [] }
        // Depth over both links: a row comes after every unit of the file it refers to.
        var depthOf: [String: Int] = [:]
        func depth(_ id: String, _ visiting: Set<String> = []) -> Int {
            if let known = depthOf[id] { return known }
            guard indexOf[id] != nil, !visiting.contains(id) else { return 0 }
            let result = (references[id] ?? []).map { depth($0.1, visiting.union([id])) + 1 }.max() ?? 0
            depthOf[id] = result
            return result
        }
        return rows.enumerated().sorted { a, b in
            let da = a.element["id"]?.text.map { depth($0) } ?? 0, db = b.element["id"]?.text.map { depth($0) } ?? 0
            return da == db ? a.offset < b.offset : da < db
        }.map(\.element)
    }
}

extension Cell {
    package var text: String? {
        switch self {
        case .text(let s): s
        case .integer(let i): String(i)
        case .number(let d): String(d)
        case .null: nil
        }
    }
}

extension RowValidator {
    /// `YYYY-MM-DD` of a date that exists: what `CivilDate(text)?.description` gives back unchanged.
    static func isCanonicalDate(_ text: String) -> Bool {
        var utf8 = text.utf8.makeIterator()
        var number = 0, year = 0, month = 0
        for index in 0..<10 {
            guard let byte = utf8.next() else { return false }
            if index == 4 || index == 7 {
                guard byte == UInt8(ascii: "-") else { return false }
                if index == 4 { year = number } else { month = number }
                number = 0
            } else {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return false }
                number = number * 10 + Int(byte - UInt8(ascii: "0"))
            }
        }
        return utf8.next() == nil && (1...12).contains(month) && number >= 1
            && number <= CivilDate.daysInMonth(year: year, month: month)
    }

    /// "1.234.567.000", "1,234,567,000", "1 234 567 000" or plain digits.
    static func amount(_ text: String) -> Int64? {
        // Plain digits, the common case, without Foundation.
        if let plain = Int64(text) { return plain }
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
struct UnitDirectory: Sendable {
    struct Entry: Sendable { let id: String; let name: String; let parentID: String? }
    enum Resolution { case found(String), missing, ambiguous([String]) }

    private var byID: [String: Entry] = [:]
    private var entries: [Entry] = []
    /// Names are indexed at the first lookup by name: most files give ids, and normalizing every
    /// unit's name for each file of an import was a sixth of its time.
    private var names = NameIndex()

    /// Shared by copies of the directory, which may be in other tasks (an import checks a file
    /// in a task of its own): built once, under a lock.
    private final class NameIndex: Sendable {
        private let index = Mutex<(exact: [String: [Entry]], folded: [String: [Entry]])?>(nil)

        func of(_ entries: [Entry]) -> (exact: [String: [Entry]], folded: [String: [Entry]]) {
            index.withLock { index in
                if let index { return index }
                var exact: [String: [Entry]] = [:], folded: [String: [Entry]] = [:]
                for entry in entries {
                    exact[NameKey.exact(entry.name), default: []].append(entry)
                    folded[NameKey.folded(entry.name), default: []].append(entry)
                }
                index = (exact, folded)
                return (exact, folded)
            }
        }
    }

    private var byExactName: [String: [Entry]] { names.of(entries).exact }
    private var byFoldedName: [String: [Entry]] { names.of(entries).folded }

    init(_ entries: [Entry]) {
        byID.reserveCapacity(entries.count)
        for entry in entries where !entry.id.isEmpty { byID[entry.id] = entry }
        self.entries = entries
    }

    mutating func add(_ entry: Entry) {
        if !entry.id.isEmpty { byID[entry.id] = entry }
        entries.append(entry)
        names = NameIndex()
    }

    func contains(id: String) -> Bool { byID[id] != nil }

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
