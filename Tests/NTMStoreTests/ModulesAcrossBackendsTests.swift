import CheckKit
import DeadlineCheck
import DebtCheck
import DisbursementCheck
import Foundation
@testable import NTMModuleHost
@testable import NTMStore
@testable import NTMWatchCore
import SatisfactionCheck
import StandardsCheck
import TargetsCheck
import Testing

/// Every built-in module, and every shipped SQL rule module, reports exactly the same findings over the sample province whether the
/// store is SQLite or PostgreSQL: the readers hide the backend, and this proves they do for the
/// queries the modules actually make.
@Suite(.enabled(if: Backend.postgresURL != nil, "needs NTMWATCH_TEST_POSTGRES_URL (scripts/test.sh sets it)"))
struct ModulesAcrossBackendsTests {
    static let modules: [any CheckModule] = [DeadlineCheck(), SatisfactionCheck(), DebtCheck(), DisbursementCheck(), StandardsCheck(), TargetsCheck()]
    static let dates = ["2023-12-16", "2024-03-15", "2024-06-05", "2024-06-30", "2024-09-01", "2024-10-15", "2024-11-12", "2024-12-01", "2025-06-16", "2025-08-01", "2025-09-01", "2026-01-02"]

    /// The built-in modules, and the SQL rule modules shipped in Config/modules.
    static func allModules() throws -> [any CheckModule] {
        let shipped = URL(fileURLWithPath: ScratchStore.sampleFolder).deletingLastPathComponent().appendingPathComponent("modules").path
        let sqlModules = try FileManager.default.contentsOfDirectory(atPath: shipped).sorted().filter { $0.hasSuffix(".sql.yaml") }
            .map { try SQLRuleModule(manifest: "\(shipped)/\($0)") }
        return modules + sqlModules
    }

    @Test func theSampleGivesTheSameFindingsOnSQLiteAndPostgreSQL() async throws {
        let sqlite = try await ScratchStore(.sqlite), postgres = try await ScratchStore(.postgres)
        for scratch in [sqlite, postgres] { _ = try await Importer(store: scratch.store).importFolder(ScratchStore.sampleFolder) }
        var compared = 0
        let modules = try Self.allModules()
        #expect(modules.count == Self.modules.count + 2)
        for module in modules {
            let settings = try Settings(specs: module.descriptor.settings, provided: [:])
            for date in Self.dates {
                let instant = CivilDate(date)!.startInstant().addingTimeInterval(8 * 3600)
                func findings(_ scratch: ScratchStore) async throws -> [Finding] {
                    try await scratch.store.withReader(asOf: instant) { reader in
                        try await module.evaluate(EvaluationContext(instant: instant, settings: settings, store: reader, logger: .discarding))
                    }.sorted { ($0.ruleID, $0.subject.id, $0.labels.description) < ($1.ruleID, $1.subject.id, $1.labels.description) }
                }
                let onSQLite = try await findings(sqlite), onPostgres = try await findings(postgres)
                #expect(onSQLite == onPostgres, "\(module.descriptor.name) at \(date)")
                compared += onSQLite.count
            }
        }
        #expect(compared > 100)   // the comparison is not vacuous
        await sqlite.remove()
        await postgres.remove()
    }
}
