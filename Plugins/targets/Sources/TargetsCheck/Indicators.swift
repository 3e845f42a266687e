import CheckKit

/// What the province measures its targets by, computed from the store as of one day. The
/// indicator keys are the `indicator` column of `targets.csv`.
struct Indicators {
    enum Direction { case atLeast, atMost }

    /// One indicator's value, with the counts behind it when it is a share or a count.
    struct Reading {
        let value: Double
        /// Units counted (recognized communes, communes below the minimum...), and out of how many.
        let count: Int?
        let population: Int?
        /// `xã`, `thôn`, `huyện`, `tiêu chí`: what `count` counts, for the gap in the message.
        let noun: LocalizedText
        /// The value itself is a number of units (districts, communes): projected and shown whole.
        var isCount = false
    }

    /// The units a share target asks for, rounded as the seeds round them: "154 xã/193 xã ...
    /// 80%" is 80% of 193 (154.4) to the nearest unit. Half a unit rounds up.
    static func neededCount(percent: Double, of population: Int) -> Int {
        Int((percent * Double(population) / 100 + 1e-9).rounded(.toNearestOrAwayFromZero))
    }

    static let known: [String: Direction] = [
        "share_recognized_ntm": .atLeast, "share_recognized_nang_cao": .atLeast, "share_recognized_kieu_mau": .atLeast,
        "communes_recognized_ntm": .atLeast, "communes_recognized_nang_cao": .atLeast, "communes_recognized_kieu_mau": .atLeast,
        "share_model_villages": .atLeast, "share_model_villages_mountain": .atLeast,
        "communes_below_15": .atMost, "districts_without_ntm_commune": .atMost, "average_criteria_per_commune": .atLeast,
    ]

    let units: [String: AdministrativeUnit]
    let sets: [CriteriaSet]
    let minimumCriteria: Int
    /// Each unit's recognitions: `holds` looks at one unit's few, not all of them (a scan per unit
    /// made the module quadratic, 5.75 s at 10,000 communes: issue 21).
    private let recognitionsByUnit: [String: [Recognition]]
    /// Each unit's assessments, grouped once rather than for every reading, as positions in
    /// `assessments`: grouped copies of a national store's 1.9 million assessments were 290 MB
    /// (issue 21).
    private let assessmentsByUnit: [String: [Int]]
    private let assessments: [Assessment]
    /// A cycle reads each target on up to three days, and targets share territories and days:
    /// the territory is computed once per scope and stretch of unchanged map, the criteria counts
    /// once per scope and day (at 10,000 communes each took longer than the rest of the module).
    private let memo = Memo()

    private final class Memo {
        var territories: [String: Territory?] = [:]
        var metCounts: [String: [String: Int]] = [:]
        /// Criteria met by a commune under a set, keyed by how many of its assessments a day
        /// includes: the assessments up to a day grow with the day, so two days that include as
        /// many include the same ones (today and a month ago, mostly).
        var metCount: [MetCountKey: Int?] = [:]
    }

    private struct MetCountKey: Hashable {
        let commune: String, set: String, assessments: Int
    }

    /// A scope's units on one day, split once by the levels the indicators count.
    struct Territory {
        let units: [AdministrativeUnit]
        let communes: [AdministrativeUnit]
        let villages: [AdministrativeUnit]
        let hasDistricts: Bool

        init(_ units: [AdministrativeUnit]) {
            self.units = units
            communes = units.filter { $0.level == "commune" }
            villages = units.filter { $0.level == "village" }
            hasDistricts = units.contains { $0.level == "district" }
        }
    }
    private let map: UnitMap

    init(units: [String: AdministrativeUnit], sets: [CriteriaSet], assessments: [Assessment], recognitions: [Recognition],
         minimumCriteria: Int) {
        self.units = units
        self.sets = sets
        self.minimumCriteria = minimumCriteria
        recognitionsByUnit = Dictionary(grouping: recognitions, by: \.unitID)
        assessmentsByUnit = Dictionary(grouping: assessments.indices) { assessments[$0].unitID }
        self.assessments = assessments
        map = UnitMap(units)
        var changes: Set<CivilDate> = []
        for unit in units.values {
            if let from = unit.validFrom { changes.insert(from) }
            if let to = unit.validTo { changes.insert(to.adding(days: 1)) }
            for link in unit.parents {
                if let from = link.validFrom { changes.insert(from) }
                if let to = link.validTo { changes.insert(to.adding(days: 1)) }
            }
            for succession in unit.successions {
                if let on = succession.effectiveOn { changes.insert(on) }
            }
        }
        mapChanges = changes.sorted()
    }

    /// The days on which the map changes: a unit begins or has ended, a parent link begins or has
    /// ended, a succession takes effect. Between two of them every unit's validity, parent and
    /// heir are the same, so a scope's territory is too: a cycle reads targets on four or five
    /// days, mostly in one stretch, and each territory walks the whole map.
    private let mapChanges: [CivilDate]

    /// How many map changes have happened by `day`: the stretch of unchanged map it lies in.
    private func stretch(of day: CivilDate) -> Int {
        var low = 0, high = mapChanges.count
        while low < high {
            let middle = (low + high) / 2
            if mapChanges[middle] <= day { low = middle + 1 } else { high = middle }
        }
        return low
    }

    static let commune = LocalizedText(vi: "xã", en: "communes")
    static let village = LocalizedText(vi: "thôn", en: "villages")
    static let district = LocalizedText(vi: "huyện", en: "districts")
    static let criteria = LocalizedText(vi: "tiêu chí/xã", en: "criteria per commune")

    /// The indicator as it stood on `day`; nil for an indicator this module does not know, or one
    /// the store has no data for on that day (no commune assessed).
    func reading(_ indicator: String, on day: CivilDate, scope: String? = nil) -> Reading? {
        guard let current = territory(scope, on: day) else { return nil }
        let communes = current.communes
        let villages = current.villages
        func holds(_ unit: AdministrativeUnit, _ tier: String) -> Bool {
            recognitionsByUnit[unit.id]?.contains { $0.tier == tier && $0.recognizedOn <= day && ($0.revokedOn.map { $0 > day } ?? true) } ?? false
        }
        // Advanced and model shares are over the NTM-recognized communes: the seed's "64 xã ... ít
        // nhất 40%" is 64 of the 154 NTM communes (41.6%), not of all 193 (002 §II.2, §II.3).
        var recognizedCommunes: [AdministrativeUnit] {
            communes.filter { commune in ["ntm", "nang_cao", "kieu_mau"].contains { holds(commune, $0) } }
        }
        func share(_ population: [AdministrativeUnit], _ tier: String, _ noun: LocalizedText) -> Reading {
            let count = population.count { holds($0, tier) }
            return Reading(value: population.isEmpty ? 0 : Double(count) * 100 / Double(population.count),
                           count: count, population: population.count, noun: noun)
        }
        switch indicator {
        case "share_recognized_ntm": return share(communes, "ntm", Self.commune)
        case "share_recognized_nang_cao": return share(recognizedCommunes, "nang_cao", Self.commune)
        case "share_recognized_kieu_mau": return share(recognizedCommunes, "kieu_mau", Self.commune)
        case "communes_recognized_ntm", "communes_recognized_nang_cao", "communes_recognized_kieu_mau":
            // The seeds' own counts ("ít nhất 64 xã", "ít nhất 16 xã"), which their percentages only round.
            let tier = String(indicator.dropFirst("communes_recognized_".count))
            let count = communes.count { holds($0, tier) }
            return Reading(value: Double(count), count: count, population: tier == "ntm" ? communes.count : recognizedCommunes.count,
                           noun: Self.commune, isCount: true)
        case "share_model_villages": return share(villages, "kieu_mau", Self.village)
        case "share_model_villages_mountain": return share(villages.filter { region(of: $0) == "mountain" }, "kieu_mau", Self.village)
        case "communes_below_15":
            let counts = metCounts(communes, on: day, scope: scope)
            guard !counts.isEmpty else { return nil }
            let below = counts.values.filter { $0 < minimumCriteria }.count
            return Reading(value: Double(below), count: below, population: counts.count, noun: Self.commune, isCount: true)
        case "districts_without_ntm_commune":
            // Without districts (abolished on 1/7/2025) the indicator no longer exists; zero
            // districts would read as the target met.
            guard current.hasDistricts else { return nil }
            let byParent = Dictionary(grouping: communes) { $0.parentID(on: day) ?? "" }
            let without = current.units.filter { $0.level == "district" }.filter { district in
                guard let children = byParent[district.id], !children.isEmpty else { return false }
                return !children.contains { holds($0, "ntm") }
            }.count
            return Reading(value: Double(without), count: without, population: nil, noun: Self.district, isCount: true)
        case "average_criteria_per_commune":
            let counts = metCounts(communes, on: day, scope: scope).values
            guard !counts.isEmpty else { return nil }
            let average = Double(counts.reduce(0, +)) / Double(counts.count)
            return Reading(value: average, count: nil, population: counts.count, noun: Self.criteria)
        default:
            return nil
        }
    }

    /// The units in force on `day` that an indicator counts: all of them, or those under the
    /// scope unit's heir (a province's target goes on counting its communes after the province
    /// merged). Nil when the scope unit has no heir on that day. The same for every day of a
    /// stretch (``stretch(of:)``).
    func territory(_ scope: String?, on day: CivilDate) -> Territory? {
        let key = "\(scope ?? "")|\(stretch(of: day))"
        if let known = memo.territories[key] { return known }
        let units: [AdministrativeUnit]? = if let scope {
            map.heir(of: scope, on: day).map { map.descendants(of: $0, on: day) }
        } else {
            map.inForce(on: day)
        }
        let territory = units.map(Territory.init)
        memo.territories[key] = territory
        return territory
    }

    /// Whether an indicator can no longer be computed because the level it counts is gone.
    func isObsolete(_ indicator: String, on day: CivilDate, scope: String?) -> Bool {
        guard indicator == "districts_without_ntm_commune", let current = territory(scope, on: day) else { return false }
        return !current.hasDistricts
    }

    /// Criteria met per assessed commune, under the commune NTM set in force on `day`.
    /// `communes` are the communes of `scope`'s territory on `day`, which key the memo.
    func metCounts(_ communes: [AdministrativeUnit], on day: CivilDate, scope: String?) -> [String: Int] {
        let key = "\(scope ?? "")|\(day)"
        if let known = memo.metCounts[key] { return known }
        let counts = metCounts(communes, on: day)
        memo.metCounts[key] = counts
        return counts
    }

    private func metCounts(_ communes: [AdministrativeUnit], on day: CivilDate) -> [String: Int] {
        guard let set = sets.applicable(level: "commune", tier: "ntm", on: day) else { return [:] }
        let topLevel = set.topLevelCriteria
        var counts: [String: Int] = [:]
        for commune in communes {
            let positions = assessmentsByUnit[commune.id] ?? []
            let included = positions.count { assessments[$0].assessedOn <= day }
            let key = MetCountKey(commune: commune.id, set: set.id, assessments: included)
            let count: Int?
            if let known = memo.metCount[key] {
                count = known
            } else {
                let results = set.results(for: commune, in: positions.compactMap { assessments[$0].assessedOn <= day ? assessments[$0] : nil })
                count = results.isEmpty ? nil : topLevel.count { results[$0.code]?.met == true }
                memo.metCount[key] = count
            }
            if let count { counts[commune.id] = count }
        }
        return counts
    }

    /// A unit's region, or its nearest ancestor's when it has none (villages often carry none).
    func region(of unit: AdministrativeUnit) -> String? {
        var current: AdministrativeUnit? = unit
        var seen = Set<String>()
        while let next = current, seen.insert(next.id).inserted {
            if let region = next.region { return region }
            current = next.parentID.flatMap { units[$0] }
        }
        return nil
    }
}
