import Foundation
import NTMExtract
import Testing

/// The imperfections of text extracted from PDF, and the two tone placements.
@Suite struct NormalizerTests {
    @Test func oldAndNewTonePlacementReadAlike() {
        #expect(Normalizer.canonicalTones("xã Duy Hoà, Uỷ ban, khoẻ") == "xã Duy Hòa, Ủy ban, khỏe")
        #expect(Normalizer.canonicalTones("quý I, huyện, hoàn thành") == "quý I, huyện, hoàn thành")
    }

    @Test func decomposedTextIsComposed() {
        let decomposed = "trước ngày 28/02/2024".decomposedStringWithCanonicalMapping
        #expect(Normalizer.lines(decomposed) == ["trước ngày 28/02/2024"])
    }

    @Test func splitSyllablesAreRejoinedAndAbbreviationsKept() {
        #expect(Normalizer.lines("Điện Thọ, Tam Ph ước, Duy S ơn, Đ ại Thắng, UBND ước tính") ==
                ["Điện Thọ, Tam Phước, Duy Sơn, Đại Thắng, UBND ước tính"])
    }

    @Test func pageNumbersAndFootnotesLeaveTheFlow() {
        let lines = Normalizer.lines("nâng tổng số lên 154 xã/193 xã(1), chiếm tỷ lệ 80%.\n\n8\n(1) Không tính xã Quế Trung,\nđã lên thị trấn.\n tiếp tục trang sau")
        #expect(lines == ["nâng tổng số lên 154 xã/193 xã(1), chiếm tỷ lệ 80%.", "tiếp tục trang sau"])
        #expect(Normalizer.join(lines) == "nâng tổng số lên 154 xã/193 xã, chiếm tỷ lệ 80%. tiếp tục trang sau")
    }

    @Test func datesBrokenAcrossLinesAreJoined() {
        #expect(Normalizer.join(["hoàn thành trước ngày 30/6/", "2024 và giai đoạn 2021-", "2025"]) ==
                "hoàn thành trước ngày 30/6/2024 và giai đoạn 2021-2025")
        #expect(Normalizer.join(["trước tháng", "6/2024"]) == "trước tháng 6/2024")
    }
}
