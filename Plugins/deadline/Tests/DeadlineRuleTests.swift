import CheckKit
import Foundation
import Testing
@testable import DeadlineCheck

/// Each rule over plain values, as of chosen days.
@Suite struct DeadlineRuleTests {
    let units: [String: AdministrativeUnit] = [
        "49": AdministrativeUnit(id: "49", name: "Quảng Nam", level: "province"),
        "502": AdministrativeUnit(id: "502", name: "Đại Lộc", level: "district", parentID: "49"),
        "20107": AdministrativeUnit(id: "20107", name: "Đại Chánh", level: "commune", parentID: "502"),
        "20108": AdministrativeUnit(id: "20108", name: "Đại Tân", level: "commune", parentID: "502"),
    ]

    func parameters(_ overrides: [String: SettingValue] = [:]) throws -> DeadlineCheck.Parameters {
        try DeadlineCheck.Parameters(Settings(specs: DeadlineCheck().descriptor.settings, provided: overrides))
    }

    func run(_ today: String, obligations: [Obligation] = [], roadmap: [RoadmapEntry] = [],
             recognitions: [Recognition] = [], submissions: [DossierSubmission] = [],
             settings: [String: SettingValue] = [:]) throws -> [Finding] {
        DeadlineCheck.findings(today: day(today), parameters: try parameters(settings), units: units, obligations: obligations,
                               roadmap: roadmap, recognitions: recognitions, submissions: submissions)
    }

    func obligation(_ id: String, _ schedule: String, unit: String? = "20107", semantics: Obligation.DueSemantics = .before,
                    dependsOn: String? = nil, reminderDays: [Int]? = nil, startsOn: String? = nil,
                    completions: [Obligation.Completion] = []) -> Obligation {
        let parsed: Obligation.Schedule? = if schedule.hasPrefix("monthly:") {
            .monthly(day: Int(schedule.dropFirst(8))!)
        } else {
            CivilDate(schedule).map { .once(due: $0) }
        }
        return Obligation(id: id, title: LocalizedText(vi: "Nhiệm vụ \(id)", en: "Duty \(id)"), responsibleUnitID: unit,
                          submitsTo: "UBND huyện", schedule: parsed, rawSchedule: schedule, semantics: semantics,
                          startsOn: startsOn.map(day), dependsOn: dependsOn, reminderDays: reminderDays, completions: completions)
    }

    func rules(_ findings: [Finding]) -> [String] { findings.map(\.ruleID).sorted() }

    @Test func dueSoonRisesFromInfoToWarningToCriticalOnTheLastDay() throws {
        let duty = obligation("OB-1", "2024-10-30")
        #expect(try run("2024-09-28", obligations: [duty]).isEmpty)              // 31 days left: outside the windows
        #expect(try run("2024-09-29", obligations: [duty]).map(\.severity) == [.info])
        #expect(try run("2024-10-22", obligations: [duty]).map(\.severity) == [.warning])
        let lastDay = try run("2024-10-29", obligations: [duty])
        #expect(lastDay.map(\.severity) == [.critical])
        #expect(lastDay.first?.values["days_left"] == .integer(0))
        #expect(lastDay.first?.summary.vi == "Nhiệm vụ OB-1: còn 0 ngày, ngày cuối 29/10/2024; chủ trì: xã Đại Chánh")
    }

    @Test func anObligationsOwnRemindersOverrideTheDefaults() throws {
        let duty = obligation("OB-1", "2024-10-30", reminderDays: [3])
        #expect(try run("2024-10-25", obligations: [duty]).isEmpty)
        #expect(rules(try run("2024-10-26", obligations: [duty])) == ["deadline.due_soon"])
    }

    @Test func overdueFromTheDueDateThenEscalatedToTheParent() throws {
        let duty = obligation("OB-1", "2024-10-30")
        let firstDay = try run("2024-10-30", obligations: [duty])
        #expect(rules(firstDay) == ["deadline.overdue"])
        #expect(firstDay.first?.values["days_overdue"] == .integer(1))
        #expect(firstDay.first?.severity == .critical)
        #expect(rules(try run("2024-11-05", obligations: [duty])) == ["deadline.overdue"])
        let later = try run("2024-11-12", obligations: [duty])
        #expect(rules(later) == ["deadline.overdue", "deadline.overdue_escalated"])
        let escalated = try #require(later.first { $0.ruleID == "deadline.overdue_escalated" })
        #expect(escalated.labels["escalation_target"] == "502")
        #expect(escalated.summary.vi.contains("đề nghị UBND huyện Đại Lộc đôn đốc xã Đại Chánh"))
        #expect(escalated.summary.en.contains("the People's Committee of huyện Đại Lộc is asked to follow up with xã Đại Chánh"))
    }

    @Test func byIncludesTheDateItself() throws {
        let duty = obligation("OB-1", "2024-10-30", semantics: .by)
        #expect(try run("2024-10-30", obligations: [duty]).map(\.severity) == [.critical])
        #expect(rules(try run("2024-10-31", obligations: [duty])) == ["deadline.overdue"])
    }

    @Test func monthlyOccurrencesAreIndependent() throws {
        let report = obligation("OB-R", "monthly:20", startsOn: "2024-09-01",
                                completions: [.init(occurrence: day("2024-09-20"), completedAt: day("2024-09-18").startInstant())])
        let seventeenth = try run("2024-10-17", obligations: [report])
        #expect(seventeenth.map(\.subject.id) == ["OB-R@2024-10-20"])
        #expect(seventeenth.map(\.ruleID) == ["deadline.due_soon"])
        let twentieth = try run("2024-10-20", obligations: [report])
        #expect(twentieth.filter { $0.ruleID == "deadline.overdue" }.map(\.subject.id) == ["OB-R@2024-10-20"])
        #expect(twentieth.filter { $0.ruleID == "deadline.due_soon" }.map(\.subject.id) == ["OB-R@2024-11-20"])
        // September's occurrence was done on time: nothing about it.
        #expect(!twentieth.contains { $0.subject.id == "OB-R@2024-09-20" })
    }

    @Test func completingResolvesAndALateCompletionIsANoticeForAWhile() throws {
        let done = obligation("OB-1", "2024-10-30", completions: [.init(occurrence: day("2024-10-30"), completedAt: day("2024-11-03").startInstant())])
        let notice = try run("2024-11-04", obligations: [done])
        #expect(rules(notice) == ["deadline.completed_late"])
        #expect(notice.first?.severity == .notice)
        #expect(notice.first?.values["days_late"] == .integer(5))
        #expect(try run("2024-12-03", obligations: [done]).isEmpty)
        let onTime = obligation("OB-2", "2024-10-30", completions: [.init(occurrence: day("2024-10-30"), completedAt: day("2024-10-20").startInstant())])
        #expect(try run("2024-10-25", obligations: [onTime]).isEmpty)
    }

    @Test func aLaterStageIsAtRiskWhenTheEarlierOneSlips() throws {
        let commune = obligation("S1", "2024-10-30")
        let district = obligation("S2", "2024-11-30", unit: "502", dependsOn: "S1")
        // Earlier stage still open and more than 10 days left on the later one: no risk yet.
        #expect(!rules(try run("2024-10-25", obligations: [commune, district])).contains("deadline.stage_at_risk"))
        let late = try run("2024-11-05", obligations: [commune, district])
        let risk = try #require(late.first { $0.ruleID == "deadline.stage_at_risk" })
        #expect(risk.subject.id == "S2")
        #expect(risk.values["earlier_last_day"] == .date(day("2024-10-29")))
        // Done earlier stage: no risk even close to the later date.
        let done = obligation("S1", "2024-10-30", completions: [.init(occurrence: day("2024-10-30"), completedAt: day("2024-10-20").startInstant())])
        #expect(!rules(try run("2024-11-25", obligations: [done, district])).contains("deadline.stage_at_risk"))
    }

    @Test func roadmapDossierStagesFollowTheCalendarAndSubmissions() throws {
        let roadmap = [RoadmapEntry(unitID: "20107", tier: "ntm", targetYear: 2024), RoadmapEntry(unitID: "20108", tier: "ntm", targetYear: 2024)]
        let submitted = [DossierSubmission(unitID: "20108", tier: "ntm", year: 2024, stage: .communeToDistrict, submittedOn: day("2024-10-21"))]
        let soon = try run("2024-10-25", roadmap: roadmap, submissions: submitted)
        #expect(soon.map(\.subject.id) == ["dossier/20107/ntm/2024/commune_to_district"])
        #expect(soon.first?.subject.name == "Hồ sơ NTM năm 2024 của Đại Chánh: xã trình huyện")
        let late = try run("2024-11-05", roadmap: roadmap, submissions: submitted)
        #expect(late.map { "\($0.ruleID) \($0.subject.id)" }.sorted() == [
            "deadline.due_soon dossier/20108/ntm/2024/district_to_province",
            "deadline.due_soon dossier/20107/ntm/2024/district_to_province",
            "deadline.overdue dossier/20107/ntm/2024/commune_to_district",
            "deadline.stage_at_risk dossier/20107/ntm/2024/district_to_province",
        ].sorted())
        let stage2 = try #require(late.first { $0.ruleID == "deadline.stage_at_risk" })
        #expect(stage2.subject.unitID == "502")
        // Already recognized at the tier: no dossier to chase.
        let recognized = [Recognition(unitID: "20107", tier: "ntm", recognizedOn: day("2024-09-01"))]
        #expect(try run("2024-11-05", roadmap: [roadmap[0]], recognitions: recognized).isEmpty)
    }

    @Test func aTierCanHaveItsOwnDossierDates() throws {
        let calendar: SettingValue = .table([
            "2024": .table(["commune_to_district": .text("2024-10-30")]),
            "2024/nang_cao": .table(["commune_to_district": .text("2024-12-15")]),
        ])
        let roadmap = [RoadmapEntry(unitID: "20107", tier: "nang_cao", targetYear: 2024)]
        let findings = try run("2024-11-05", roadmap: roadmap, settings: ["dossier_calendar": calendar])
        #expect(findings.isEmpty)
        #expect(throws: SettingsError.self) {
            try DeadlineCheck().validate(Settings(specs: DeadlineCheck().descriptor.settings,
                                                  provided: ["dossier_calendar": .table(["2024": .table(["commune_stage": .text("2024-10-30")])])]))
        }
    }

    @Test func badRowsBecomeFindingsAndTheOthersStillRun() throws {
        let findings = try run("2024-11-05", obligations: [
            obligation("OB-BAD", "2024-02-30"),
            obligation("OB-UNIT", "2024-10-30", unit: "99999"),
            obligation("OB-OK", "2024-10-30"),
        ])
        #expect(findings.map { "\($0.ruleID) \($0.subject.id)" }.sorted() == [
            "deadline.bad_data OB-BAD", "deadline.bad_data OB-UNIT", "deadline.overdue OB-OK",
        ])
        let bad = try #require(findings.first { $0.subject.id == "OB-BAD" })
        #expect(bad.summary.vi == "Nhiệm vụ Nhiệm vụ OB-BAD: hạn '2024-02-30' không phải ngày có thật hoặc bị trống; sửa dòng này trong kho dữ liệu")
    }
}

extension DeadlineRuleTests {
    @Test func openPastOccurrencesStayOverdueWithinTheLookback() throws {
        let report = obligation("OB-R", "monthly:20", startsOn: "2024-01-01")
        let overdue = try run("2024-10-17", obligations: [report]).filter { $0.ruleID == "deadline.overdue" }
        // 90 days back from 17/10 reaches 19/7: July, August and September are open and late.
        #expect(overdue.map(\.subject.id) == ["OB-R@2024-07-20", "OB-R@2024-08-20", "OB-R@2024-09-20"])
        let shorter = try run("2024-10-17", obligations: [report], settings: ["lookback_days": .integer(40)])
        #expect(shorter.filter { $0.ruleID == "deadline.overdue" }.map(\.subject.id) == ["OB-R@2024-09-20"])
    }
}
