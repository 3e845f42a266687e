import CheckKit
import Foundation
import Testing
@testable import NTMStore

/// Issue 22: the columns of `ntmwatch extract --format csv` import as they are, on both backends:
/// quarterly schedules, `due` + `recurrence` standing for `schedule`, and the evidence kept.
@Suite struct ExtractedDeadlineImportTests {
    static let header = "id,title_vi,title_en,schedule,due,semantics,recurrence,last_day,document,section,quote"

    func obligations(_ scratch: ScratchStore) async throws -> [String: Obligation] {
        let snapshot = try await scratch.store.withReader(asOf: CivilDate("2030-01-01")!.startInstant()) { try await $0.obligations() }
        return Dictionary(uniqueKeysWithValues: snapshot.map { ($0.id, $0) })
    }

    func refusal(_ csv: String, _ scratch: ScratchStore) async throws -> String {
        let path = try scratch.write("refused.csv", csv)
        let error = await #expect(throws: ImportError.self) {
            _ = try await Importer(store: scratch.store).importFile(.obligations, path: path)
        }
        return error?.message(in: .en).replacingOccurrences(of: path, with: "FILE") ?? ""
    }

    @Test func quarterlySchedulesParseOnlyWithOneDateInEachQuarterInOrder() {
        let parsed = ObligationSchedule.parse("quarterly:03-15|06-15|09-15|12-15")
        #expect(parsed == .quarterly(dates: [(3, 15), (6, 15), (9, 15), (12, 15)].map { .init(month: $0.0, day: $0.1)! }))
        #expect(parsed.map(ObligationSchedule.format) == "quarterly:03-15|06-15|09-15|12-15")
        #expect(ObligationSchedule.parse("quarterly:02-29|05-31|08-31|11-30") != nil)
        for wrong in ["quarterly:03-15|06-15|09-15", "quarterly:06-15|03-15|09-15|12-15", "quarterly:03-15|06-15|08-15|07-15",
                      "quarterly:03-15|06-31|09-15|12-15", "quarterly:03-15|06-15|09-15|12-15|", "quarterly:"] {
            #expect(ObligationSchedule.parse(wrong) == nil, "\(wrong)")
        }
    }

    @Test(arguments: Backend.available)
    func dueAndRecurrenceWithoutScheduleImportAsTheSchedule(_ backend: Backend) async throws {
        let scratch = try await ScratchStore(backend)
        let csv = """
            id,title_vi,title_en,due,semantics,recurrence,last_day,section,quote
            Q,Báo cáo quý,Quarterly report,2025-06-15,before,quarterly:03-15|06-15|09-15|12-15,2025-06-14,II.5,"hằng quý, trước ngày 15"
            M,Báo cáo tháng,Monthly report,2025-05-05,before,monthly:05,2025-05-04,II.6,trước ngày 05 hằng tháng
            Y,Báo cáo năm,Yearly report,2025-12-10,by,yearly:12-10,2025-12-10,II.7,chậm nhất ngày 10/12 hằng năm
            O,Hồ sơ,Dossier,2025-03-01,within_month,once,2025-03-01,III.1,trong tháng 3/2025

            """
        let report = try await Importer(store: scratch.store).importFile(.obligations, path: try scratch.write("duties.csv", csv))
        #expect(report.inserted == 4)
        let stored = try await obligations(scratch)
        #expect(stored["Q"]?.rawSchedule == "quarterly:03-15|06-15|09-15|12-15")
        #expect(stored["M"]?.rawSchedule == "monthly:5")
        #expect(stored["Y"]?.rawSchedule == "yearly:12-10")
        #expect(stored["O"]?.rawSchedule == "2025-03-01" && stored["O"]?.semantics == .by)
        // `due` is the first occurrence: none before it.
        #expect(stored["Q"]?.startsOn == CivilDate("2025-06-15"))
        #expect(stored["O"]?.startsOn == nil)
        #expect(stored["Q"]?.schedule == .quarterly(dates: [3, 6, 9, 12].map { .init(month: $0, day: 15)! }))
        await scratch.remove()
    }

    @Test func disagreeingDeadlineColumnsAreRefusedAtTheColumnToCorrect() async throws {
        let scratch = try await ScratchStore()
        #expect(try await refusal("""
            id,title_vi,title_en,schedule,due,recurrence
            A,Việc,Duty,2025-06-30,2025-06-15,once
            """, scratch) == "FILE:row 2, column 'schedule' ('2025-06-30'): disagrees with due 2025-06-15, recurrence once (2025-06-15); make them agree or remove column schedule\nNothing was written to the store.")
        #expect(try await refusal("""
            id,title_vi,title_en,due,recurrence
            A,Việc,Duty,2025-06-14,quarterly:03-15|06-15|09-15|12-15
            """, scratch) == "FILE:row 2, column 'due' ('2025-06-14'): 2025-06-14 is not an occurrence of 'quarterly:03-15|06-15|09-15|12-15'; make due and recurrence agree\nNothing was written to the store.")
        #expect(try await refusal("""
            id,title_vi,title_en,due,recurrence
            A,Việc,Duty,2025-06-15,hằng quý
            """, scratch) == "FILE:row 2, column 'recurrence' ('hằng quý'): expected once, monthly:DD, quarterly:MM-DD|MM-DD|MM-DD|MM-DD or yearly:MM-DD\nNothing was written to the store.")
        #expect(try await refusal("""
            id,title_vi,title_en,due,semantics,recurrence,last_day
            A,Việc,Duty,2025-06-15,before,once,2025-06-15
            """, scratch) == "FILE:row 2, column 'last_day' ('2025-06-15'): the last day must be 2025-06-14 (due 2025-06-15, before it); correct last_day or due\nNothing was written to the store.")
        #expect(try await refusal("""
            id,title_vi,title_en,schedule,recurrence
            A,Việc,Duty,yearly:06-30,quarterly:03-31|06-30|09-30|12-31
            """, scratch).hasPrefix("FILE:row 2, column 'schedule' ('yearly:06-30'): disagrees with recurrence quarterly:03-31|06-30|09-30|12-31"))
        #expect(try await scratch.count("obligations") == 0)
        await scratch.remove()
    }

    @Test(arguments: Backend.available)
    func theEvidenceIsKeptAnAbsentColumnKeepsItAndAnEmptyCellClearsIt(_ backend: Backend) async throws {
        let scratch = try await ScratchStore(backend)
        let importer = Importer(store: scratch.store)
        _ = try await importer.importFile(.obligations, path: try scratch.write("a.csv", """
            \(Self.header)
            KH002-1,Trình huyện,Submit,2024-02-28,2024-02-28,before,once,2024-02-27,KH002,II.1.a,"cấp xã trình cấp huyện trước ngày 28/02/2024"

            """))
        var stored = try await obligations(scratch)["KH002-1"]
        #expect(stored?.legalBasis == "KH002" && stored?.section == "II.1.a")
        #expect(stored?.quote == "cấp xã trình cấp huyện trước ngày 28/02/2024")
        _ = try await importer.importFile(.obligations, path: try scratch.write("b.csv", "id,title_vi,title_en,schedule\nKH002-1,Trình huyện,Submit,2024-02-28\n"))
        stored = try await obligations(scratch)["KH002-1"]
        #expect(stored?.section == "II.1.a" && stored?.quote == "cấp xã trình cấp huyện trước ngày 28/02/2024")
        _ = try await importer.importFile(.obligations, path: try scratch.write("c.csv", "id,title_vi,title_en,schedule,section,quote\nKH002-1,Trình huyện,Submit,2024-02-28,,\n"))
        stored = try await obligations(scratch)["KH002-1"]
        #expect(stored?.section == nil && stored?.quote == nil && stored?.legalBasis == "KH002")
        await scratch.remove()
    }
}
