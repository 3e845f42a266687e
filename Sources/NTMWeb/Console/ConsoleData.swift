import CheckKit
import Foundation
import NTMAlerting
import NTMDelivery
import NTMStore

/// What a page is drawn from, read at one instant: the alert state (read-only, its own
/// connection, so pages never wait on the engine) and the programme store (read-only snapshot);
/// and what is kept between requests while neither has changed: the placement of the units and
/// the overview's body.
actor ConsoleState {
    let directory: String
    private var state: AlertStateStore?
    private let storeVersion: DataVersion
    private var placement: (key: PlacementKey, value: Placement)?
    private var overview: (key: OverviewKey, bodies: [Language: HTMLText])?
    /// How many times the overview was drawn rather than taken from the cache (tests read it).
    private(set) var overviewBuilds = 0

    struct PlacementKey: Hashable {
        let store: Int64
        let day: CivilDate
    }

    /// Everything the overview's body depends on but the language and the instant it shows.
    struct OverviewKey: Hashable {
        let alerts: AlertStateStore.ChangeMark
        let placement: PlacementKey
    }

    init(directory: String, store: StoreLocation) {
        self.directory = directory
        self.storeVersion = DataVersion(Store(location: store))
    }

    /// nil until the daemon has written its state file once.
    func alerts() async throws -> AlertStateStore? {
        if let state { return state }
        state = try await AlertStateStore.openReadOnly(directory: directory)
        return state
    }

    /// SQLiteNIO demands its connections be closed before they go (an assertion in debug builds).
    func close() async {
        await state?.close()
        state = nil
    }

    /// The units in force on `now`'s day, placed once per day and version of the store's data:
    /// a national store has tens of thousands of units, read and placed in hundreds of ms.
    func placement(_ store: Store, now: Date) async throws -> (Placement, key: PlacementKey?) {
        let day = CivilDate(now)
        let key = await storeVersion.current().map { PlacementKey(store: $0, day: day) }
        if let key, let placement, placement.key == key { return (placement.value, key) }
        // The version is read before the units, so what is kept is at least as new as its key.
        let units = try await store.withReader(asOf: now) { try await $0.units() }
        let value = Placement(units: UnitMap(units), day: day)
        if let key { placement = (key, value) }
        return (value, key)
    }

    func cachedOverview(_ key: OverviewKey, _ language: Language) -> HTMLText? {
        guard let overview, overview.key == key else { return nil }
        return overview.bodies[language]
    }

    /// Counts a drawn overview and keeps it, when it has a key (a SQLite store).
    func keepOverview(_ body: HTMLText, _ key: OverviewKey?, _ language: Language) {
        overviewBuilds += 1
        guard let key else { return }
        if overview?.key != key { overview = (key, [:]) }
        overview?.bodies[language] = body
    }
}

/// Where each alert belongs: its unit as in force on the day (a merged commune as its heir), the
/// commune it is in, and the area, which is the commune's parent in force that day. Worked out
/// for every unit once, when the placement is made, not per alert.
struct Placement: Sendable {
    let units: UnitMap
    let day: CivilDate
    private let communes: [String: String]
    private let areas: [String: String]
    static let noArea = "-"

    init(units: UnitMap, day: CivilDate) {
        self.units = units
        self.day = day
        var communes: [String: String] = [:], areas: [String: String] = [:]
        for id in units.units.keys {
            guard let unit = units.heir(of: id, on: day).flatMap({ units[$0] }) ?? units[id] else { continue }
            let chain = [unit] + units.ancestors(of: unit.id, on: day)
            if let index = chain.firstIndex(where: { $0.level == "commune" }) {
                communes[id] = chain[index].id
                areas[id] = index + 1 < chain.count ? chain[index + 1].id : chain[index].id
            } else {
                areas[id] = chain.count >= 2 ? chain[chain.count - 2].id : chain[0].id
            }
        }
        self.communes = communes
        self.areas = areas
    }

    /// The commune an alert is about (a village's commune, a commune itself), if any.
    func commune(of id: String?) -> AdministrativeUnit? {
        id.flatMap { communes[$0] }.flatMap { units[$0] }
    }

    /// The area's unit id, or `noArea` for alerts about no unit (the daemon's own, the checks').
    func area(of id: String?) -> String {
        id.flatMap { areas[$0] } ?? Self.noArea
    }

    func name(_ id: String) -> String { units[id]?.name ?? id }
}

extension Alert {
    var isOpen: Bool { status != .resolved }
}

/// Open alerts per day, counted back from the history, per area: the overview's trend.
enum Trend {
    static func openPerDay(_ openings: [AlertStateStore.Opening], area: (String?) -> String, days: [CivilDate]) -> [String: [Int]] {
        var open: [String: Bool] = [:]
        var counts: [String: Int] = [:]
        var result: [String: [Int]] = [:]
        var index = 0
        let sorted = openings.sorted { $0.at < $1.at }
        for (dayIndex, day) in days.enumerated() {
            let end = day.adding(days: 1).startInstant()
            while index < sorted.count, sorted[index].at < end {
                let opening = sorted[index]
                index += 1
                if (open[opening.fingerprint] ?? false) != opening.opens {
                    counts[area(opening.unitID), default: 0] += opening.opens ? 1 : -1
                    open[opening.fingerprint] = opening.opens
                }
            }
            for (area, count) in counts {
                if result[area] == nil { result[area] = Array(repeating: 0, count: days.count) }
                result[area]![dayIndex] = count
            }
        }
        return result
    }
}
