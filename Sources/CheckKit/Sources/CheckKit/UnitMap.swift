/// The administrative map over time: which parent a unit has on a day, whether it still exists,
/// and which units in force carry it after mergers, splits and renamings. Every module and the
/// router resolve units through it, so a merged commune's duties, debts and plans land on the
/// same successor everywhere. Chains are followed; a cycle in the data ends the walk.
public struct UnitMap: Sendable {
    public let units: [String: AdministrativeUnit]

    public init(_ units: [String: AdministrativeUnit]) { self.units = units }

    public init(_ units: [AdministrativeUnit]) {
        self.init(Dictionary(units.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first }))
    }

    public subscript(id: String) -> AdministrativeUnit? { units[id] }

    /// The parent in force on `day` (the unit's own parent history, not today's).
    public func parent(of id: String, on day: CivilDate) -> AdministrativeUnit? {
        units[id]?.parentID(on: day).flatMap { units[$0] }
    }

    /// The unit's parent, its parent's parent... as in force on `day`, nearest first.
    public func ancestors(of id: String, on day: CivilDate) -> [AdministrativeUnit] {
        var result: [AdministrativeUnit] = []
        var seen: Set<String> = [id]
        var current = parent(of: id, on: day)
        while let unit = current, seen.insert(unit.id).inserted {
            result.append(unit)
            current = parent(of: unit.id, on: day)
        }
        return result
    }

    /// Whether the unit had ceased to exist by `day` (merged, split, renamed or abolished).
    public func isAbolished(_ id: String, on day: CivilDate) -> Bool {
        guard let end = units[id]?.validTo else { return false }
        return end < day
    }

    /// The successions out of a unit that have taken effect by `day`.
    func successions(of id: String, on day: CivilDate) -> [Succession] {
        guard let unit = units[id] else { return [] }
        return unit.successions.filter { succession in
            let effective = succession.effectiveOn ?? unit.validTo?.adding(days: 1)
            return effective.map { $0 <= day } ?? false
        }
    }

    /// The units in force on `day` that carry `id`: itself while it exists, else its successors,
    /// following chains. Empty for a unit abolished without a successor (a district in 2025).
    public func successors(of id: String, on day: CivilDate) -> [String] {
        var result: [String] = []
        var seen: Set<String> = []
        func walk(_ current: String) {
            guard seen.insert(current).inserted, let unit = units[current] else { return }
            if !isAbolished(current, on: day) {
                if unit.isValid(on: day) { result.append(current) }
                return
            }
            for succession in successions(of: current, on: day) { walk(succession.successorID) }
        }
        walk(id)
        return result
    }

    /// The one unit in force on `day` that takes over `id`'s duties, debts and plans: the unit
    /// itself while it exists, else the successor that took the largest share at each step
    /// (the first listed on a tie). Nil when the chain ends in a unit abolished without successor.
    public func heir(of id: String, on day: CivilDate) -> String? {
        var seen: Set<String> = []
        var current = id
        while seen.insert(current).inserted {
            guard units[current] != nil else { return nil }
            if !isAbolished(current, on: day) { return units[current]!.isValid(on: day) ? current : nil }
            let next = successions(of: current, on: day)
            guard let best = next.enumerated().max(by: { a, b in
                (a.element.share ?? 0, -a.offset) < (b.element.share ?? 0, -b.offset)
            }) else { return nil }
            current = best.element.successorID
        }
        return nil
    }

    /// The units that existed on `day`.
    public func inForce(on day: CivilDate) -> [AdministrativeUnit] {
        units.values.filter { $0.isValid(on: day) }.sorted { $0.id < $1.id }
    }

    /// The units in force on `day` that have `ancestorID` as parent or higher on that day.
    /// (In id order.) Walks down from the ancestor through each unit's parent on `day`: a walk up
    /// from every unit in force was a twentieth of a national cycle per call (issue 21). The units
    /// passed through need not be in force themselves, as on the way up.
    public func descendants(of ancestorID: String, on day: CivilDate) -> [AdministrativeUnit] {
        guard units.index(forKey: ancestorID) != nil else { return [] }
        // Each unit read in place: a copy of every unit (five strings, two arrays) per call was
        // most of the walk at 110,000 units (issue 21).
        var children: [String: [String]] = [:]
        for index in units.indices {
            guard let parentID = units.values[index].parentID(on: day), units.index(forKey: parentID) != nil else { continue }
            children[parentID, default: []].append(units.keys[index])
        }
        // A unit has one parent on a day, so the walk reaches each unit once; only a cycle in the
        // data through the ancestor itself could lead back, and the ancestor is not walked again.
        var found: [Dictionary<String, AdministrativeUnit>.Index] = []
        var next = children[ancestorID] ?? []
        while let id = next.popLast() {
            guard id != ancestorID, let index = units.index(forKey: id) else { continue }
            if units.values[index].isValid(on: day) { found.append(index) }
            next.append(contentsOf: children[id] ?? [])
        }
        // Positions sorted, then the units copied once: sorting the units themselves moved them around.
        found.sort { units.keys[$0] < units.keys[$1] }
        return found.map { units.values[$0] }
    }

    /// The roadmap as it stands on `day`: the targets of units that no longer exist move to their
    /// heirs (a merged commune's target year binds the commune after the merger); when the heir
    /// has its own target for the tier, the earlier year is kept.
    public func roadmap(_ roadmap: [RoadmapEntry], on day: CivilDate) -> [RoadmapEntry] {
        var entries: [String: RoadmapEntry] = [:]
        for entry in roadmap {
            guard let heir = heir(of: entry.unitID, on: day) else { continue }
            let key = "\(heir)/\(entry.tier)"
            if let kept = entries[key], kept.targetYear <= entry.targetYear { continue }
            entries[key] = RoadmapEntry(unitID: heir, tier: entry.tier, targetYear: entry.targetYear, note: entry.note)
        }
        return entries.values.sorted { ($0.unitID, $0.tier) < ($1.unitID, $1.tier) }
    }

    /// For each unit in force on `day` that took over others, the first day of its merged
    /// territory: its own earlier records describe a smaller territory.
    public func mergedSince(on day: CivilDate) -> [String: CivilDate] {
        var since: [String: CivilDate] = [:]
        for unit in units.values where isAbolished(unit.id, on: day) {
            guard let end = unit.validTo, let heir = heir(of: unit.id, on: day), heir != unit.id else { continue }
            since[heir] = max(since[heir] ?? end.adding(days: 1), end.adding(days: 1))
        }
        return since
    }
}

extension StoreReader {
    /// ``units()`` as a ``UnitMap``.
    public func unitMap() async throws -> UnitMap { UnitMap(try await unitsByID()) }
}
