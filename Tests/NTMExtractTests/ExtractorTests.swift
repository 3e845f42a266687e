import CheckKit
import Foundation
import NTMExtract
import Testing

/// What is a duty and what is not, who must act, and where it stands.
@Suite struct ExtractorTests {
    func plan(_ body: String) -> String {
        "UBND TỈNH QUẢNG NAM\nSố: 12/KH-UBND\nQuảng Nam, ngày 15 tháng 01 năm 2024\nKẾ HOẠCH\n" + body
    }

    func duties(_ body: String) -> [Duty] { Extractor.extract(plan(body)).duties }

    @Test func theDocumentsOwnDateIsNotADuty() {
        let x = Extractor.extract(plan("I. NHIỆM VỤ\n1. UBND các xã tổ chức thực hiện.\n"))
        #expect(x.documentDate == CivilDate(year: 2024, month: 1, day: 15))
        #expect(x.duties.isEmpty)
    }

    @Test func aLegalReferencesDateIsNotADuty() {
        let found = duties("I. NHIỆM VỤ\n1. Sở Tài chính thực hiện Quyết định số 2690/QĐ-UBND ngày 15/12/2024 của UBND tỉnh trước tháng 6/2025.\n")
        #expect(found.map(\.deadline.due.description) == ["2025-06-01"])
        #expect(found.first?.responsibleKey == "so_tai_chinh")
    }

    @Test func pastEventsAreNotDuties() {
        #expect(duties("I. NHIỆM VỤ\n1. Các xã chưa giải ngân hết trong năm 2023 chuyển sang năm 2024.\n").isEmpty)
        #expect(duties("Ngày 20/12/2023 UBND tỉnh đã tổ chức thẩm định.\n").isEmpty)
    }

    @Test func targetsGoToTheTargetsProposal() {
        let x = Extractor.extract(plan("I. MỤC TIÊU\n1. Phấn đấu đến năm 2030, 100% số thôn đạt chuẩn thôn NTM kiểu mẫu.\n2. Phấn đấu trong năm 2025 có thêm ít nhất 05 xã đạt chuẩn NTM nâng cao.\n"))
        #expect(x.duties.isEmpty)
        #expect(x.targets.map(\.by.description) == ["2030-12-31", "2025-12-31"])
        #expect(x.targets.last?.value == 5)
    }

    @Test func encouragementAndPurposeAreNotDuties() {
        let found = duties("I. NHIỆM VỤ\n1. Huyện Tiên Phước trình UBND tỉnh trước ngày 15/9/2024 để hoàn thiện hồ sơ trình Trung ương trong tháng 10/2024. Khuyến khích các xã hoàn thiện hồ sơ trong quý I/2025.\n")
        #expect(found.map(\.deadline.due.description) == ["2024-09-15"])
        #expect(found.first?.appliesTo == "")
    }

    @Test func twoDatesForTwoClassesAreTwoDutiesWithTheirClasses() {
        let found = duties("I. NHIỆM VỤ\n1. Hồ sơ\na) UBND các xã hoàn thành hồ sơ trình UBND huyện trước ngày 31/7/2024 đối với xã đồng bằng hoặc trước ngày 31/8/2024 đối với các xã miền núi.\n")
        #expect(found.map(\.deadline.due.description) == ["2024-07-31", "2024-08-31"])
        #expect(found.map(\.appliesTo) == ["level=commune;region=plains", "level=commune;region=mountain"])
        #expect(found.allSatisfy { $0.section == "I.1.a" && $0.responsibleKey == "ubnd_xa" && $0.submitsTo == "UBND huyện" })
    }

    @Test func theDeadlineAboveIsReadBack() {
        let found = duties("I. NHIỆM VỤ\n1. Sở Xây dựng hoàn thành rà soát quy hoạch trước tháng 6/2024. Sở Tài nguyên và Môi trường hoàn thành thẩm định trong thời hạn nêu trên.\n")
        #expect(found.map(\.responsibleKey) == ["so_xay_dung", "so_tnmt"])
        #expect(found.map(\.deadline.lastDay.description) == ["2024-05-31", "2024-05-31"])
    }

    @Test func whoActsComesFromTheClauseTheHeadingOrTheSectionsClosingSentence() {
        let found = duties("""
        I. TỔ CHỨC THỰC HIỆN
        1. Văn phòng Điều phối NTM tỉnh
        - Xây dựng kế hoạch tập huấn; báo cáo UBND tỉnh trước ngày 30/3/2024.
        2. Công tác quy hoạch: Hoàn thiện rà soát quy hoạch chung xây dựng xã trước tháng 6/2024.
        Sở Xây dựng, UBND cấp huyện, xã triển khai thực hiện.
        3. Về vốn (cấp xã trình cấp huyện trước ngày 28/02/2024; cấp huyện trình tỉnh trước ngày 30/3/2024).
        """)
        #expect(found.map(\.responsibleKey) == ["van_phong_dieu_phoi", "so_xay_dung;ubnd_huyen;ubnd_xa", "ubnd_xa", "ubnd_huyen"])
        #expect(found.map(\.section) == ["I.1", "I.2", "I.3", "I.3"])
    }

    @Test func aPlanWithoutAnActorSaysUnspecified() {
        let found = duties("I. NHIỆM VỤ\n1. Hoàn thành hồ sơ trong quý II/2025.\n")
        #expect(found.map(\.responsibleKey) == ["unspecified"])
    }

    @Test func numberedListsInsideASectionAreNotHeadings() {
        let found = duties("I. GIẢI PHÁP\n1. Công tác chỉ đạo\n13.5. Có tổ khuyến nông cộng đồng hoạt động hiệu quả;\nSở Y tế báo cáo trước ngày 10/5/2024.\n")
        #expect(found.map(\.section) == ["I.1"])
    }
}
