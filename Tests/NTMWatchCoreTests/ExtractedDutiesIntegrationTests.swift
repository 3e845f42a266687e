import CheckKit
import Foundation
import Logging
import NTMExtract
import NTMStore
import Testing
import NTMAlerting
@testable import NTMWatchCore

/// Issue 22 end to end: a seed plan's duties, extracted, imported as the reviewer receives them, and
/// watched by the `deadline` module (the built shared library) over the sample province.
@Suite struct ExtractedDutiesIntegrationTests {
    let logger = Logger(label: "test")

    func at(_ date: String) -> Date { CivilDate(date)!.startInstant().addingTimeInterval(8 * 3600) }

    /// The `deadline` module (the built shared library) over the sample province.
    func withDeadlineEngine(_ body: (Engine, Sandbox) async throws -> Void) async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try sandbox.installModule("libntmwatch-deadline.so")
        _ = try sandbox.configuration(checks: "  - module: deadline\n", seedFrom: Sandbox.sampleFolder)
        let engine = try await Engine.start(try sandbox.load(), logger: logger)
        do { try await body(engine, sandbox) } catch { await engine.close(); throw error }
        await engine.close()
    }

    /// A plan's duties after review: a class of units the selector cannot express stays in the
    /// plan's words, which the import refuses; the reviewer clears it (or writes a selector).
    func reviewed(_ plan: String) throws -> [Duty] {
        Extractor.extract(try DocumentReader.text(of: "\(Sandbox.repository)/Tests/Fixtures/plans/\(plan)")).duties.map { duty in
            var reviewed = duty
            if duty.appliesToKind != "selector" { reviewed.appliesTo = "" }
            return reviewed
        }
    }

    @Test func dutiesReadFromThePlanRaiseDeadlineAlertsAtTheRightInstants() async throws {
        try await withDeadlineEngine(check)
    }

    /// The held-out plan's "định kỳ hằng quý, trước ngày 15 của tháng cuối quý" (II.5), imported from
    /// `due` and `recurrence` alone (the reviewer removed `schedule`): watched each quarter from its
    /// first occurrence on, with its quote.
    @Test func aQuarterlyDutyImportedFromDueAndRecurrenceIsWatchedEachQuarter() async throws {
        try await withDeadlineEngine(checkQuarterly)
    }

    func checkQuarterly(_ engine: Engine, _ sandbox: Sandbox) async throws {
        let duties = try reviewed("heldout/100_ke-hoach-huyen-thang-binh.txt")
        let rows = ProposalCSV.parse(ProposalCSV.duties(duties, document: "KH45"))
        let without = rows[0].firstIndex(of: "schedule")!
        try sandbox.write("duties.csv", rows.map { row in
            ProposalCSV.row(row.enumerated().filter { $0.offset != without }.map(\.element))
        }.joined(separator: "\n") + "\n")
        _ = try await Importer(store: engine.store).importFile(.obligations, path: sandbox.path("duties.csv"))

        let index = try #require(duties.firstIndex { $0.section == "II.5" && $0.deadline.recurrence.hasPrefix("quarterly:") })
        let id = "KH45-\(index + 1)"
        func findings(_ date: String) async throws -> [Finding] {
            try await engine.evaluate(at: at(date)).flatMap(\.findings).map(\.finding).filter { finding in
                finding.subject.id.hasPrefix(id + "@") || finding.subject.id.hasPrefix(id + "/")
            }
        }
        func occurrences(_ date: String) async throws -> Set<String> {
            Set(try await findings(date).map { "\($0.ruleID) \($0.subject.id.split(separator: "@").last ?? "")" })
        }
        // The plan is of 15/03/2025: the first occurrence is 15/06, before which nothing is due (no 15/03).
        #expect(try await occurrences("2025-03-20") == [])
        #expect(try await occurrences("2025-06-14") == ["deadline.due_soon 2025-06-15"])
        #expect(try await occurrences("2025-06-15") == ["deadline.overdue 2025-06-15"])
        #expect(try await occurrences("2025-09-14").contains("deadline.due_soon 2025-09-15"))
        let first = try #require(try await findings("2025-06-14").first)
        #expect(first.values["quote"]?.plain.contains("định kỳ hằng quý, trước ngày 15 của tháng cuối quý") == true)
        #expect(first.values["source"] == .text("KH45 §II.5"))
    }

    func check(_ engine: Engine, _ sandbox: Sandbox) async throws {
        let duties = try reviewed("002_5c745609a7f448fa.txt")
        try sandbox.write("duties.csv", ProposalCSV.duties(duties, document: "KH002"))
        let imported = try await Importer(store: engine.store).importFile(.obligations, path: sandbox.path("duties.csv"))
        #expect(imported.inserted == duties.count)

        // "cấp xã trình cấp huyện trước ngày 28/02/2024" (II.1.a): last day on time 27/02.
        let row = try #require(duties.firstIndex { $0.section == "II.1.a" && $0.quote.hasSuffix("cấp xã trình cấp huyện trước ngày 28/02/2024") })
        let id = "KH002-\(row + 1)"
        func rules(_ date: String) async throws -> [String] {
            try await engine.evaluate(at: at(date)).flatMap(\.findings)
                .filter { [id] finding in
                    let subject = finding.finding.subject.id
                    return subject == id || subject.hasPrefix(id + "@") || subject.hasPrefix(id + "/")
                }
                .map(\.finding.ruleID)
        }
        // The alert says where the duty is written (annotations `source` and `quote`).
        let soon = try await engine.evaluate(at: at("2024-02-20")).flatMap(\.findings).first { $0.finding.subject.id == id }
        #expect(soon?.source == "KH002 §II.1.a")
        #expect(soon?.finding.values["quote"]?.plain.hasSuffix("cấp xã trình cấp huyện trước ngày 28/02/2024") == true)
        #expect(try await rules("2024-01-20") == [])
        #expect(try await rules("2024-02-20") == ["deadline.due_soon"])
        #expect(try await rules("2024-02-27") == ["deadline.due_soon"])
        #expect(try await rules("2024-02-28") == ["deadline.overdue"])
    }
}
