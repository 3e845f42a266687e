import CheckKit
import Foundation
import Testing
@testable import NTMStore

/// SQLite imports run on their own connection with prepared statements, PostgreSQL's through
/// sql-kit: the same files must leave the same rows in both, column for column, after a first
/// import and after a second that changes, clears and leaves out values.
@Suite(.enabled(if: Backend.postgresURL != nil, "needs NTMWATCH_TEST_POSTGRES_URL (scripts/test.sh sets it)"))
struct ImportAcrossBackendsTests {
    /// Every table an import fills, each row's columns as the store reader reads them, in key order.
    static func dump(_ scratch: ScratchStore) async throws -> [String: [StoreRow]] {
        var tables: [String: [StoreRow]] = [:]
        for kind in ImportKind.allCases {
            let spec = KindSpec.spec(for: kind)
            let query = "SELECT \(spec.columns.joined(separator: ", ")) FROM \(kind.table) ORDER BY \(spec.key.joined(separator: ", "))"
            tables[kind.table] = try await scratch.store.withReader(asOf: Date()) { try await $0.query(query, parameters: []) }
        }
        return tables
    }

    @Test func theSampleAndAChangedReimportLeaveTheSameRowsOnBothBackends() async throws {
        let sqlite = try await ScratchStore(.sqlite), postgres = try await ScratchStore(.postgres)
        let changes = try await ScratchStore(.sqlite)
        // A second round: a project's amounts changed, its handover cleared (an empty cell), its
        // settlement date left out (no column), a new project; a unit renamed; a new assessment.
        _ = try changes.write("projects.csv", """
            id,name,commune_id,total_vnd,central_vnd,provincial_vnd,district_vnd,commune_vnd,residents_vnd,handover_on
            DA-QA-01,"Đường giao thông thôn Phú Mỹ, xã Quế An",20104,5300000000,2700000000,1300000000,800000000,300000000,200000000,
            DA-NEW-01,Công trình mới,20107,1000,1000,0,0,0,0,2025-01-15

            """)
        _ = try changes.write("units.csv", "id,name,level\n20107,Xã Đại Chánh (mới),commune\n")
        _ = try changes.write("assessments.csv", "unit_id,set_id,criterion_code,assessed_on,met,value\n20107,xa-ntm-2021-2025,1,2025-09-30,1,\n")
        var reports: [[[Int]]] = []
        for scratch in [sqlite, postgres] {
            let importer = Importer(store: scratch.store)
            let first = try await importer.importFolder(ScratchStore.sampleFolder)
            let second = try await importer.importFolder(changes.folder)
            reports.append((first + second).map { [$0.inserted, $0.updated, $0.unchanged] })
        }
        #expect(reports[0] == reports[1])
        #expect(reports[0].suffix(3) == [[0, 1, 0], [1, 0, 0], [1, 1, 0]])
        let onSQLite = try await Self.dump(sqlite), onPostgres = try await Self.dump(postgres)
        for table in onSQLite.keys.sorted() {
            #expect(onSQLite[table] == onPostgres[table], "\(table)")
        }
        #expect(onSQLite.values.map(\.count).reduce(0, +) > 500)   // not vacuous
        let project = try #require(onSQLite["projects"]?.first { $0.values[0] == .text("DA-QA-01") })
        #expect(project.values.contains(.integer(5_300_000_000)))
        await sqlite.remove()
        await postgres.remove()
        await changes.remove()
    }
}
