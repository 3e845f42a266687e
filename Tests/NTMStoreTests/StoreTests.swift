import CheckKit
import Foundation
import Testing
@testable import NTMStore

@Suite struct StoreTests {
    @Test(arguments: Backend.available)
    func migrationsRunUpFromEmptyOnceAndTheReaderRequiresThem(backend: Backend) async throws {
        let scratch = try await ScratchStore(backend)
        #expect(try await scratch.store.schemaVersion() == Schema.currentVersion)
        #expect(try await scratch.store.migrate().isEmpty)
        try await scratch.store.requireCurrentSchema()
        await scratch.remove()
    }

    @Test(arguments: Backend.available)
    func readOnlyConnectionsRefuseWrites(backend: Backend) async throws {
        let scratch = try await ScratchStore(backend)
        await #expect(throws: (any Error).self) {
            try await scratch.store.withReader(asOf: Date()) { reader in
                _ = try await reader.query("INSERT INTO units (id, name, level) VALUES ('X', 'X', 'commune') RETURNING id", parameters: [])
            }
        }
        await #expect(throws: (any Error).self) {
            try await scratch.store.withConnection(.readOnly) { connection in
                try await connection.sql.raw("DELETE FROM units").run()
            }
        }
        #expect(try await scratch.count("units") == 0)
        await scratch.remove()
    }

    @Test(arguments: Backend.available)
    func theSampleReadsTheSameOnBothBackendsAndReimportChangesNothing(backend: Backend) async throws {
        let scratch = try await ScratchStore(backend)
        let importer = Importer(store: scratch.store)
        let first = try await importer.importFolder(ScratchStore.sampleFolder)
        #expect(first.allSatisfy { $0.updated == 0 && $0.unchanged == 0 })
        let again = try await importer.importFolder(ScratchStore.sampleFolder)
        #expect(again.allSatisfy { $0.inserted == 0 && $0.updated == 0 }, "\(again)")

        let asOf = InstantFixture.october2024
        let snapshot = try await scratch.store.withReader(asOf: asOf) { try await StoreSnapshot(reading: $0) }
        #expect(snapshot.units.count == 140)
        #expect(snapshot.projects.first { $0.id == "DA-QA-01" }?.totalVND == 5_200_000_000)
        if backend == .postgres {
            let reference = try await ScratchStore(.sqlite)
            _ = try await Importer(store: reference.store).importFolder(ScratchStore.sampleFolder)
            let expected = try await reference.store.withReader(asOf: asOf) { try await StoreSnapshot(reading: $0) }
            #expect(snapshot == expected)
            let query = "SELECT unit_id, count(*) AS n, sum(satisfied) AS s FROM surveys GROUP BY unit_id ORDER BY unit_id"
            let rows = try await scratch.store.withReader(asOf: asOf) { try await $0.query(query, parameters: []) }
            let expectedRows = try await reference.store.withReader(asOf: asOf) { try await $0.query(query, parameters: []) }
            #expect(rows == expectedRows)
            await reference.remove()
        }
        await scratch.remove()
    }

    /// A key column the file leaves out is its default when the row is looked up, as when it is
    /// inserted: the Hà Tĩnh sample's completions have no `unit_id`, and a second import of that
    /// folder failed on the primary key instead of finding every row unchanged.
    @Test(arguments: Backend.available)
    func aKeyColumnTheFileLeavesOutIsFoundAgain(backend: Backend) async throws {
        let scratch = try await ScratchStore(backend)
        let importer = Importer(store: scratch.store)
        let folder = ScratchStore.sampleFolder + "/ha-tinh"
        let first = try await importer.importFolder(folder)
        #expect(first.map(\.inserted) == [4, 2])
        let again = try await importer.importFolder(folder)
        #expect(again.map { [$0.inserted, $0.updated, $0.unchanged] } == [[0, 0, 4], [0, 0, 2]])
        #expect(try await scratch.count("obligation_completions") == 2)
        await scratch.remove()
    }

    /// Two rows of one file whose keys differ only in a key column one leaves out and the other
    /// gives as its default are one key: refused as a repeat, naming both rows, and nothing is
    /// written. The duplicate check read the absent cell as NULL, so the store's primary key
    /// refused the file instead, naming neither row.
    @Test(arguments: Backend.available)
    func aKeyGivenOnceLeftOutAndOnceAsItsDefaultIsARepeat(backend: Backend) async throws {
        let scratch = try await ScratchStore(backend)
        let importer = Importer(store: scratch.store)
        _ = try await importer.importFile(.obligations, path: ScratchStore.sampleFolder + "/ha-tinh/obligations.csv")
        let path = try scratch.write("completions.json", """
            [{"obligation_id": "OB-25", "occurrence": "2023-04-15", "completed_at": "2023-04-10T10:00:00+07:00"},
             {"obligation_id": "OB-25", "unit_id": null, "occurrence": "2023-04-15", "completed_at": "2023-04-11T10:00:00+07:00"}]
            """)
        let error = await #expect(throws: ImportError.self) { try await importer.importFile(.completions, path: path) }
        #expect(error?.problems.map(\.row) == [2])
        #expect(error?.problems.first?.reason.en == "duplicate key: same as row 1")
        #expect(try await scratch.count("obligation_completions") == 0)
        await scratch.remove()
    }

    /// A folder may give a kind twice (`criteria-sets.csv` and `.json`): the table is empty when
    /// the first file begins but not when the second does, whose row of the same key updates.
    @Test(arguments: Backend.available)
    func aKindGivenTwiceInAFolderUpdatesFromItsSecondFile(backend: Backend) async throws {
        let scratch = try await ScratchStore(backend)
        _ = try scratch.write("criteria-sets.csv", "id,name_vi,name_en,unit_level,tier,valid_from\nS1,Bộ 1,Set 1,commune,ntm,2021-01-01\n")
        _ = try scratch.write("criteria-sets.json", #"[{"id": "S1", "name_vi": "Bộ một", "name_en": "Set 1", "unit_level": "commune", "tier": "ntm", "valid_from": "2021-01-01"}]"#)
        let reports = try await Importer(store: scratch.store).importFolder(scratch.folder)
        #expect(reports.map { [$0.inserted, $0.updated, $0.unchanged] } == [[1, 0, 0], [0, 1, 0]])
        #expect(try await scratch.count("criteria_sets") == 1)
        await scratch.remove()
    }

    @Test(arguments: Backend.available)
    func vietnameseHeadersWithBOMAndSemicolonsAndNamesWithinParents(backend: Backend) async throws {
        let scratch = try await ScratchStore(backend)
        // Excel's "CSV UTF-8" with a BOM and semicolons; the commune's parent is given by name,
        // written without diacritics; the decomposed "Tiên" (NFD) must match the NFC one.
        let path = try scratch.write("units.csv", "\u{FEFF}Mã;Tên;Cấp;Cấp trên;Vùng\nQNA;Quảng Nam;province;;\nQNA.TP;Tiên Phước;district;QNA;\nQNA.TP.TL;Tie\u{0302}n Lãnh;commune;Tien Phuoc;mountain\n")
        let importer = Importer(store: scratch.store)
        let first = try await importer.importFile(.units, path: path)
        #expect((first.inserted, first.updated, first.unchanged) == (3, 0, 0))
        let again = try await importer.importFile(.units, path: path)
        #expect((again.inserted, again.updated, again.unchanged) == (0, 0, 3))

        let units = try await scratch.store.withReader(asOf: Date()) { try await $0.units() }
        let commune = try #require(units.first { $0.id == "QNA.TP.TL" })
        #expect(commune.parentID == "QNA.TP")
        #expect(commune.name == "Tiên Lãnh")
        #expect(commune.name.unicodeScalars.count == "Tiên Lãnh".precomposedStringWithCanonicalMapping.unicodeScalars.count)
        await scratch.remove()
    }

    @Test(arguments: Backend.available)
    func aChangedFileUpdatesAndADryRunWritesNothing(backend: Backend) async throws {
        let scratch = try await ScratchStore(backend)
        let importer = Importer(store: scratch.store)
        _ = try await importer.importFile(.units, path: try scratch.write("units.csv", "id,name,level\nQNA,Quảng Nam,province\n"))
        let changed = try scratch.write("units2.csv", "id,name,level\nQNA,Tỉnh Quảng Nam,province\nDN,Đà Nẵng,province\n")
        let rehearsal = try await importer.importFile(.units, path: changed, dryRun: true)
        #expect((rehearsal.inserted, rehearsal.updated, rehearsal.dryRun) == (1, 1, true))
        #expect(try await scratch.count("units") == 1)
        let real = try await importer.importFile(.units, path: changed)
        #expect((real.inserted, real.updated) == (1, 1))
        #expect(try await scratch.count("units") == 2)
        await scratch.remove()
    }

    /// Rows are written a batch at a time (one lookup of a batch's keys, one multi-row insert):
    /// over several batches, with a composite key holding a number, each row is still counted
    /// once as inserted, updated or unchanged, and a changed value is written.
    @Test(arguments: Backend.available)
    func aFileOfManyBatchesCountsEachRowOnceAndWritesWhatChanged(backend: Backend) async throws {
        let scratch = try await ScratchStore(backend)
        let importer = Importer(store: scratch.store)
        let communes = (1...1_200).map { String(format: "C%04d", $0) }
        _ = try await importer.importFile(.units, path: try scratch.write("units.csv",
            "id,name,level,parent_id\nP,Tỉnh,province,\n" + communes.map { "\($0),Xã \($0),commune,P\n" }.joined()))
        func submissions(_ rows: [(String, Int, String)]) -> String {
            "unit_id,tier,year,stage,submitted_on\n" + rows.map { "\($0.0),ntm,\($0.1),commune_to_district,\($0.2)\n" }.joined()
        }
        let first = try await importer.importFile(.submissions, path: try scratch.write("s1.csv",
            submissions(communes.map { ($0, 2024, "2024-03-01") })))
        #expect((first.inserted, first.updated, first.unchanged) == (1_200, 0, 0))
        // Every third date changed, the rest the same, and 100 new rows for 2025 at the end.
        let again = communes.enumerated().map { index, id in (id, 2024, index % 3 == 0 ? "2024-04-15" : "2024-03-01") }
            + communes.prefix(100).map { ($0, 2025, "2025-03-01") }
        let second = try await importer.importFile(.submissions, path: try scratch.write("s2.csv", submissions(again)))
        #expect((second.inserted, second.updated, second.unchanged) == (100, 400, 800))
        #expect(try await scratch.count("dossier_submissions") == 1_300)
        let dates = try await scratch.store.withConnection(.readOnly) { connection in
            try await connection.sql.raw("""
                SELECT unit_id, submitted_on FROM dossier_submissions WHERE year = 2024 AND unit_id IN ('C0001', 'C0002', 'C1198')
                ORDER BY unit_id
                """).all().map { "\(try $0.decode(column: "unit_id", as: String.self)) \(try $0.decode(column: "submitted_on", as: String.self))" }
        }
        #expect(dates == ["C0001 2024-04-15", "C0002 2024-03-01", "C1198 2024-04-15"])
        await scratch.remove()
    }

    /// Rows are written as they are read: a bad row after several batches were written still
    /// leaves the store as it was, and every problem of the file is reported, not just the first.
    @Test(arguments: Backend.available)
    func aBadRowAfterBatchesWereWrittenImportsNothing(backend: Backend) async throws {
        let scratch = try await ScratchStore(backend)
        let importer = Importer(store: scratch.store)
        let communes = (1...1_500).map { String(format: "C%04d", $0) }
        _ = try await importer.importFile(.units, path: try scratch.write("units.csv",
            "id,name,level,parent_id\nP,Tỉnh,province,\n" + communes.map { "\($0),Xã \($0),commune,P\n" }.joined()))
        var lines = communes.map { "\($0),ntm,2024,commune_to_district,2024-03-01" }
        lines[1_299] = "C1300,ntm,2024,commune_to_district,2024-02-30"      // row 1,301: no such day
        lines[1_499] = "NOWHERE,ntm,2024,commune_to_district,2024-03-01"    // row 1,501: no such unit
        let path = try scratch.write("s.csv", "unit_id,tier,year,stage,submitted_on\n" + lines.joined(separator: "\n") + "\n")
        let error = await #expect(throws: ImportError.self) { try await importer.importFile(.submissions, path: path) }
        #expect(error?.problems.map(\.row) == [1_301, 1_501])
        #expect(try await scratch.count("dossier_submissions") == 0)
        await scratch.remove()
    }
}

enum InstantFixture {
    /// 2024-10-25 00:00 in Vietnam.
    static let october2024 = CivilDate(year: 2024, month: 10, day: 25)!.startInstant()
}

/// Everything a check can read, for comparing backends.
struct StoreSnapshot: Equatable {
    var units: [AdministrativeUnit], criteriaSets: [CriteriaSet], assessments: [Assessment]
    var recognitions: [Recognition], roadmap: [RoadmapEntry], submissions: [DossierSubmission]
    var obligations: [Obligation], projects: [Project], capitalPlans: [CapitalPlan]
    var reallocationReports: [ReallocationReport], surveys: [SatisfactionSurvey], targets: [ProvinceTarget]

    init(reading reader: any StoreReader) async throws {
        units = try await reader.units(); criteriaSets = try await reader.criteriaSets()
        assessments = try await reader.assessments(); recognitions = try await reader.recognitions()
        roadmap = try await reader.roadmap(); submissions = try await reader.dossierSubmissions()
        obligations = try await reader.obligations(); projects = try await reader.projects()
        capitalPlans = try await reader.capitalPlans(); reallocationReports = try await reader.reallocationReports()
        surveys = try await reader.surveys(); targets = try await reader.provinceTargets()
    }
}

extension StoreTests {
    @Test func aStoreNewerThanTheCodeIsRefused() async throws {
        let scratch = try await ScratchStore()
        try await scratch.store.withConnection(.readWrite) { connection in
            try await connection.sql.raw("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', '2030-01-01')").run()
        }
        await #expect(throws: StoreError.self) { try await scratch.store.requireCurrentSchema() }
        await #expect(throws: StoreError.self) { try await scratch.store.migrate() }
        await scratch.remove()
    }

    @Test func aTwoTierProvinceWithoutDistrictsReadsBack() async throws {
        let scratch = try await ScratchStore()
        // Since July 2025: province → commune, with the old district kept as history.
        let path = try scratch.write("units.csv", """
            id,name,level,parent_id,valid_from,valid_to,successor_id
            48,Đà Nẵng,province,,,,
            502,Đại Lộc,district,48,,2025-06-30,
            20107,Đại Chánh,commune,48,2025-07-01,,

            """)
        _ = try await Importer(store: scratch.store).importFile(.units, path: path)
        let units = try await scratch.store.withReader(asOf: Date()) { try await $0.units() }
        #expect(units.first { $0.id == "20107" }?.parentID == "48")
        #expect(units.first { $0.id == "502" }?.validTo == CivilDate(year: 2025, month: 6, day: 30))
        await scratch.remove()
    }
}
