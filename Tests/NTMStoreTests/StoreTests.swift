import CheckKit
import Foundation
import Testing
@testable import NTMStore

/// A store in a fresh temporary folder, migrated.
struct ScratchStore {
    let folder: String
    let store: Store

    init() async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("ntmstore-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        store = Store(location: .sqlite(path: (folder as NSString).appendingPathComponent("store.sqlite")))
        try await store.migrate()
    }

    func write(_ name: String, _ text: String) throws -> String {
        let path = (folder as NSString).appendingPathComponent(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func count(_ table: String) async throws -> Int {
        try await store.withConnection(.readOnly) { connection in
            try await connection.sql.raw("SELECT count(*) AS n FROM \(unsafeRaw: table)").first()!.decode(column: "n", as: Int.self)
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: folder) }
}

@Suite struct StoreTests {
    @Test func migrationIsIdempotentAndReaderRequiresCurrentSchema() async throws {
        let scratch = try await ScratchStore(); defer { scratch.remove() }
        #expect(try await scratch.store.schemaVersion() == Schema.currentVersion)
        #expect(try await scratch.store.migrate().isEmpty)
        try await scratch.store.requireCurrentSchema()
    }

    @Test func readOnlyConnectionRefusesWrites() async throws {
        let scratch = try await ScratchStore(); defer { scratch.remove() }
        await #expect(throws: (any Error).self) {
            try await scratch.store.withConnection(.readOnly) { connection in
                try await connection.sql.raw("INSERT INTO units (id, name, level) VALUES ('X', 'X', 'commune')").run()
            }
        }
        #expect(try await scratch.count("units") == 0)
    }

    @Test func vietnameseHeadersWithBOMAndSemicolonsImportAndReimportChangesNothing() async throws {
        let scratch = try await ScratchStore(); defer { scratch.remove() }
        let path = try scratch.write("units.csv", "\u{FEFF}Mã;Tên;Cấp;Cấp trên;Vùng\nQNA;Quảng Nam;province;;\nQNA.TP;Tiên Phước;district;QNA;\nQNA.TP.TL;Tiên Lãnh;commune;Tiên Phước;mountain\n")
        let importer = Importer(store: scratch.store)
        let first = try await importer.importFile(.units, path: path)
        #expect((first.inserted, first.updated, first.unchanged) == (3, 0, 0))
        let again = try await importer.importFile(.units, path: path)
        #expect((again.inserted, again.updated, again.unchanged) == (0, 0, 3))

        let units = try await scratch.store.withReader(asOf: Date()) { try await $0.units() }
        #expect(units.first { $0.id == "QNA.TP.TL" }?.parentID == "QNA.TP")
        #expect(units.first { $0.id == "QNA.TP.TL" }?.name == "Tiên Lãnh")
    }

    @Test func oneBadRowImportsNothingAndTheErrorNamesRowColumnAndValue() async throws {
        let scratch = try await ScratchStore(); defer { scratch.remove() }
        let path = try scratch.write("units.csv", "id,name,level,parent_id,region\nQNA,Quảng Nam,province,,\nQNA.TP,Tiên Phước,district,QNA,hills\n")
        let error = await #expect(throws: ImportError.self) {
            try await Importer(store: scratch.store).importFile(.units, path: path)
        }
        let problem = try #require(error?.problems.first)
        #expect(problem.row == 3)
        #expect(problem.column == "region")
        #expect(problem.value == "hills")
        #expect(error?.message(in: .vi).contains("Không có gì được ghi vào kho dữ liệu.") == true)
        #expect(try await scratch.count("units") == 0)
    }

    @Test func dryRunReportsWithoutWriting() async throws {
        let scratch = try await ScratchStore(); defer { scratch.remove() }
        let path = try scratch.write("units.csv", "id,name,level\nQNA,Quảng Nam,province\n")
        let report = try await Importer(store: scratch.store).importFile(.units, path: path, dryRun: true)
        #expect(report.inserted == 1 && report.dryRun)
        #expect(try await scratch.count("units") == 0)
    }
}
