/// A unit's standing on one criterion or sub-indicator of a set: its latest assessment and
/// whether that assessment meets the criterion.
public struct CriterionResult: Sendable, Hashable {
    public let criterion: Criterion
    public let assessment: Assessment
    /// The threshold that applies to the unit (its region's, or the general one); nil for a
    /// boolean criterion.
    public let threshold: Double?
    /// Judged from the value against the threshold when both are known, from the recorded `met`
    /// otherwise: a stored value is the evidence, a stored flag only someone's conclusion.
    public let met: Bool
}

extension CriteriaSet {
    /// Whether the set applies on `day`.
    public func isInForce(on day: CivilDate) -> Bool {
        validFrom <= day && validTo.map { day <= $0 } ?? true
    }

    /// The latest result per criterion code for `unit` under this set, from assessments dated on
    /// or after `since` (a merged commune's successor counts from the merger).
    public func results(for unit: AdministrativeUnit, in assessments: [Assessment], since: CivilDate? = nil) -> [String: CriterionResult] {
        // The latest assessment per code first, then one pass over the criteria: a dictionary of
        // the set's criteria built on every call was most of a national cycle's judging (issue 21).
        // Codes the set does not have are never looked up; a code listed twice is judged by its
        // first criterion, and of assessments on the same day the first one counts, as before.
        // Positions, not copies, until a result is made, and one lookup per assessment and per
        // criterion: copies and repeated lookups were most of what is left (issue 21).
        var latest: [String: Int] = [:]
        for index in assessments.indices where assessments[index].unitID == unit.id && assessments[index].setID == id {
            let on = assessments[index].assessedOn
            if let since, on < since { continue }
            func keep(_ slot: inout Int?) {
                if let known = slot, assessments[known].assessedOn >= on { return }
                slot = index
            }
            keep(&latest[assessments[index].criterionCode])
        }
        guard !latest.isEmpty else { return [:] }
        var results: [String: CriterionResult] = [:]
        results.reserveCapacity(latest.count)
        for position in criteria.indices {
            // Taken out as it is judged, so a code listed again finds nothing.
            guard let index = latest.removeValue(forKey: criteria[position].code) else { continue }
            let criterion = criteria[position]
            results[criterion.code] = Self.judge(assessments[index], against: criterion, for: unit)
            if latest.isEmpty { break }
        }
        return results
    }

    static func judge(_ assessment: Assessment, against criterion: Criterion, for unit: AdministrativeUnit) -> CriterionResult {
        switch criterion.measure {
        case .boolean:
            return CriterionResult(criterion: criterion, assessment: assessment, threshold: nil, met: assessment.met)
        case .threshold(let general, _, let direction, let byRegion):
            let threshold = unit.region.flatMap { byRegion[$0] } ?? general
            guard let value = assessment.value else {
                return CriterionResult(criterion: criterion, assessment: assessment, threshold: threshold, met: assessment.met)
            }
            let met = direction == .atLeast ? value >= threshold : value <= threshold
            return CriterionResult(criterion: criterion, assessment: assessment, threshold: threshold, met: met)
        }
    }

    /// The criteria (not sub-indicators) of the set.
    public var topLevelCriteria: [Criterion] { criteria.filter { $0.parentCode == nil } }
}

extension Collection where Element == CriteriaSet {
    /// The set a unit of `level` at `tier` is held to on `day`: the one in force, or after it has
    /// lapsed the last one that was (until a new set is loaded, units are held to what they were
    /// last assessed against).
    public func applicable(level: String, tier: String, on day: CivilDate) -> CriteriaSet? {
        filter { $0.unitLevel == level && $0.tier == tier && $0.validFrom <= day }
            .max { ($0.isInForce(on: day) ? 1 : 0, $0.validFrom) < ($1.isInForce(on: day) ? 1 : 0, $1.validFrom) }
    }
}
