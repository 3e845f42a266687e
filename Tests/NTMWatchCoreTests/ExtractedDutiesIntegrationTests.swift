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

    @Test func dutiesReadFromThePlanRaiseDeadlineAlertsAtTheRightInstants() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try sandbox.installModule("libntmwatch-deadline.so")
        _ = try sandbox.configuration(checks: "  - module: deadline\n", seedFrom: Sandbox.sampleFolder)
        let engine = try await Engine.start(try sandbox.load(), logger: logger)
        do { try await check(engine, sandbox) } catch { await engine.close(); throw error }
        await engine.close()
    }

    func check(_ engine: Engine, _ sandbox: Sandbox) async throws {
        let plan = "\(Sandbox.repository)/Tests/Fixtures/plans/002_5c745609a7f448fa.txt"
        // The review: a class of units the selector cannot express stays in the plan's words, which
        // the import refuses; the reviewer clears it (or writes a selector) before importing.
        let duties = Extractor.extract(try DocumentReader.text(of: plan)).duties.map { duty in
            var reviewed = duty
            if duty.appliesToKind != "selector" { reviewed.appliesTo = "" }
            return reviewed
        }
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
        #expect(try await rules("2024-01-20") == [])
        #expect(try await rules("2024-02-20") == ["deadline.due_soon"])
        #expect(try await rules("2024-02-27") == ["deadline.due_soon"])
        #expect(try await rules("2024-02-28") == ["deadline.overdue"])
    }
}
