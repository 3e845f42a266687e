import CheckKit

/// The units as they stand on one day, with mergers applied: a merged unit is gone, and its
/// successor inherits its roadmap and counts its own assessments from the merger date only
/// (earlier ones describe a smaller territory).
struct Territory {
    let units: [String: AdministrativeUnit]
    /// The units valid on the day.
    let current: [AdministrativeUnit]
    /// Successor id → the first day of the merged territory.
    let countsFrom: [String: CivilDate]
    /// The roadmap with merged units' entries moved to their successors.
    let roadmap: [RoadmapEntry]

    init(units: [String: AdministrativeUnit], roadmap: [RoadmapEntry], on today: CivilDate) {
        self.units = units
        current = units.values.filter { $0.isValid(on: today) }.sorted { $0.id < $1.id }
        var countsFrom: [String: CivilDate] = [:]
        var successorOf: [String: String] = [:]
        for unit in units.values {
            guard let successor = unit.successorID, let end = unit.validTo, end < today else { continue }
            successorOf[unit.id] = successor
            countsFrom[successor] = max(countsFrom[successor] ?? end.adding(days: 1), end.adding(days: 1))
        }
        self.countsFrom = countsFrom
        var entries: [String: RoadmapEntry] = [:]
        for entry in roadmap where successorOf[entry.unitID] == nil {
            entries["\(entry.unitID)/\(entry.tier)"] = entry
        }
        for entry in roadmap {
            guard let successor = successorOf[entry.unitID] else { continue }
            let key = "\(successor)/\(entry.tier)"
            if let kept = entries[key], kept.targetYear <= entry.targetYear { continue }
            entries[key] = RoadmapEntry(unitID: successor, tier: entry.tier, targetYear: entry.targetYear, note: entry.note)
        }
        self.roadmap = entries.values.sorted { ($0.unitID, $0.tier) < ($1.unitID, $1.tier) }
    }
}
