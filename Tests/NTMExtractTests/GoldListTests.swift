import Foundation
import NTMExtract
import Testing

/// The extractor against the gold lists kept with the plans: the figures `ntmwatch-bench extract`
/// prints, held to the goal on the seeds.
@Suite struct GoldListTests {
    static let plans = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/plans").path

    @Test func seedsReachTheGoalWithEveryMatchedDateRight() throws {
        let total = try FolderEvaluation(folder: Self.plans).total
        #expect(total.gold >= 60)
        #expect(total.precision >= 0.95, "\(total.extra)")
        #expect(total.recall >= 0.95, "\(total.missed)")
        #expect(total.dateAccuracy == 1)
    }

    @Test func goldMatchingIsOnSectionResponsibleLastDayAndRecurrence() {
        let gold = [("II.1", "ubnd_xa;ubnd_huyen", "2024-02-27", "once")]
        let duty = Duty(responsible: "", responsibleKeys: ["ubnd_huyen", "ubnd_xa"], submitsTo: "",
                        deadline: Deadline(due: .init(year: 2024, month: 2, day: 28)!, semantics: .before, recurrence: "once"),
                        appliesTo: "", appliesToKind: "", section: "II.1", quote: "")
        #expect(Evaluation(gold: gold, duties: [duty]).matched == 1)
        var late = duty
        late.deadline.semantics = .by
        let wrongDay = Evaluation(gold: gold, duties: [late])
        #expect(wrongDay.matched == 0 && wrongDay.datePairs == 1 && wrongDay.dateAccuracy == 0)
    }
}
