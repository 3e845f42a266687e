import CheckKit
import Testing

/// `CriteriaSet.results(for:in:since:)` finds the latest assessment per code before judging
/// (CheckKit 3.0.3) instead of building the set's criteria dictionary on every call; it must
/// judge exactly as the 3.0.2 definition, kept here, over random sets and assessments: codes the
/// set lacks, a code listed twice, several assessments on one day, other units and sets,
/// regional thresholds, missing values, a `since` bound.
@Suite struct CriteriaResultsTests {
    /// A result's fields (`CriterionResult` has no public initializer).
    struct Judged: Hashable {
        let criterion: Criterion, assessment: Assessment, threshold: Double?, met: Bool
    }

    /// CheckKit 3.0.2's definition.
    static func reference(_ set: CriteriaSet, for unit: AdministrativeUnit, in assessments: [Assessment],
                          since: CivilDate?) -> [String: Judged] {
        let criteria = Dictionary(set.criteria.map { ($0.code, $0) }, uniquingKeysWith: { first, _ in first })
        var latest: [String: Assessment] = [:]
        for assessment in assessments where assessment.unitID == unit.id && assessment.setID == set.id {
            if let since, assessment.assessedOn < since { continue }
            guard criteria[assessment.criterionCode] != nil else { continue }
            if let known = latest[assessment.criterionCode], known.assessedOn >= assessment.assessedOn { continue }
            latest[assessment.criterionCode] = assessment
        }
        return latest.compactMapValues { assessment -> Judged? in
            guard let criterion = criteria[assessment.criterionCode] else { return nil }
            switch criterion.measure {
            case .boolean:
                return Judged(criterion: criterion, assessment: assessment, threshold: nil, met: assessment.met)
            case .threshold(let general, _, let direction, let byRegion):
                let threshold = unit.region.flatMap { byRegion[$0] } ?? general
                guard let value = assessment.value else {
                    return Judged(criterion: criterion, assessment: assessment, threshold: threshold, met: assessment.met)
                }
                let met = direction == .atLeast ? value >= threshold : value <= threshold
                return Judged(criterion: criterion, assessment: assessment, threshold: threshold, met: met)
            }
        }
    }

    @Test func judgesAsTheEarlierDefinition() {
        var generator = SystemRandomNumberGenerator()
        func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &generator)] }
        let days = (1...12).map { CivilDate(year: 2024, month: $0, day: 15)! }
        var compared = 0, nonEmpty = 0
        for round in 0..<300 {
            // Codes 1-12 (and 12.1) drawn with repeats: some codes twice, some never in the set.
            let criteria = (0..<Int.random(in: 0...10, using: &generator)).map { index -> Criterion in
                let code = pick(["1", "2", "3", "5", "8", "12", "12.1"])
                let measure: Criterion.Measure = Bool.random(using: &generator) ? .boolean : .threshold(
                    Double(Int.random(in: 40...90, using: &generator)), unit: "%",
                    direction: Bool.random(using: &generator) ? .atLeast : .atMost,
                    byRegion: Bool.random(using: &generator) ? ["mountain": Double(Int.random(in: 30...80, using: &generator))] : [:])
                return Criterion(code: code, parentCode: code == "12.1" ? "12" : nil,
                                 name: LocalizedText(vi: "Tiêu chí \(code) #\(index)", en: "Criterion \(code) #\(index)"), measure: measure)
            }
            let set = CriteriaSet(id: "S\(round % 2)", name: LocalizedText(vi: "Bộ", en: "Set"), unitLevel: "commune", tier: "ntm",
                                  validFrom: CivilDate(year: 2022, month: 1, day: 1)!, criteria: criteria)
            let unit = AdministrativeUnit(id: "U1", name: "Xã", level: "commune", region: pick([nil, "mountain", "plains"]))
            let assessments = (0..<Int.random(in: 0...40, using: &generator)).map { _ in
                Assessment(unitID: pick(["U1", "U1", "U1", "U2"]), setID: pick(["S0", "S1"]),
                           criterionCode: pick(["1", "2", "3", "4", "5", "8", "12", "12.1", "13"]), assessedOn: pick(days),
                           met: Bool.random(using: &generator),
                           value: Bool.random(using: &generator) ? Double(Int.random(in: 20...100, using: &generator)) : nil,
                           source: "row \(Int.random(in: 0...1000, using: &generator))")
            }
            for since in [nil, pick(days)] {
                let expected = Self.reference(set, for: unit, in: assessments, since: since)
                let results = set.results(for: unit, in: assessments, since: since).mapValues { result in
                    Judged(criterion: result.criterion, assessment: result.assessment, threshold: result.threshold, met: result.met)
                }
                #expect(results == expected)
                compared += 1
                if !expected.isEmpty { nonEmpty += 1 }
            }
        }
        // The draws must reach the interesting cases, not only empty results.
        #expect(nonEmpty > compared / 4)
    }
}
