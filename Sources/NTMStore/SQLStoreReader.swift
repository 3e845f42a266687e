import CheckKit
import Foundation
import SQLKit

/// ``StoreReader`` over either backend. Everything dated after `asOf` is left out or, for
/// completions, revocations, settlements and the like, not yet visible.
struct SQLStoreReader: StoreReader {
    let connection: StoreConnection
    let asOf: Date
    private let day: String
    private let instant: String

    init(connection: StoreConnection, asOf: Date) {
        self.connection = connection
        self.asOf = asOf
        self.day = CivilDate(asOf).description
        self.instant = StoreTime.format(asOf)
    }

    private var sql: any SQLDatabase { connection.sql }

    func units() async throws -> [AdministrativeUnit] {
        let today = CivilDate(asOf)
        var changes: [String: [ParentLink]] = [:]
        for row in try await sql.raw("SELECT unit_id, parent_id, valid_from, valid_to FROM unit_parents ORDER BY unit_id, valid_from").all() {
            guard let from = try row.date("valid_from") else { continue }
            changes[try row.text("unit_id"), default: []].append(
                ParentLink(parentID: try row.text("parent_id"), validFrom: from, validTo: try row.date("valid_to")))
        }
        var successions: [String: [Succession]] = [:]
        for row in try await sql.raw("""
            SELECT predecessor_id, successor_id, effective_on, kind, share FROM unit_successions
            WHERE effective_on <= \(bind: day) ORDER BY predecessor_id, successor_id
            """).all() {
            guard let on = try row.date("effective_on"), let kind = Succession.Kind(rawValue: try row.text("kind")) else { continue }
            let predecessor = try row.text("predecessor_id")
            successions[predecessor, default: []].append(Succession(
                predecessorID: predecessor, successorID: try row.text("successor_id"), effectiveOn: on, kind: kind,
                share: try row.optionalDouble("share")))
        }
        return try await sql.raw("""
            SELECT id, name, level, parent_id, region, valid_from, valid_to, successor_id
            FROM units WHERE valid_from IS NULL OR valid_from <= \(bind: day) ORDER BY id
            """).all().map { row in
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
        let criteria = try await sql.raw("""
            SELECT set_id, code, parent_code, name_vi, name_en, measure, threshold, unit, direction, region_thresholds
            FROM criteria ORDER BY set_id, code
            """).all()
        var bySet: [String: [Criterion]] = [:]
        for row in criteria {
            let measure: Criterion.Measure
            if try row.text("measure") == "threshold", let threshold = try row.optionalDouble("threshold") {
                let regional = try row.optionalText("region_thresholds").flatMap(StoreTime.regionThresholds) ?? [:]
                let direction = Criterion.Direction(rawValue: try row.optionalText("direction") ?? "") ?? .atLeast
                measure = .threshold(threshold, unit: try row.optionalText("unit") ?? "", direction: direction, byRegion: regional)
            } else {
                measure = .boolean
            }
            bySet[try row.text("set_id"), default: []].append(Criterion(
                code: try row.text("code"), parentCode: try row.optionalText("parent_code"),
                name: LocalizedText(vi: try row.text("name_vi"), en: try row.text("name_en")), measure: measure))
        }
        return try await sql.raw("""
            SELECT id, name_vi, name_en, unit_level, tier, valid_from, valid_to FROM criteria_sets ORDER BY id
            """).all().compactMap { row in
            guard let validFrom = try row.date("valid_from") else { return nil }
            let id = try row.text("id")
            return CriteriaSet(
                id: id, name: LocalizedText(vi: try row.text("name_vi"), en: try row.text("name_en")),
                unitLevel: try row.text("unit_level"), tier: try row.text("tier"), validFrom: validFrom,
                validTo: try row.date("valid_to"), criteria: bySet[id] ?? [])
        }
    }

    func assessments() async throws -> [Assessment] {
        try await sql.raw("""
            SELECT unit_id, set_id, criterion_code, assessed_on, met, value, source FROM assessments
            WHERE assessed_on <= \(bind: day) ORDER BY unit_id, set_id, assessed_on, criterion_code
            """).all().compactMap { row in
            guard let on = try row.date("assessed_on") else { return nil }
            return Assessment(
                unitID: try row.text("unit_id"), setID: try row.text("set_id"),
                criterionCode: try row.text("criterion_code"), assessedOn: on, met: try row.int("met") != 0,
                value: try row.optionalDouble("value"), source: try row.optionalText("source"))
        }
    }

    func recognitions() async throws -> [Recognition] {
        try await sql.raw("""
            SELECT unit_id, tier, recognized_on, decision, set_id, revoked_on, revocation_decision FROM recognitions
            WHERE recognized_on <= \(bind: day) ORDER BY unit_id, recognized_on, tier
            """).all().compactMap { row in
            guard let on = try row.date("recognized_on") else { return nil }
            let revoked = try row.date("revoked_on").flatMap { $0 <= CivilDate(asOf) ? $0 : nil }
            return Recognition(
                unitID: try row.text("unit_id"), tier: try row.text("tier"), recognizedOn: on,
                decision: try row.optionalText("decision"), setID: try row.optionalText("set_id"), revokedOn: revoked,
                revocationDecision: revoked == nil ? nil : try row.optionalText("revocation_decision"))
        }
    }

    func roadmap() async throws -> [RoadmapEntry] {
        try await sql.raw("SELECT unit_id, tier, target_year, note FROM roadmap ORDER BY unit_id, tier").all().map { row in
            RoadmapEntry(unitID: try row.text("unit_id"), tier: try row.text("tier"),
                         targetYear: try row.int("target_year"), note: try row.optionalText("note"))
        }
    }

    func dossierSubmissions() async throws -> [DossierSubmission] {
        try await sql.raw("""
            SELECT unit_id, tier, year, stage, submitted_on FROM dossier_submissions
            WHERE submitted_on <= \(bind: day) ORDER BY unit_id, tier, year, stage
            """).all().compactMap { row in
            guard let on = try row.date("submitted_on"),
                  let stage = DossierSubmission.Stage(rawValue: try row.text("stage")) else { return nil }
            return DossierSubmission(unitID: try row.text("unit_id"), tier: try row.text("tier"),
                                     year: try row.int("year"), stage: stage, submittedOn: on)
        }
    }

    func obligations() async throws -> [Obligation] {
        var completions: [String: [Obligation.Completion]] = [:]
        for row in try await sql.raw("""
            SELECT obligation_id, unit_id, occurrence, completed_at FROM obligation_completions
            WHERE completed_at <= \(bind: instant) ORDER BY obligation_id, unit_id, occurrence
            """).all() {
            guard let occurrence = try row.date("occurrence"),
                  let at = StoreTime.parse(try row.text("completed_at")) else { continue }
            let unitID = try row.text("unit_id")
            completions[try row.text("obligation_id"), default: []].append(
                .init(occurrence: occurrence, completedAt: at, unitID: unitID.isEmpty ? nil : unitID))
        }
        return try await sql.raw("""
            SELECT id, title_vi, title_en, legal_basis, responsible_unit_id, responsible_body, submits_to, schedule,
                   semantics, starts_on, ends_on, depends_on, reminder_days, status, applies_to, section, quote
            FROM obligations ORDER BY id
            """).all().map { row in
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

    func projects() async throws -> [Project] {
        var disbursements: [String: [Project.Disbursement]] = [:]
        for row in try await sql.raw("""
            SELECT project_id, budget_level, on_date, cumulative_vnd FROM project_disbursements
            WHERE on_date <= \(bind: day) ORDER BY project_id, on_date, budget_level
            """).all() {
            guard let on = try row.date("on_date"), let level = BudgetLevel(rawValue: try row.text("budget_level")) else { continue }
            disbursements[try row.text("project_id"), default: []].append(
                .init(budgetLevel: level, on: on, cumulativeVND: try row.int64("cumulative_vnd")))
        }
        var debts: [String: [Project.Debt]] = [:]
        for row in try await sql.raw("""
            SELECT project_id, budget_level, period, as_of, outstanding_vnd FROM project_debts
            WHERE as_of <= \(bind: day) ORDER BY project_id, as_of, budget_level, period
            """).all() {
            guard let on = try row.date("as_of"), let level = BudgetLevel(rawValue: try row.text("budget_level")) else { continue }
            debts[try row.text("project_id"), default: []].append(
                .init(budgetLevel: level, period: try row.text("period"), asOf: on, outstandingVND: try row.int64("outstanding_vnd")))
        }
        var plans: [String: Project.RepaymentPlan] = [:]
        for row in try await sql.raw("SELECT project_id, amount_vnd, planned_by, approved_on FROM repayment_plans").all() {
            let approved = try row.date("approved_on")
            if let approved, approved > CivilDate(asOf) { continue }
            plans[try row.text("project_id")] = .init(amountVND: try row.int64("amount_vnd"),
                                                      plannedBy: try row.date("planned_by"), approvedOn: approved)
        }
        return try await sql.raw("""
            SELECT id, name, commune_id, investor, allocated_on, total_vnd, central_vnd, provincial_vnd, district_vnd,
                   commune_vnd, residents_vnd, handover_on, settlement_approved_on
            FROM projects WHERE allocated_on IS NULL OR allocated_on <= \(bind: day) ORDER BY id
            """).all().map { row in
            let id = try row.text("id")
            var shares: [BudgetLevel: Int64] = [:]
            for level in BudgetLevel.allCases { shares[level] = try row.int64("\(level.rawValue)_vnd") }
            let settled = try row.date("settlement_approved_on").flatMap { $0 <= CivilDate(asOf) ? $0 : nil }
            let handover = try row.date("handover_on").flatMap { $0 <= CivilDate(asOf) ? $0 : nil }
            return Project(
                id: id, name: try row.text("name"), communeID: try row.text("commune_id"),
                investor: try row.optionalText("investor"), allocatedOn: try row.date("allocated_on"),
                totalVND: try row.int64("total_vnd"), shares: shares, handoverOn: handover, settlementApprovedOn: settled,
                disbursements: disbursements[id] ?? [], debts: debts[id] ?? [], repaymentPlan: plans[id])
        }
    }

    func capitalPlans() async throws -> [CapitalPlan] {
        var disbursed: [String: [CapitalPlan.Disbursed]] = [:]
        for row in try await sql.raw("""
            SELECT plan_id, on_date, cumulative_vnd FROM capital_disbursements
            WHERE on_date <= \(bind: day) ORDER BY plan_id, on_date
            """).all() {
            guard let on = try row.date("on_date") else { continue }
            disbursed[try row.text("plan_id"), default: []].append(.init(on: on, cumulativeVND: try row.int64("cumulative_vnd")))
        }
        return try await sql.raw("""
            SELECT id, unit_id, project_id, year, source, assigned_vnd, carried_over_from, due_on
            FROM capital_plans ORDER BY id
            """).all().compactMap { row in
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
        try await sql.raw("""
            SELECT unit_id, year, filed_on FROM reallocation_reports WHERE filed_on <= \(bind: day) ORDER BY unit_id, year
            """).all().compactMap { row in
            guard let on = try row.date("filed_on") else { return nil }
            return ReallocationReport(unitID: try row.text("unit_id"), year: try row.int("year"), filedOn: on)
        }
    }

    func surveys() async throws -> [SatisfactionSurvey] {
        try await sql.raw("""
            SELECT id, unit_id, surveyed_on, kind, respondents, satisfied FROM surveys
            WHERE surveyed_on <= \(bind: day) ORDER BY unit_id, kind, surveyed_on, id
            """).all().compactMap { row in
            guard let on = try row.date("surveyed_on") else { return nil }
            return SatisfactionSurvey(id: try row.text("id"), unitID: try row.text("unit_id"), surveyedOn: on,
                                      kind: try row.text("kind"), respondents: try row.int("respondents"),
                                      satisfied: try row.int("satisfied"))
        }
    }

    func provinceTargets() async throws -> [ProvinceTarget] {
        try await sql.raw("""
            SELECT id, indicator, title_vi, title_en, target, unit, by_date, baseline, baseline_on, source, unit_id
            FROM province_targets ORDER BY id
            """).all().compactMap { row in
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
        try await ReadOnlyQuery.run(text, parameters: parameters, on: sql)
    }
}
