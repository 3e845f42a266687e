import CheckKit
import Foundation
import Testing
@testable import DeadlineCheck

/// Duties across the 2025 reform and mergers, and duty templates over a class of units.
@Suite struct UnitsChangeTests {
    static let reform = day("2025-07-01")

    /// Quảng Nam → Đại Lộc → communes until 30/6/2025; from 1/7/2025 the communes are under Đà
    /// Nẵng, Đại Lộc is abolished and Đại Chánh is merged into Đại Tân.
    let units: [String: AdministrativeUnit] = Dictionary(uniqueKeysWithValues: [
        AdministrativeUnit(id: "48", name: "Đà Nẵng", level: "province"),
        AdministrativeUnit(id: "49", name: "Quảng Nam", level: "province", validTo: day("2025-06-30"), successorID: "48"),
        AdministrativeUnit(id: "502", name: "Đại Lộc", level: "district", parentID: "49", validTo: day("2025-06-30")),
        AdministrativeUnit(id: "503", name: "Tiên Phước", level: "district", parentID: "49", validTo: day("2025-06-30")),
        AdministrativeUnit(id: "20107", name: "Đại Chánh", level: "commune", validTo: day("2025-06-30"), successorID: "20108",
                           parents: [ParentLink(parentID: "502")]),
        AdministrativeUnit(id: "20108", name: "Đại Tân", level: "commune", parents: [
            ParentLink(parentID: "502", validTo: day("2025-06-30")), ParentLink(parentID: "48", validFrom: reform)]),
        AdministrativeUnit(id: "20103", name: "Tiên Lãnh", level: "commune", parents: [
            ParentLink(parentID: "503", validTo: day("2025-06-30")), ParentLink(parentID: "48", validFrom: reform)]),
    ].map { ($0.id, $0) })

    func run(_ today: String, obligations: [Obligation] = [], roadmap: [RoadmapEntry] = [], recognitions: [Recognition] = [],
             submissions: [DossierSubmission] = [], calendar: SettingValue? = nil) throws -> [Finding] {
        // A unit's parent in force is what the store reader sets; the map reads the history.
        var asOf = units
        for (id, unit) in asOf { asOf[id]?.parentID = unit.parentID(on: day(today)) }
        let settings = try Settings(specs: DeadlineCheck().descriptor.settings,
                                    provided: calendar.map { ["dossier_calendar": $0] } ?? [:])
        return DeadlineCheck.findings(today: day(today), parameters: try DeadlineCheck.Parameters(settings), units: asOf,
                                      obligations: obligations, roadmap: roadmap, recognitions: recognitions, submissions: submissions)
    }

    func duty(_ id: String, _ due: String, unit: String? = nil, appliesTo: String? = nil,
              completions: [Obligation.Completion] = []) -> Obligation {
        Obligation(id: id, title: LocalizedText(vi: "Nhiệm vụ \(id)", en: "Duty \(id)"), responsibleUnitID: unit,
                   responsibleBody: unit == nil && appliesTo == nil ? "Các chủ đầu tư" : nil, schedule: .once(due: day(due)),
                   rawSchedule: due, semantics: .before, completions: completions, appliesTo: appliesTo)
    }

    func completed(_ occurrence: String, by unit: String?, on date: String) -> Obligation.Completion {
        Obligation.Completion(occurrence: day(occurrence), completedAt: day(date).startInstant(), unitID: unit)
    }

    @Test func aTemplateIsOneDutyPerMatchingUnitEachCompletedOnItsOwn() throws {
        // "xã đạt chuẩn từ năm 2021 trở về trước trình huyện trước ngày 28/02/2024".
        let template = duty("OB-01", "2024-02-28", appliesTo: "level=commune;tier=ntm;recognized_by=2021-12-31",
                            completions: [completed("2024-02-28", by: "20108", on: "2024-02-20")])
        let recognitions = [Recognition(unitID: "20108", tier: "ntm", recognizedOn: day("2019-12-27")),
                            Recognition(unitID: "20103", tier: "ntm", recognizedOn: day("2020-12-28")),
                            Recognition(unitID: "20107", tier: "ntm", recognizedOn: day("2024-12-20"))]
        let findings = try run("2024-03-15", obligations: [template], recognitions: recognitions)
        // Đại Tân's completion does not close Tiên Lãnh's duty; Đại Chánh (recognized in 2024) is not bound.
        let overdue = findings.filter { $0.ruleID == "deadline.overdue" }
        #expect(overdue.map(\.subject.id) == ["OB-01/20103"])
        #expect(overdue.first?.subject.unitID == "20103")
        #expect(overdue.first?.values["responsible"] == .text("xã Tiên Lãnh"))
        // Escalated to Tiên Lãnh's district, the parent in force.
        let escalated = try #require(findings.first { $0.ruleID == "deadline.overdue_escalated" })
        #expect(escalated.labels["escalation_target"] == "503")
        // A completion of the whole obligation (no unit) closes nobody's duty.
        let unnamed = duty("OB-01", "2024-02-28", appliesTo: "level=commune;tier=ntm",
                           completions: [completed("2024-02-28", by: nil, on: "2024-02-20")])
        #expect(try run("2024-03-15", obligations: [unnamed], recognitions: recognitions)
            .filter { $0.ruleID == "deadline.overdue" }.count == 2)
    }

    @Test func afterTheReformALateCommuneEscalatesToTheProvinceAndDistrictTemplatesStop() throws {
        let communes = duty("OB-06", "2024-06-01", appliesTo: "level=commune")
        let before = try run("2025-06-30", obligations: [communes])
        #expect(before.filter { $0.ruleID == "deadline.overdue_escalated" }.compactMap { $0.labels["escalation_target"] }.sorted()
            == ["502", "502", "503"])
        let after = try run("2025-07-01", obligations: [communes])
        // Đại Chánh no longer exists; the two communes in force escalate to the province.
        #expect(after.filter { $0.ruleID == "deadline.overdue" }.map(\.subject.id).sorted() == ["OB-06/20103", "OB-06/20108"])
        #expect(after.filter { $0.ruleID == "deadline.overdue_escalated" }.compactMap { $0.labels["escalation_target"] } == ["48", "48"])
        let districts = duty("OB-15", "2025-09-01", appliesTo: "level=district")
        #expect(try run("2025-08-20", obligations: [districts]).isEmpty)
        #expect(try run("2025-06-20", obligations: [duty("OB-05", "2025-07-01", appliesTo: "level=district")])
            .filter { $0.ruleID == "deadline.due_soon" }.count == 2)
    }

    @Test func aMergedUnitsLaterDeadlinesPassToItsHeirAndEarlierOnesStayItsOwn() throws {
        let early = duty("OB-A", "2025-06-15", unit: "20107")
        let late = duty("OB-B", "2025-07-20", unit: "20107")
        let findings = try run("2025-07-10", obligations: [early, late])
        #expect(findings.first { $0.subject.id == "OB-A" && $0.ruleID == "deadline.overdue" }?.subject.unitID == "20107")
        let passed = try #require(findings.first { $0.subject.id == "OB-B" })
        #expect(passed.subject.unitID == "20108" && passed.values["responsible"] == .text("xã Đại Tân"))
        // A duty of a district abolished without successor ends with it.
        #expect(try run("2025-10-20", obligations: [duty("OB-19", "2025-10-30", unit: "502")]).isEmpty)
        // The province's duty passes to the province it merged into.
        #expect(try run("2025-11-10", obligations: [duty("OB-14", "2025-11-15", unit: "49")]).first?.subject.unitID == "48")
    }

    @Test func afterTheReformACommunesDossierGoesStraightToTheProvince() throws {
        let calendar: SettingValue = .table([
            "2024": .table(["commune_to_district": .text("2024-10-30"), "district_to_province": .text("2024-11-30")]),
            "2026": .table(["commune_to_district": .text("2026-05-30"), "district_to_province": .text("2026-06-30")]),
        ])
        let old = try run("2024-11-05", roadmap: [RoadmapEntry(unitID: "20103", tier: "ntm", targetYear: 2024)], calendar: calendar)
        #expect(Set(old.map(\.subject.id)) == ["dossier/20103/ntm/2024/commune_to_district", "dossier/20103/ntm/2024/district_to_province"])
        let new = try run("2026-06-20", roadmap: [RoadmapEntry(unitID: "20103", tier: "nang_cao", targetYear: 2026)], calendar: calendar)
        let stage = try #require(new.first)
        #expect(new.count == 1)
        #expect(stage.subject.id == "dossier/20103/nang_cao/2026/commune_to_district")
        #expect(stage.subject.name == "Hồ sơ NTM nâng cao năm 2026 của Tiên Lãnh: trình tỉnh")
        #expect(stage.values["submits_to"] == .text("tỉnh Đà Nẵng") && stage.values["last_day"] == .date(day("2026-06-29")))
        // A merged commune's roadmap binds its heir.
        let heir = try run("2026-06-20", roadmap: [RoadmapEntry(unitID: "20107", tier: "nang_cao", targetYear: 2026)], calendar: calendar)
        #expect(heir.map(\.subject.id) == ["dossier/20108/nang_cao/2026/commune_to_district"])
    }

    @Test func aRoadmapYearWithoutCalendarDatesIsAConfigurationFinding() throws {
        let roadmap = [RoadmapEntry(unitID: "20103", tier: "ntm", targetYear: 2026), RoadmapEntry(unitID: "20108", tier: "ntm", targetYear: 2026),
                       RoadmapEntry(unitID: "20108", tier: "nang_cao", targetYear: 2025)]
        let findings = try run("2025-03-01", roadmap: roadmap)
        let missing = try #require(findings.first { $0.ruleID == "deadline.calendar_missing" })
        #expect(findings.filter { $0.ruleID == "deadline.calendar_missing" }.count == 1)
        #expect(missing.subject.id == "dossier_calendar/2026")
        #expect(missing.values["units"] == .list(["Tiên Lãnh", "Đại Tân"]))
        #expect(missing.summary.vi.contains("thêm \"2026\" vào dossier_calendar"))
    }
}
