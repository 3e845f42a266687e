import CheckKit

/// The units as they stand on one day, with mergers applied along whole chains: a merged unit
/// is gone, and its heir inherits its roadmap and counts its own assessments from the merger
/// date only (earlier ones describe a smaller territory).
struct Territory {
    let map: UnitMap
    /// The units valid on the day.
    let current: [AdministrativeUnit]
    /// Heir id → the first day of the merged territory.
    let countsFrom: [String: CivilDate]
    /// The roadmap with merged units' entries moved to their heirs.
    let roadmap: [RoadmapEntry]

    init(units: [String: AdministrativeUnit], roadmap: [RoadmapEntry], on today: CivilDate) {
        map = UnitMap(units)
        current = map.inForce(on: today)
        countsFrom = map.mergedSince(on: today)
        self.roadmap = map.roadmap(roadmap, on: today)
    }
}
