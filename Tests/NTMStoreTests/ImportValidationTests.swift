import CheckKit
import Foundation
import Testing
@testable import NTMStore

/// Every kind of bad input the import promises to catch: refused with its row, column and value,
/// and nothing written, not even the good rows before it.
@Suite struct ImportValidationTests {
    static let units = "id,name,level,parent_id,region\nQNA,Quảng Nam,province,,\nQNA.TP,Tiên Phước,district,QNA,midland\nQNA.TP.TL,Tiên Lãnh,commune,QNA.TP,mountain\n"

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let kind: ImportKind
        let csv: String
        let row: Int
        let column: String
        let value: String?
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "unknown unit", kind: .surveys,
             csv: "id,unit_id,surveyed_on,kind,respondents,satisfied\nS1,QNA.TP.TL,2024-09-01,ntm_results,40,37\nS2,QNA.XX,2024-09-01,ntm_results,40,37\n",
             row: 3, column: "unit_id", value: "QNA.XX"),
        Case(name: "date that does not exist", kind: .surveys,
             csv: "id,unit_id,surveyed_on,kind,respondents,satisfied\nS1,QNA.TP.TL,31/02/2024,ntm_results,40,37\n",
             row: 2, column: "surveyed_on", value: "31/02/2024"),
        Case(name: "negative amount", kind: .projects,
             csv: "id,name,commune_id,total_vnd,commune_vnd\nP1,Đường thôn,QNA.TP.TL,-5000000,-5000000\n",
             row: 2, column: "total_vnd", value: "-5000000"),
        Case(name: "satisfied above respondents", kind: .surveys,
             csv: "id,unit_id,surveyed_on,kind,respondents,satisfied\nS1,QNA.TP.TL,2024-09-01,ntm_results,40,41\n",
             row: 2, column: "satisfied", value: "41"),
        Case(name: "zero respondents", kind: .surveys,
             csv: "id,unit_id,surveyed_on,kind,respondents,satisfied\nS1,QNA.TP.TL,2024-09-01,ntm_results,0,0\n",
             row: 2, column: "respondents", value: "0"),
        Case(name: "survey dated after today", kind: .surveys,
             csv: "id,unit_id,surveyed_on,kind,respondents,satisfied\nS1,QNA.TP.TL,2999-09-01,ntm_results,40,37\n",
             row: 2, column: "surveyed_on", value: "2999-09-01"),
        Case(name: "rate above 100%", kind: .targets,
             csv: "id,indicator,title_vi,title_en,target,unit,by_date\nT1,share,Tỷ lệ,Share,120,%,2025-12-31\n",
             row: 2, column: "target", value: "120"),
        Case(name: "duplicate key", kind: .surveys,
             csv: "id,unit_id,surveyed_on,kind,respondents,satisfied\nS1,QNA.TP.TL,2024-09-01,ntm_results,40,37\nS1,QNA.TP.TL,2024-09-02,ntm_results,40,37\n",
             row: 3, column: "id", value: "S1"),
        Case(name: "shares not adding up to the total", kind: .projects,
             csv: "id,name,commune_id,total_vnd,central_vnd,commune_vnd\nP1,Đường thôn,QNA.TP.TL,1.000.000.000,600.000.000,300.000.000\n",
             row: 2, column: "total_vnd", value: "1.000.000.000"),
        Case(name: "settlement before allocation", kind: .projects,
             csv: "id,name,commune_id,total_vnd,commune_vnd,allocated_on,settlement_approved_on\nP1,Đường,QNA.TP.TL,100,100,2024-05-01,2023-05-01\n",
             row: 2, column: "settlement_approved_on", value: "2023-05-01"),
        Case(name: "missing required column value", kind: .units,
             csv: "id,name,level\nQNA.X,,commune\n",
             row: 2, column: "name", value: nil),
    ]

    @Test(arguments: cases)
    func badInputIsRefusedWithItsPlaceAndNothingIsWritten(_ example: Case) async throws {
        let scratch = try await ScratchStore()
        _ = try await Importer(store: scratch.store).importFile(.units, path: try scratch.write("units.csv", Self.units))
        let table = example.kind.table
        let before = try await scratch.count(table)
        let path = try scratch.write("\(example.kind.rawValue).csv", example.csv)
        let error = await #expect(throws: ImportError.self) {
            try await Importer(store: scratch.store).importFile(example.kind, path: path)
        }
        let problem = try #require(error?.problems.first)
        #expect(problem.row == example.row)
        #expect(problem.column == example.column)
        if let value = example.value { #expect(problem.value == value) }
        #expect(error?.message(in: .vi).hasPrefix("\(path):dòng \(example.row), cột '\(example.column)'") == true)
        #expect(try await scratch.count(table) == before)
        await scratch.remove()
    }

    @Test func aParentCycleIsRefused() async throws {
        let scratch = try await ScratchStore()
        let path = try scratch.write("units.csv", "id,name,level,parent_id\nA,Một,district,B\nB,Hai,district,A\n")
        let error = await #expect(throws: ImportError.self) {
            try await Importer(store: scratch.store).importFile(.units, path: path)
        }
        #expect(error?.problems.contains { $0.column == "parent_id" } == true, "\(String(describing: error))")
        #expect(try await scratch.count("units") == 0)
        await scratch.remove()
    }

    @Test func oneBadFileInAFolderImportsNoneOfTheFolder() async throws {
        let scratch = try await ScratchStore()
        _ = try scratch.write("units.csv", Self.units)
        _ = try scratch.write("surveys.csv", "id,unit_id,surveyed_on,kind,respondents,satisfied\nS1,QNA.TP.TL,2024-09-01,ntm_results,40,99\n")
        await #expect(throws: ImportError.self) {
            try await Importer(store: scratch.store).importFolder(scratch.folder)
        }
        #expect(try await scratch.count("units") == 0)
        await scratch.remove()
    }

    @Test func jsonImportsLikeCSV() async throws {
        let scratch = try await ScratchStore()
        let path = try scratch.write("units.json", #"[{"id": "QNA", "name": "Quảng Nam", "level": "province"}, {"mã": "QNA.TP", "tên": "Tiên Phước", "cấp": "district", "cấp trên": "QNA"}]"#)
        let report = try await Importer(store: scratch.store).importFile(.units, path: path)
        #expect(report.inserted == 2)
        await scratch.remove()
    }
}
