import CheckKit
import DeadlineCheck
import DebtCheck
import DisbursementCheck
import Foundation
@testable import NTMStore
import SatisfactionCheck
import StandardsCheck
import TargetsCheck
import Testing

/// Issue 21: the checks of one cycle read each table once, see what they saw when each read the
/// store itself, and a daemon's shared values do not outlive a change of the data.
@Suite struct SharedReadsTests {
    static let modules: [any CheckModule] = [DeadlineCheck(), SatisfactionCheck(), DebtCheck(), DisbursementCheck(), StandardsCheck(), TargetsCheck()]
    static let dates = ["2023-12-16", "2024-06-30", "2024-11-12", "2025-08-01", "2026-01-02"]

    static func instant(_ date: String) -> Date { CivilDate(date)!.startInstant().addingTimeInterval(8 * 3600) }

    /// Every module's findings as of `instant`, each module in its own reader as the engine runs
    /// them, all sharing `model` when given.
    static func findings(_ store: Store, at instant: Date, sharing model: ReadModel?) async throws -> [[Finding]] {
        var all: [[Finding]] = []
        for module in modules {
            let settings = try Settings(specs: module.descriptor.settings, provided: [:])
            all.append(try await store.withReader(asOf: instant, sharing: model) { reader in
                try await module.evaluate(EvaluationContext(instant: instant, settings: settings, store: reader, logger: .discarding))
            }.sorted { ($0.ruleID, $0.subject.id, $0.labels.description) < ($1.ruleID, $1.subject.id, $1.labels.description) })
        }
        return all
    }

    @Test func aCycleReadsEachTableOnceAndFindsWhatItFoundReadingAlone() async throws {
        let scratch = try await ScratchStore(.sqlite)
        _ = try await Importer(store: scratch.store).importFolder(ScratchStore.sampleFolder)
        var logged = scratch.store
        var compared = 0
        for date in Self.dates {
            let log = QueryLog()
            logged.queryLog = log
            let alone = try await Self.findings(scratch.store, at: Self.instant(date), sharing: nil)
            let shared = try await Self.findings(logged, at: Self.instant(date), sharing: .perCycle())
            #expect(shared == alone, "\(date)")
            compared += alone.joined().count
            let queries = log.queries.map(\.sql)
            // Units were read by five of the six modules, recognitions by four: each once now.
            #expect(queries.filter { $0.contains("FROM units ") }.count == 1, "\(date): \(queries.count) queries")
            #expect(queries.filter { $0.contains("FROM recognitions") }.count == 1)
            #expect(Set(queries).count == queries.count, "\(date): a query issued twice")
        }
        #expect(compared > 50)   // the comparison is not vacuous
        await scratch.remove()
    }

    /// Six modules and the labeller key the units by id: through shared reads they get one table
    /// (its storage the same), equal to what a reader of its own keys.
    @Test func theUnitsByIDAreKeyedOnceForEveryReaderOfACycle() async throws {
        let scratch = try await ScratchStore(.sqlite)
        _ = try await Importer(store: scratch.store).importFolder(ScratchStore.sampleFolder)
        let instant = Self.instant("2025-08-01"), model = ReadModel.perCycle()
        let first = try await scratch.store.withReader(asOf: instant, sharing: model) { try await $0.unitsByID() }
        let second = try await scratch.store.withReader(asOf: instant, sharing: model) { try await $0.unitMap().units }
        let alone = try await scratch.store.withReader(asOf: instant, sharing: nil) { try await $0.unitsByID() }
        #expect(!alone.isEmpty && first == alone && second == alone)
        func storage(_ table: [String: AdministrativeUnit]) -> ObjectIdentifier { ObjectIdentifier(unsafeBitCast(table, to: AnyObject.self)) }
        #expect(storage(first) == storage(second))
        #expect(storage(first) != storage(alone))
        await scratch.remove()
    }

    /// On SQLite the data version is `PRAGMA data_version`; on PostgreSQL, the WAL position.
    @Test(arguments: Backend.available)
    func theDaemonsSharedValuesGoWhenTheDataChanges(backend: Backend) async throws {
        let scratch = try await ScratchStore(backend)
        _ = try await Importer(store: scratch.store).importFolder(ScratchStore.sampleFolder)
        let model = ReadModel.watching(scratch.store)
        let instant = Self.instant("2025-08-01")
        let (before, during) = try await scratch.store.withReader(asOf: instant, sharing: model) { first in
            let before = try await first.units().count
            // A commit of another connection while the first reader is still open (an import).
            try await scratch.store.withConnection(.readWrite) { connection in
                try await connection.sql.raw("INSERT INTO units (id, name, level) VALUES ('NEW', 'Xã mới', 'commune')").run()
            }
            let during = try await scratch.store.withReader(asOf: instant, sharing: model) { try await $0.units().count }
            return (before, during)
        }
        #expect(during == before + 1)
        // Nothing changed since: a reader at the same time shares; none open: read again.
        var logged = scratch.store
        let log = QueryLog()
        logged.queryLog = log
        _ = try await logged.withReader(asOf: instant, sharing: model) { first in
            try await logged.withReader(asOf: instant, sharing: model) { second in
                _ = try await first.units()
                _ = try await second.units()
            }
        }
        _ = try await logged.withReader(asOf: instant, sharing: model) { try await $0.units() }
        #expect(log.queries.filter { $0.sql.contains("FROM units ") }.count == 2)
        await scratch.remove()
    }

    @Test func storeDaysReadAsTheGeneralParserReadsThem() {
        for text in ["2024-06-30", "2024-02-29", "2023-02-29", "2024-13-01", "2024-00-10", "0999-01-01", "2024-6-30", "2024-06-3x",
                     "30/06/2024", " 2024-06-30", "2024-06-30T00:00", "", "2024/06/30", "+024-06-30"] {
            #expect(StoreTime.day(text) == CivilDate(text), "\(text)")
        }
    }
}
