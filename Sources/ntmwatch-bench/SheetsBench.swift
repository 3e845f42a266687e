import ArgumentParser
import CheckKit
import Foundation
import NTMSpreadsheet
import NTMWorkbooks
import NTMStore

/// The same synthetic province imported from its CSV folder and from one `.xlsx` workbook of the
/// same data (numbers as numbers, dates as date cells, one sheet per kind), on fresh SQLite stores.
struct SheetsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sheets", abstract: "Import a province from CSV and from .xlsx; compare.")

    @Option(parsing: .upToNextOption, help: "Province sizes in communes.") var communes: [Int] = [1_000]
    @Option(help: "Repetitions per size and format.") var runs = 3

    func run() async throws {
        print("communes\tformat\trows\tfile MiB\tmedian s\trows/s\tspread")
        for size in communes {
            let folder = try Paths.scratch("sheets-\(size)")
            defer { try? FileManager.default.removeItem(atPath: folder) }
            try SyntheticProvince(communes: size, villagesPerCommune: 4, projectsPerCommune: 2, years: 2023...2025)
                .write(to: folder, catalogueFrom: Paths.sample)
            let workbook = (folder as NSString).appendingPathComponent("province.xlsx")
            try Self.workbook(from: folder, to: workbook)
            var medians: [String: Double] = [:]
            for format in ["csv", "xlsx"] {
                var times: [Double] = [], rows = 0
                for _ in 0..<runs {
                    let scratch = try await ScratchStore(nil)
                    let clock = ContinuousClock()
                    let start = clock.now
                    let importer = Importer(store: scratch.store)
                    let reports = format == "csv" ? try await importer.importFolder(folder) : try await importer.importWorkbook(workbook)
                    times.append(seconds(clock.now - start))
                    rows = reports.reduce(0) { $0 + $1.inserted }
                    await scratch.remove()
                }
                let stats = Statistics(values: times)
                medians[format] = stats.median
                let bytes = format == "xlsx" ? Self.size(workbook)
                    : ImportKind.dependencyOrder.reduce(Int64(0)) { $0 + Self.size((folder as NSString).appendingPathComponent("\($1.rawValue).csv")) }
                print("\(size)\t\(format)\t\(rows)\t\(String(format: "%.1f", Double(bytes) / 1_048_576))\t\(String(format: "%.3f", stats.median))\t\(Int(Double(rows) / stats.median))\t\(stats.spread)")
            }
            print("\(size)\txlsx/csv\t\t\t\(String(format: "%.2f", medians["xlsx"]! / medians["csv"]!))")
        }
    }

    static func size(_ path: String) -> Int64 {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0
    }

    /// The folder's CSV files as sheets named after their kinds, split as the importer splits them.
    static func workbook(from folder: String, to path: String) throws {
        var sheets: [WorkbookWriter.Sheet] = []
        for kind in ImportKind.dependencyOrder {
            let file = (folder as NSString).appendingPathComponent("\(kind.rawValue).csv")
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            let rows = try CSVRows.parse(text, delimiter: ",").enumerated().map { index, row in
                row.fields.map { field in index == 0 ? WorkbookWriter.Cell.text(field) : cell(field) }
            }
            sheets.append(WorkbookWriter.Sheet(name: kind.sheetName, rows: rows))
        }
        try WorkbookWriter.write(sheets, to: path)
    }

    static func cell(_ field: String) -> WorkbookWriter.Cell {
        if field.isEmpty { return .empty }
        if field.count <= 15, let number = Int64(field) { return .number(Double(number)) }
        if field.count == 10, field.filter({ $0 == "-" }).count == 2, let date = CivilDate(field) { return .date(date) }
        return .text(field)
    }
}
