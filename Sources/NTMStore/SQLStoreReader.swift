import CheckKit
import Foundation
import NTMSQLite
import SQLKit
import Synchronization

/// ``StoreReader`` over either backend. Everything dated after `asOf` is left out or, for
/// completions, revocations, settlements and the like, not yet visible.
struct SQLStoreReader: StoreReader {
    /// Where rows come from: a snapshot of an SQLite file read by position, or sql-kit.
    enum Source: Sendable {
        case sqlite(SQLiteSnapshot)
        case sql(any SQLDatabase)
    }

    let source: Source
    let asOf: Date
    let log: QueryLog?
    let day: String
    let instant: String

    init(_ source: Source, asOf: Date, log: QueryLog? = nil) {
        self.source = source
        self.asOf = asOf
        self.log = log
        self.day = CivilDate(asOf).description
        self.instant = StoreTime.format(asOf)
    }

    /// The rows of `sql`, each made into a value by `make` (nil leaves the row out). The text has
    /// `?` placeholders, bound in order to `binds` (days and instants, as text) on both backends.
    private func rows<T: Sendable>(_ sql: String, _ binds: [String] = [], _ make: @escaping @Sendable (ReaderRow) throws -> T?) async throws -> [T] {
        log?.record(QueryLog.Query(sql: sql, parameters: binds))
        switch source {
        case .sqlite(let snapshot):
            return try await snapshot.rows(sql, binds.map(SQLite3Value.text)) { try make(.native($0)) }
        case .sql(let database):
            var query = SQLQueryString("")
            for (index, part) in sql.split(separator: "?", omittingEmptySubsequences: false).enumerated() {
                if index > 0 { query.appendInterpolation(bind: binds[index - 1]) }
                query.appendLiteral(String(part))
            }
            return try await database.raw(query).all().compactMap { try make(.sql($0)) }
        }
    }

    /// Values by key from (key, value) rows, in their order. A run of one key (the queries order
    /// by it) becomes one array, made at its size: `Dictionary(grouping:)` and then `mapValues`
    /// made every group twice, the key in each element of the first (issue 21: a national
    /// store's 530,000 project disbursements and debts).
    private func grouped<T>(_ rows: [(String, T)]) -> [String: [T]] {
        var groups: [String: [T]] = [:]
        var start = rows.startIndex
        while start < rows.endIndex {
            let key = rows[start].0
            var end = start + 1
            while end < rows.endIndex, rows[end].0 == key { end += 1 }
            // A closure, not `\.1`: a key path in a generic function is made anew each time it
            // is evaluated, here once per group (a tenth of reading a national store's projects).
            groups[key, default: []].append(contentsOf: rows[start..<end].lazy.map { $0.1 })
            start = end
        }
        return groups
    }

    func units() async throws -> [AdministrativeUnit] {
        let today = CivilDate(asOf)
        let links = try await rows("SELECT unit_id, parent_id, valid_from, valid_to FROM unit_parents ORDER BY unit_id, valid_from") { row in
            try row.date("valid_from").map { from in
                (try row.text("unit_id"), ParentLink(parentID: try row.text("parent_id"), validFrom: from, validTo: try row.date("valid_to")))
            }
        }
        let changes = grouped(links)
        let successions = Dictionary(grouping: try await rows("""
            SELECT predecessor_id, successor_id, effective_on, kind, share FROM unit_successions
            WHERE effective_on <= ? ORDER BY predecessor_id, successor_id
            """, [day]) { row -> Succession? in
            guard let on = try row.date("effective_on"), let kind = Succession.Kind(rawValue: try row.text("kind")) else { return nil }
            return Succession(predecessorID: try row.text("predecessor_id"), successorID: try row.text("successor_id"), effectiveOn: on,
                              kind: kind, share: try row.optionalDouble("share"))
        }, by: \.predecessorID)
        return try await rows("""
            SELECT id, name, level, parent_id, region, valid_from, valid_to, successor_id
            FROM units WHERE valid_from IS NULL OR valid_from <= ? ORDER BY id
            """, [day]) { row in
            let id = try row.text("id")
            let validTo = try row.date("valid_to").flatMap { $0 <= today ? $0 : nil }
            // The first parent holds until the first dated change; each change until the next.
            let dated = changes[id] ?? []
            var parents: [ParentLink] = try row.optionalText("parent_id").map {
                [ParentLink(parentID: $0, validFrom: nil, validTo: dated.first?.validFrom?.adding(days: -1))]
            } ?? []
            for (index, link) in dated.enumerated() {
                let next = index + 1 < dated.count ? dated[index + 1].validFrom?.adding(days: -1) : nil
                parents.append(ParentLink(parentID: link.parentID, validFrom: link.validFrom, validTo: link.validTo ?? next))
            }
            var outgoing = successions[id] ?? []
            if let validTo, validTo < today, let successor = try row.optionalText("successor_id"), !outgoing.contains(where: { $0.successorID == successor }) {
                outgoing.insert(Succession(predecessorID: id, successorID: successor, effectiveOn: validTo.adding(days: 1), kind: .merge), at: 0)
            }
            var unit = AdministrativeUnit(
                id: id, name: try row.text("name"), level: try row.text("level"), parentID: nil,
                region: try row.optionalText("region"), validFrom: try row.date("valid_from"), validTo: validTo,
                parents: parents, successions: outgoing)
            unit.parentID = unit.parentID(on: today)
            return unit
        }
    }

    func criteriaSets() async throws -> [CriteriaSet] {
        let criteria = try await rows("""
            SELECT set_id, code, parent_code, name_vi, name_en, measure, threshold, unit, direction, region_thresholds
            FROM criteria ORDER BY set_id, code
            """) { row -> (String, Criterion) in
            let measure: Criterion.Measure
            if try row.text("measure") == "threshold", let threshold = try row.optionalDouble("threshold") {
                let regional = try row.optionalText("region_thresholds").flatMap(StoreTime.regionThresholds) ?? [:]
                let direction = Criterion.Direction(rawValue: try row.optionalText("direction") ?? "") ?? .atLeast
                measure = .threshold(threshold, unit: try row.optionalText("unit") ?? "", direction: direction, byRegion: regional)
            } else {
                measure = .boolean
            }
            return (try row.text("set_id"), Criterion(
                code: try row.text("code"), parentCode: try row.optionalText("parent_code"),
                name: LocalizedText(vi: try row.text("name_vi"), en: try row.text("name_en")), measure: measure))
        }
        let bySet = grouped(criteria)
        return try await rows("""
            SELECT id, name_vi, name_en, unit_level, tier, valid_from, valid_to FROM criteria_sets ORDER BY id
            """) { row in
            guard let validFrom = try row.date("valid_from") else { return nil }
            let id = try row.text("id")
            return CriteriaSet(
                id: id, name: LocalizedText(vi: try row.text("name_vi"), en: try row.text("name_en")),
                unitLevel: try row.text("unit_level"), tier: try row.text("tier"), validFrom: validFrom,
                validTo: try row.date("valid_to"), criteria: bySet[id] ?? [])
        }
    }

    func assessments() async throws -> [Assessment] {
        // The key's order, which the primary key's index gives as it is: by date before code the
        // store sorted each unit's rows on every read, most of the query (issue 21).
        func query(_ range: String) -> String {
            """
            SELECT unit_id, set_id, criterion_code, assessed_on, met, value, source FROM assessments
            WHERE assessed_on <= ?\(range) ORDER BY unit_id, set_id, criterion_code, assessed_on
            """
        }
        let make: @Sendable (ReaderRow) throws -> Assessment? = { row in
            guard let on = try row.date("assessed_on") else { return nil }
            return Assessment(
                unitID: try row.text("unit_id"), setID: try row.text("set_id"),
                criterionCode: try row.text("criterion_code"), assessedOn: on, met: try row.int("met") != 0,
                value: try row.optionalDouble("value"), source: try row.optionalText("source"))
        }
        guard case .sqlite(let snapshot) = source else { return try await rows(query(""), [day], make) }
        // Read in two halves at once, split at the unit that halves the table (counted once).
        let split = """
            WITH n (rows) AS MATERIALIZED (SELECT count(*) FROM assessments)
            SELECT rows, (SELECT unit_id FROM assessments ORDER BY unit_id LIMIT 1 OFFSET (SELECT rows FROM n) / 2) FROM n
            """
        let below = query(" AND unit_id < ?"), from = query(" AND unit_id >= ?")
        let (rows, key) = try await snapshot.rowsInHalves(split: split, below: below, from: from, [.text(day)]) { try make(.native($0)) }
        // As issued; the split key, a unit id, is text (NULL only for an empty table, whose
        // halves are not read).
        log?.record(QueryLog.Query(sql: split, parameters: []))
        if case .text(let keyText) = key {
            for half in [below, from] { log?.record(QueryLog.Query(sql: half, parameters: [day, keyText])) }
        }
        return rows
    }

    func recognitions() async throws -> [Recognition] {
        let today = CivilDate(asOf)
        return try await rows("""
            SELECT unit_id, tier, recognized_on, decision, set_id, revoked_on, revocation_decision FROM recognitions
            WHERE recognized_on <= ? ORDER BY unit_id, recognized_on, tier
            """, [day]) { row in
            guard let on = try row.date("recognized_on") else { return nil }
            let revoked = try row.date("revoked_on").flatMap { $0 <= today ? $0 : nil }
            return Recognition(
                unitID: try row.text("unit_id"), tier: try row.text("tier"), recognizedOn: on,
                decision: try row.optionalText("decision"), setID: try row.optionalText("set_id"), revokedOn: revoked,
                revocationDecision: revoked == nil ? nil : try row.optionalText("revocation_decision"))
        }
    }

    func roadmap() async throws -> [RoadmapEntry] {
        try await rows("SELECT unit_id, tier, target_year, note FROM roadmap ORDER BY unit_id, tier") { row in
            RoadmapEntry(unitID: try row.text("unit_id"), tier: try row.text("tier"),
                         targetYear: try row.int("target_year"), note: try row.optionalText("note"))
        }
    }

    func dossierSubmissions() async throws -> [DossierSubmission] {
        try await rows("""
            SELECT unit_id, tier, year, stage, submitted_on FROM dossier_submissions
            WHERE submitted_on <= ? ORDER BY unit_id, tier, year, stage
            """, [day]) { row in
            guard let on = try row.date("submitted_on"),
                  let stage = DossierSubmission.Stage(rawValue: try row.text("stage")) else { return nil }
            return DossierSubmission(unitID: try row.text("unit_id"), tier: try row.text("tier"),
                                     year: try row.int("year"), stage: stage, submittedOn: on)
        }
    }

    func obligations() async throws -> [Obligation] {
        let done = try await rows("""
            SELECT obligation_id, unit_id, occurrence, completed_at FROM obligation_completions
            WHERE completed_at <= ? ORDER BY obligation_id, unit_id, occurrence
            """, [instant]) { row -> (String, Obligation.Completion)? in
            guard let occurrence = try row.date("occurrence"),
                  let at = StoreTime.parse(try row.text("completed_at")) else { return nil }
            let unitID = try row.text("unit_id")
            return (try row.text("obligation_id"), .init(occurrence: occurrence, completedAt: at, unitID: unitID.isEmpty ? nil : unitID))
        }
        let completions = grouped(done)
        return try await rows("""
            SELECT id, title_vi, title_en, legal_basis, responsible_unit_id, responsible_body, submits_to, schedule,
                   semantics, starts_on, ends_on, depends_on, reminder_days, status, applies_to, section, quote
            FROM obligations ORDER BY id
            """) { row in
            let id = try row.text("id")
            let rawSchedule = try row.text("schedule")
            return Obligation(
                id: id, title: LocalizedText(vi: try row.text("title_vi"), en: try row.text("title_en")),
                legalBasis: try row.optionalText("legal_basis"), responsibleUnitID: try row.optionalText("responsible_unit_id"),
                responsibleBody: try row.optionalText("responsible_body"), submitsTo: try row.optionalText("submits_to"),
                schedule: ObligationSchedule.parse(rawSchedule), rawSchedule: rawSchedule,
                semantics: Obligation.DueSemantics(rawValue: try row.text("semantics")) ?? .before,
                startsOn: try row.date("starts_on"), endsOn: try row.date("ends_on"),
                dependsOn: try row.optionalText("depends_on"),
                reminderDays: try row.optionalText("reminder_days").map(ObligationSchedule.parseDays),
                status: try row.text("status"), completions: completions[id] ?? [],
                appliesTo: try row.optionalText("applies_to"), section: try row.optionalText("section"),
                quote: try row.optionalText("quote"))
        }
    }

    /// Each budget level's share column in `projects`, named once rather than per row.
    private static let shareColumns = BudgetLevel.allCases.map { ($0, "\($0.rawValue)_vnd") }

    func projects() async throws -> [Project] {
        let today = CivilDate(asOf)
        let disbursed = try await rows("""
            SELECT project_id, budget_level, on_date, cumulative_vnd FROM project_disbursements
            WHERE on_date <= ? ORDER BY project_id, on_date, budget_level
            """, [day]) { row -> (String, Project.Disbursement)? in
            guard let on = try row.date("on_date"), let level = BudgetLevel(rawValue: try row.text("budget_level")) else { return nil }
            return (try row.text("project_id"), .init(budgetLevel: level, on: on, cumulativeVND: try row.int64("cumulative_vnd")))
        }
        let disbursements = grouped(disbursed)
        let owed = try await rows("""
            SELECT project_id, budget_level, period, as_of, outstanding_vnd FROM project_debts
            WHERE as_of <= ? ORDER BY project_id, as_of, budget_level, period
            """, [day]) { row -> (String, Project.Debt)? in
            guard let on = try row.date("as_of"), let level = BudgetLevel(rawValue: try row.text("budget_level")) else { return nil }
            return (try row.text("project_id"),
                    .init(budgetLevel: level, period: try row.text("period"), asOf: on, outstandingVND: try row.int64("outstanding_vnd")))
        }
        let debts = grouped(owed)
        let planned = try await rows("SELECT project_id, amount_vnd, planned_by, approved_on FROM repayment_plans") { row -> (String, Project.RepaymentPlan)? in
            let approved = try row.date("approved_on")
            if let approved, approved > today { return nil }
            return (try row.text("project_id"), .init(amountVND: try row.int64("amount_vnd"), plannedBy: try row.date("planned_by"), approvedOn: approved))
        }
        // A project with two plans keeps the last one read, as it always has.
        let plans = Dictionary(planned, uniquingKeysWith: { _, last in last })
        return try await rows("""
            SELECT id, name, commune_id, investor, allocated_on, total_vnd, central_vnd, provincial_vnd, district_vnd,
                   commune_vnd, residents_vnd, handover_on, settlement_approved_on
            FROM projects WHERE allocated_on IS NULL OR allocated_on <= ? ORDER BY id
            """, [day]) { row in
            let id = try row.text("id")
            var shares: [BudgetLevel: Int64] = [:]
            for (level, column) in Self.shareColumns { shares[level] = try row.int64(column) }
            let settled = try row.date("settlement_approved_on").flatMap { $0 <= today ? $0 : nil }
            let handover = try row.date("handover_on").flatMap { $0 <= today ? $0 : nil }
            return Project(
                id: id, name: try row.text("name"), communeID: try row.text("commune_id"),
                investor: try row.optionalText("investor"), allocatedOn: try row.date("allocated_on"),
                totalVND: try row.int64("total_vnd"), shares: shares, handoverOn: handover, settlementApprovedOn: settled,
                disbursements: disbursements[id] ?? [], debts: debts[id] ?? [], repaymentPlan: plans[id])
        }
    }

    func capitalPlans() async throws -> [CapitalPlan] {
        let amounts = try await rows("""
            SELECT plan_id, on_date, cumulative_vnd FROM capital_disbursements
            WHERE on_date <= ? ORDER BY plan_id, on_date
            """, [day]) { row -> (String, CapitalPlan.Disbursed)? in
            guard let on = try row.date("on_date") else { return nil }
            return (try row.text("plan_id"), .init(on: on, cumulativeVND: try row.int64("cumulative_vnd")))
        }
        let disbursed = grouped(amounts)
        return try await rows("""
            SELECT id, unit_id, project_id, year, source, assigned_vnd, carried_over_from, due_on
            FROM capital_plans ORDER BY id
            """) { row in
            guard let source = BudgetLevel(rawValue: try row.text("source")) else { return nil }
            let id = try row.text("id")
            return CapitalPlan(
                id: id, unitID: try row.text("unit_id"), projectID: try row.optionalText("project_id"),
                year: try row.int("year"), source: source, assignedVND: try row.int64("assigned_vnd"),
                carriedOverFrom: try row.optionalInt("carried_over_from"), dueOn: try row.date("due_on"),
                disbursed: disbursed[id] ?? [])
        }
    }

    func reallocationReports() async throws -> [ReallocationReport] {
        try await rows("""
            SELECT unit_id, year, filed_on FROM reallocation_reports WHERE filed_on <= ? ORDER BY unit_id, year
            """, [day]) { row in
            guard let on = try row.date("filed_on") else { return nil }
            return ReallocationReport(unitID: try row.text("unit_id"), year: try row.int("year"), filedOn: on)
        }
    }

    func surveys() async throws -> [SatisfactionSurvey] {
        try await rows("""
            SELECT id, unit_id, surveyed_on, kind, respondents, satisfied FROM surveys
            WHERE surveyed_on <= ? ORDER BY unit_id, kind, surveyed_on, id
            """, [day]) { row in
            guard let on = try row.date("surveyed_on") else { return nil }
            return SatisfactionSurvey(id: try row.text("id"), unitID: try row.text("unit_id"), surveyedOn: on,
                                      kind: try row.text("kind"), respondents: try row.int("respondents"),
                                      satisfied: try row.int("satisfied"))
        }
    }

    func provinceTargets() async throws -> [ProvinceTarget] {
        try await rows("""
            SELECT id, indicator, title_vi, title_en, target, unit, by_date, baseline, baseline_on, source, unit_id
            FROM province_targets ORDER BY id
            """) { row in
            guard let by = try row.date("by_date") else { return nil }
            return ProvinceTarget(
                id: try row.text("id"), indicator: try row.text("indicator"),
                title: LocalizedText(vi: try row.text("title_vi"), en: try row.text("title_en")),
                target: try row.double("target"), unit: try row.text("unit"), by: by,
                baseline: try row.optionalDouble("baseline"), baselineOn: try row.date("baseline_on"),
                source: try row.optionalText("source"), unitID: try row.optionalText("unit_id"))
        }
    }

    func query(_ text: String, parameters: [Value]) async throws -> [StoreRow] {
        switch source {
        case .sqlite(let snapshot): try await snapshot.query(text, parameters: parameters)
        case .sql(let database): try await ReadOnlyQuery.run(text, parameters: parameters, on: database)
        }
    }
}

/// The queries a store's readers issue, in order, with their parameters: the scale bench replays
/// them without ntmwatch on the same file to measure the floor a cycle is compared with (issue 21).
public final class QueryLog: Sendable {
    public struct Query: Sendable, Hashable {
        /// In the connection's dialect: `?` placeholders on SQLite.
        public let sql: String
        public let parameters: [String]
    }

    private let entries = Mutex<[Query]>([])

    public init() {}

    public var queries: [Query] { entries.withLock { $0 } }

    func record(_ query: Query) {
        entries.withLock { $0.append(query) }
    }
}
