import CheckKit
import Foundation
import Logging
import Testing
import NTMAlerting
import NTMDelivery
@testable import NTMWatchCore

/// The default inhibit rules over the sample province with the six built-in modules: what one
/// cycle fires and notifies with and without them (the numbers the README quotes).
@Suite struct InhibitionSampleTests {
    static let modules = ["deadline", "satisfaction", "debt", "disbursement", "standards", "targets"]

    struct Counts: Equatable, CustomStringConvertible {
        var firing = 0, notified = 0, ledgerRows = 0, inhibited = 0
        var description: String { "firing \(firing), notified \(notified), ledger rows \(ledgerRows), inhibited \(inhibited)" }
    }

    /// The first cycle as of `date` (08:00 in Vietnam), in a fresh installation.
    static func cycle(at date: String, inhibitRules: String?) async throws -> Counts {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        for module in modules { try sandbox.installModule("libntmwatch-\(module).so") }
        _ = try sandbox.configuration(checks: modules.map { "  - module: \($0)" }.joined(separator: "\n") + "\n",
                                      seedFrom: Sandbox.sampleFolder, extra: "journald: false\n" + (inhibitRules.map { "inhibit_rules: \($0)\n" } ?? ""))
        let engine = try await Engine.start(try sandbox.load(), logger: Logger(label: "test"))
        try await engine.runCycle(at: CivilDate(date)!.startInstant().addingTimeInterval(8 * 3600))
        let alerts = try await engine.activeAlerts().filter { $0.status == .firing && !$0.labels["rule", default: ""].hasPrefix("ntmwatch.") }
        let notifications = try await engine.state.notifications().filter { !$0.alert.ruleID.hasPrefix("ntmwatch.") }
        let rows = try await engine.state.deliveryEvents().filter { event in notifications.contains { $0.id == event.notificationID } }
        await engine.close()
        return Counts(firing: alerts.count, notified: notifications.count, ledgerRows: rows.count,
                      inhibited: alerts.filter { $0.inhibitedBy != nil }.count)
    }

    @Test func theDefaultsMuteEscalatedDutiesPlainAlertsOnTheSample() async throws {
        var inhibitedSomewhere = false
        for date in ["2024-06-30", "2024-11-12", "2025-01-15"] {
            let without = try await Self.cycle(at: date, inhibitRules: "[]")
            let with = try await Self.cycle(at: date, inhibitRules: nil)
            print("inhibition on the sample \(date): without \(without); with the defaults \(with)")
            #expect(without.inhibited == 0)
            #expect(with.firing == without.firing, "inhibition never changes what fires")
            #expect(with.notified == without.notified - with.inhibited)
            inhibitedSomewhere = inhibitedSomewhere || with.inhibited > 0
        }
        #expect(inhibitedSomewhere)
    }

    @Test func inhibitRulesAreReadAsAlertmanagerWritesThemAndBadOnesAreNamed() throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        _ = try sandbox.configuration(extra: """
            inhibit_rules:
              - source_matchers: ['rule="debt.settlement_overdue"']
                target_matchers: [rule=~"debt\\.(new_debt|recognized_unit_has_debt)"]
                equal: [commune]
            """)
        let rules = try sandbox.load().inhibitRules
        #expect(rules.count == 1 && rules[0].equal == ["commune"])
        #expect(rules[0].targetMatchers.map(\.description) == [#"rule=~"debt\.(new_debt|recognized_unit_has_debt)""#])
        let plain = try Sandbox(); defer { plain.remove() }
        _ = try plain.configuration()
        #expect(try plain.load().inhibitRules == InhibitRule.defaults)

        _ = try sandbox.configuration(extra: "inhibit_rules:\n  - source_matchers: ['rule=~(']\n    target_matchers: [rule=x]\n")
        let text = #expect(throws: ConfigError.self) { try sandbox.load() }?.text(in: .en) ?? ""
        #expect(text.contains("inhibit_rules[0].source_matchers") && text.contains("not a valid regular expression"), "\(text)")
        _ = try sandbox.configuration(extra: "inhibit_rules:\n  - source_matchers: [rule=x]\n")
        #expect(throws: ConfigError.self) { try sandbox.load() }
    }
}
