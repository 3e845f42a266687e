import CheckKit
import Foundation
import SQLKit
import Testing
@testable import NTMStore

/// Units over time in the store: dated parents, successions, the version-1 data carried over,
/// and the import of units, templates and per-unit completions, on every backend available.
@Suite struct UnitsOverTimeTests {
    static func at(_ day: String) -> Date { CivilDate(day)!.startInstant().addingTimeInterval(8 * 3600) }

    func importing(_ scratch: ScratchStore, _ files: [(ImportKind, String)]) async throws {
        for (index, (kind, text)) in files.enumerated() {
            _ = try await Importer(store: scratch.store).importFile(kind, path: try scratch.write("\(index)-\(kind.rawValue).csv", text))
        }
    }

    /// The regression of issue 16: a merged unit listed before the unit it merged into failed
    /// with the database's bare foreign-key error.
    @Test(arguments: Backend.available)
    func aMergedUnitMayBeListedBeforeItsSuccessor(_ backend: Backend) async throws {
        let scratch = try await ScratchStore(backend)
        try await importing(scratch, [(.units, """
            id,name,level,parent_id,valid_from,valid_to,successor_id
            49,Quảng Nam,province,,,2025-06-30,48
            505,Nông Sơn,district,49,,2025-02-28,504
            504,Quế Sơn,district,49,,2025-06-30,
            48,Đà Nẵng,province,,,,

            """)])
        #expect(try await scratch.count("units") == 4)
        let units = try await scratch.store.withReader(asOf: Self.at("2025-07-01")) { try await $0.unitMap() }
        #expect(units.heir(of: "505", on: CivilDate("2025-03-01")!) == "504")
        #expect(units.heir(of: "49", on: CivilDate("2025-07-01")!) == "48")
        await scratch.remove()
    }

    @Test func aSuccessorCycleIsNamedWithItsRowAndColumn() async throws {
        let scratch = try await ScratchStore()
        let path = try scratch.write("units.csv", """
            id,name,level,valid_to,successor_id
            A,Xã A,commune,2020-01-01,B
            B,Xã B,commune,2020-01-01,A

            """)
        do {
            _ = try await Importer(store: scratch.store).importFile(.units, path: path)
            Issue.record("a successor cycle was imported")
        } catch let error as ImportError {
            #expect(error.problems.first?.row == 2 && error.problems.first?.column == "successor_id")
            #expect(error.message(in: .vi).contains("vòng lặp đơn vị kế thừa: A → B → A"))
        }
        #expect(try await scratch.count("units") == 0)
        await scratch.remove()
    }

    @Test(arguments: Backend.available)
    func theParentAndSuccessorsInForceFollowTheInstant(_ backend: Backend) async throws {
        let scratch = try await ScratchStore(backend)
        try await importing(scratch, [
            (.units, """
                id,name,level,parent_id,valid_from,valid_to,successor_id
                48,Đà Nẵng,province,,,,
                49,Quảng Nam,province,,,2025-06-30,48
                502,Đại Lộc,district,49,,2025-06-30,
                20107,Đại Chánh,commune,502,,,
                20108,Đại Tân,commune,502,,,
                20109,Đại Hưng,commune,502,,2025-06-30,

                """),
            (.unitParents, "unit_id,parent_id,valid_from\n20107,48,2025-07-01\n20108,48,2025-07-01\n"),
            (.unitSuccessions, "predecessor_id,successor_id,effective_on,kind,share\n20109,20107,2025-07-01,split,0.4\n20109,20108,2025-07-01,split,0.6\n"),
        ])
        let before = try await scratch.store.withReader(asOf: Self.at("2025-06-30")) { try await $0.unitsByID() }
        #expect(before["20107"]?.parentID == "502")
        #expect(before["20109"]?.successions.isEmpty == true && before["49"]?.successorID == nil)
        let after = try await scratch.store.withReader(asOf: Self.at("2025-07-01")) { try await $0.unitsByID() }
        #expect(after["20107"]?.parentID == "48")
        #expect(after["20107"]?.parents == [ParentLink(parentID: "502", validTo: CivilDate("2025-06-30")),
                                            ParentLink(parentID: "48", validFrom: CivilDate("2025-07-01"))])
        #expect(after["49"]?.successorID == "48")
        let map = UnitMap(after)
        #expect(Set(map.successors(of: "20109", on: CivilDate("2025-07-01")!)) == ["20107", "20108"])
        #expect(map.heir(of: "20109", on: CivilDate("2025-07-01")!) == "20108")
        await scratch.remove()
    }

    @Test func aVersion1StoreKeepsItsCompletionsAndUnitsWhenMigrated() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ntmstore-v1-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = Store(location: .sqlite(path: "\(folder)/store.sqlite"))
        try await store.withConnection(.readWrite) { connection in
            try await connection.sql.raw("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)").run()
            for statement in Schema.migrations[0].statements { try await connection.sql.raw(SQLQueryString(statement)).run() }
            for statement in [
                "INSERT INTO schema_migrations VALUES (1, 'programme store', '2024-01-01')",
                "INSERT INTO units (id, name, level) VALUES ('48', 'Đà Nẵng', 'province')",
                "INSERT INTO units (id, name, level, valid_to, successor_id) VALUES ('49', 'Quảng Nam', 'province', '2025-06-30', '48')",
                "INSERT INTO units (id, name, level, parent_id) VALUES ('502', 'Đại Lộc', 'district', '49')",
                "INSERT INTO obligations (id, title_vi, title_en, schedule, semantics) VALUES ('OB-1', 'Báo cáo', 'Report', '2024-02-28', 'before')",
                "INSERT INTO obligation_completions VALUES ('OB-1', '2024-02-28', '2024-02-20T03:00:00Z')",
            ] { try await connection.sql.raw(SQLQueryString(statement)).run() }
        }
        #expect(try await store.migrate().map(\.version) == Array(2...Schema.currentVersion))
        let (units, obligations) = try await store.withReader(asOf: Self.at("2025-07-01")) {
            (try await $0.unitsByID(), try await $0.obligations())
        }
        #expect(units["502"]?.parentID == "49" && units["49"]?.successorID == "48")
        #expect(units["49"]?.successions.first?.effectiveOn == CivilDate("2025-07-01"))
        #expect(obligations.first?.completions.map(\.occurrence) == [CivilDate("2024-02-28")!])
        #expect(obligations.first?.completions.first?.unitID == nil)
    }

    /// Version 4 rebuilds the three national tables without a rowid: a version 3 store keeps
    /// every row, column, key and reference, the tables refuse what they refused, and they are
    /// then kept in key order (no rowid to read).
    @Test func aVersion3StoreKeepsItsRowsWhenItsNationalTablesAreKeyed() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ntmstore-v3-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = Store(location: .sqlite(path: "\(folder)/store.sqlite"))
        let tables = ["assessments", "project_disbursements", "project_debts"]
        /// Every row of each table, and what SQLite says of its columns and references.
        func contents() async throws -> [String] {
            try await store.withConnection(.readOnly) { connection in
                var rows: [String] = []
                for table in tables {
                    for query in ["SELECT * FROM \(table) ORDER BY 1, 2, 3, 4", "PRAGMA table_xinfo(\(table))", "PRAGMA foreign_key_list(\(table))"] {
                        for row in try await connection.sql.raw(SQLQueryString(query)).all() {
                            rows.append(table + ": " + row.allColumns.map { column in
                                (try? row.decode(column: column, as: String?.self)).flatMap { $0 }
                                    ?? (try? row.decode(column: column, as: Double?.self)).flatMap { $0 }.map { "\($0)" } ?? "NULL"
                            }.joined(separator: "|"))
                        }
                    }
                }
                return rows
            }
        }
        try await store.withConnection(.readWrite) { connection in
            try await connection.sql.raw("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)").run()
            for migration in Schema.migrations where migration.version <= 3 {
                for statement in migration.statements + migration.sqliteOnly { try await connection.sql.raw(SQLQueryString(statement)).run() }
                try await connection.sql.raw("INSERT INTO schema_migrations VALUES (\(bind: migration.version), 'v', '2025-01-01')").run()
            }
            for statement in [
                "INSERT INTO units (id, name, level) VALUES ('49', 'Quảng Nam', 'province'), ('20107', 'Đại Chánh', 'commune')",
                "INSERT INTO criteria_sets (id, name_vi, name_en, unit_level, tier, valid_from) VALUES ('2021-2025', 'Bộ tiêu chí', 'Criteria', 'commune', 'ntm', '2021-01-01')",
                "INSERT INTO projects (id, name, commune_id, total_vnd) VALUES ('P-1', 'Đường', '20107', 1000)",
                "INSERT INTO assessments VALUES ('20107', '2021-2025', '19.2', '2024-06-30', 0, 2.5, 'Sở'), ('20107', '2021-2025', '1', '2023-01-01', 1, NULL, NULL)",
                "INSERT INTO project_disbursements VALUES ('P-1', 'province', '2024-03-31', 400), ('P-1', 'commune', '2024-03-31', 50)",
                "INSERT INTO project_debts VALUES ('P-1', 'commune', '2024', '2024-12-31', 30)",
            ] { try await connection.sql.raw(SQLQueryString(statement)).run() }
        }
        let before = try await contents()
        let (rows, columns, references) = (5, 7 + 4 + 5, 2 + 1 + 1)
        #expect(before.count == rows + columns + references)
        #expect(try await store.migrate().map(\.version) == [4])
        #expect(try await contents() == before)
        try await store.withConnection(.readWrite) { connection in
            for table in tables {
                await #expect(throws: (any Error).self, "\(table) still has a rowid") {
                    try await connection.sql.raw(SQLQueryString("SELECT rowid FROM \(table)")).all()
                }
            }
            for refused in [
                "INSERT INTO assessments VALUES ('20107', '2021-2025', '2', '2024-06-30', 2, NULL, NULL)",      // met is 0 or 1
                "INSERT INTO assessments VALUES ('99999', '2021-2025', '2', '2024-06-30', 1, NULL, NULL)",      // no such unit
                "INSERT INTO assessments VALUES ('20107', '2021-2025', '1', '2023-01-01', 0, NULL, NULL)",      // the key again
                "INSERT INTO project_disbursements VALUES ('P-2', 'province', '2024-03-31', 1)",                // no such project
                "INSERT INTO project_debts VALUES ('P-1', 'commune', '2024', '2024-12-31', NULL)",              // NOT NULL
            ] {
                await #expect(throws: (any Error).self, "\(refused)") { try await connection.sql.raw(SQLQueryString(refused)).run() }
            }
        }
    }

    @Test(arguments: Backend.available)
    func templatesAndPerUnitCompletionsImportAndReadBack(_ backend: Backend) async throws {
        let scratch = try await ScratchStore(backend)
        try await importing(scratch, [
            (.units, "id,name,level,parent_id\n49,Quảng Nam,province,\n502,Đại Lộc,district,49\n20107,Đại Chánh,commune,502\n"),
            (.obligations, """
                id,title_vi,title_en,schedule,applies_to
                OB-01,Xã trình huyện hồ sơ rà soát,Communes submit their review,2024-02-28,level=commune;tier=ntm;recognized_by=2021-12-31

                """),
        ])
        let obligation = try #require(try await scratch.store.withReader(asOf: Self.at("2024-03-01")) { try await $0.obligations() }.first)
        #expect(obligation.appliesTo == "level=commune;tier=ntm;recognized_by=2021-12-31")
        // The same unit twice (by id and by name) is one key.
        await #expect(throws: ImportError.self) {
            try await importing(scratch, [(.completions, "obligation_id,unit_id,occurrence,completed_at\nOB-01,20107,2024-02-28,2024-02-20\nOB-01,Đại Chánh,2024-02-28,2024-02-21\n")])
        }
        // A template's completion that names no unit would never count.
        do {
            try await importing(scratch, [(.completions, "obligation_id,occurrence,completed_at\nOB-01,2024-02-28,2024-02-20\n")])
            Issue.record("a template's completion without a unit was imported")
        } catch let error as ImportError {
            #expect(error.problems.map(\.row) == [2] && error.problems.first?.column == "unit_id")
        }
        try await importing(scratch, [(.completions, "obligation_id,unit_id,occurrence,completed_at\nOB-01,Đại Chánh,2024-02-28,2024-02-20\n")])
        let completions = try await scratch.store.withReader(asOf: Self.at("2024-03-01")) { try await $0.obligations() }.first?.completions
        #expect(completions?.map(\.unitID) == ["20107"])
        await scratch.remove()
    }

    @Test func anUnreadableSelectorIsNamedWithItsRowAndColumn() async throws {
        let scratch = try await ScratchStore()
        try await importing(scratch, [(.units, "id,name,level\n49,Quảng Nam,province\n")])
        let path = try scratch.write("obligations.csv", """
            id,title_vi,title_en,schedule,applies_to
            OB-01,Một,One,2024-02-28,level=commune
            OB-02,Hai,Two,2024-02-28,level=commune;colour=blue
            OB-03,Ba,Three,2024-02-28,parent=999

            """)
        do {
            _ = try await Importer(store: scratch.store).importFile(.obligations, path: path)
            Issue.record("bad selectors were imported")
        } catch let error as ImportError {
            #expect(error.problems.map(\.row) == [3, 4])
            #expect(error.problems.allSatisfy { $0.column == "applies_to" })
            #expect(error.message(in: .en).contains("unknown key 'colour'"))
            #expect(error.message(in: .en).contains("no such unit: 999"))
        }
        #expect(try await scratch.count("obligations") == 0)
        await scratch.remove()
    }
}
