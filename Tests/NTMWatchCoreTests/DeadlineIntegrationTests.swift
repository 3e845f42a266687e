import CheckKit
import Foundation
import Logging
import NTMStore
import Testing
import NTMAlerting
import NTMDelivery
@testable import NTMWatchCore

/// The `deadline` module as the daemon runs it: the built shared library, loaded with dlopen,
/// over the sample province in a real SQLite store, through the alert pipeline to journald.
@Suite struct DeadlineIntegrationTests {
    let logger = Logger(label: "test")
    static let daiChanh = "dossier/20107/ntm/2024"

    func at(_ date: String) -> Date { CivilDate(date)!.startInstant().addingTimeInterval(8 * 3600) }

    func engine(_ sandbox: Sandbox) async throws -> Engine {
        try sandbox.installModule("libntmwatch-deadline.so")
        _ = try sandbox.configuration(checks: "  - module: deadline\n", seedFrom: Sandbox.sampleFolder)
        return try await Engine.start(try sandbox.load(), logger: logger)
    }

    func findings(_ engine: Engine, at date: String) async throws -> [LabeledFinding] {
        try await engine.evaluate(at: at(date)).flatMap(\.findings)
    }

    @Test func theSampleDossierCalendarDueSoonThenOverdueThenEscalated() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        let engine = try await engine(sandbox)
        let october25 = try await findings(engine, at: "2024-10-25")
        let soon = october25.filter { $0.finding.ruleID == "deadline.due_soon" && $0.finding.subject.id.hasSuffix("/2024/commune_to_district") }
        // Every 2024 roadmap commune without a recorded commune → district dossier: Đại Tân has one.
        #expect(soon.contains { $0.finding.subject.id == "\(Self.daiChanh)/commune_to_district" })
        #expect(!soon.contains { $0.finding.subject.id.hasPrefix("dossier/20108/") })
        #expect(soon.count == 29)
        #expect(soon.allSatisfy { $0.severity == .warning })

        let november5 = try await findings(engine, at: "2024-11-05")
        let overdue = try #require(november5.first { $0.finding.ruleID == "deadline.overdue" && $0.finding.subject.id == "\(Self.daiChanh)/commune_to_district" })
        #expect(overdue.labels["district"] == "502")
        #expect(overdue.finding.values["days_overdue"] == .integer(7))
        #expect(november5.contains { $0.finding.ruleID == "deadline.stage_at_risk" && $0.finding.subject.id == "\(Self.daiChanh)/district_to_province" })
        #expect(!november5.contains { $0.finding.ruleID == "deadline.overdue_escalated" && $0.finding.subject.id.hasPrefix(Self.daiChanh) })

        let november12 = try await findings(engine, at: "2024-11-12")
        await engine.close()
        let escalated = try #require(november12.first { $0.finding.ruleID == "deadline.overdue_escalated" && $0.finding.subject.id == "\(Self.daiChanh)/commune_to_district" })
        #expect(escalated.labels["escalation_target"] == "502")
    }

    @Test func aMonthlyReportIsDueSoonOnTheSeventeenthAndOverdueOnTheTwentieth() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        let engine = try await engine(sandbox)
        func rules(_ findings: [LabeledFinding], _ id: String) -> [String] {
            findings.filter { $0.finding.subject.id == id }.map(\.finding.ruleID)
        }
        #expect(rules(try await findings(engine, at: "2024-11-17"), "OB-QA-R@2024-11-20") == ["deadline.due_soon"])
        let twentieth = try await findings(engine, at: "2024-11-20")
        await engine.close()
        #expect(rules(twentieth, "OB-QA-R@2024-11-20") == ["deadline.overdue"])
        // October's report came in late on 22/10 and is on record; December's is its own occurrence.
        #expect(rules(twentieth, "OB-QA-R@2024-10-20") == ["deadline.completed_late"])
        #expect(rules(twentieth, "OB-QA-R@2024-12-20") == ["deadline.due_soon"])
    }

    @Test func completingAnObligationResolvesItsAlertInJournald() async throws {
        let journald = try Journald.ensureRunning()
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        let engine = try await engine(sandbox)
        try await engine.runCycle(at: at("2024-11-05"))
        let subject = "\(Self.daiChanh)/commune_to_district"
        #expect(try await engine.activeAlerts().contains { $0.subject.id == subject && $0.ruleID == "deadline.overdue" })

        try sandbox.write("submission.csv", "unit_id,tier,year,stage,submitted_on\n20107,ntm,2024,commune_to_district,2024-11-06\n")
        _ = try await Importer(store: engine.store).importFile(.submissions, path: sandbox.path("submission.csv"))
        try await engine.runCycle(at: at("2024-11-07"))
        #expect(!(try await engine.activeAlerts().contains { $0.subject.id == subject && $0.ruleID == "deadline.overdue" }))
        await engine.close()

        let entries = try await journald.entries(matching: "NTMWATCH_INSTANCE=\(sandbox.instance)", atLeast: 1)
        let states = entries.filter { $0["NTMWATCH_SUBJECT_ID"] == subject && $0["NTMWATCH_RULE"] == "deadline.overdue" }
            .compactMap { $0["NTMWATCH_STATE"] }
        #expect(states == ["firing", "resolved"])
    }
}

extension DeadlineIntegrationTests {
    @Test func theSameDataAndInstantGiveTheSameFindingsInTheSameOrder() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        let engine = try await engine(sandbox)
        let first = try await findings(engine, at: "2024-11-05").map(\.fingerprint)
        let again = try await findings(engine, at: "2024-11-05").map(\.fingerprint)
        await engine.close()
        #expect(!first.isEmpty)
        #expect(first == again)
    }
}
