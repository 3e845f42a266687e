import CheckKit
import Foundation
import NTMAlerting
import NTMDelivery
import NTMStore

/// What a page is drawn from, read at one instant: the alert state (read-only, its own
/// connection, so pages never wait on the engine) and the programme store (read-only snapshot).
actor ConsoleState {
    let directory: String
    private var state: AlertStateStore?

    init(directory: String) { self.directory = directory }

    /// nil until the daemon has written its state file once.
    func alerts() async throws -> AlertStateStore? {
        if let state { return state }
        state = try await AlertStateStore.openReadOnly(directory: directory, logger: .init(label: "ntmwatch.console"))
        return state
    }
}

/// Where each alert belongs: its unit as in force on the day (a merged commune as its heir), the
/// commune it is in, and the area, which is the commune's parent in force that day.
struct Placement: Sendable {
    let units: UnitMap
    let day: CivilDate
    static let noArea = "-"

    func unitInForce(_ id: String?) -> AdministrativeUnit? {
        guard let id, units[id] != nil else { return nil }
        return units.heir(of: id, on: day).flatMap { units[$0] } ?? units[id]
    }

    /// The commune an alert is about (a village's commune, a commune itself), if any.
    func commune(of id: String?) -> AdministrativeUnit? {
        guard let unit = unitInForce(id) else { return nil }
        return ([unit] + units.ancestors(of: unit.id, on: day)).first { $0.level == "commune" }
    }

    /// The area's unit id, or `noArea` for alerts about no unit (the daemon's own, the checks').
    func area(of id: String?) -> String {
        guard let unit = unitInForce(id) else { return Self.noArea }
        let chain = [unit] + units.ancestors(of: unit.id, on: day)
        if let index = chain.firstIndex(where: { $0.level == "commune" }) {
            return index + 1 < chain.count ? chain[index + 1].id : chain[index].id
        }
        return chain.count >= 2 ? chain[chain.count - 2].id : chain[0].id
    }

    func name(_ id: String) -> String { units[id]?.name ?? id }
}

extension Alert {
    var isOpen: Bool { status != .resolved }
}

/// Open alerts per day, counted back from the history, per area: the overview's trend.
enum Trend {
    static func openPerDay(transitions: [AlertTracker.Transition], areaOf: [String: String], days: [CivilDate]) -> [String: [Int]] {
        var open: [String: Bool] = [:]
        var counts: [String: Int] = [:]
        var result: [String: [Int]] = [:]
        var index = 0
        let sorted = transitions.sorted { $0.at < $1.at }
        for (dayIndex, day) in days.enumerated() {
            let end = day.adding(days: 1).startInstant()
            while index < sorted.count, sorted[index].at < end {
                let transition = sorted[index]
                index += 1
                let area = areaOf[transition.fingerprint] ?? Placement.noArea
                let isOpen = transition.to == .firing || transition.to == .pending
                if (open[transition.fingerprint] ?? false) != isOpen {
                    counts[area, default: 0] += isOpen ? 1 : -1
                    open[transition.fingerprint] = isOpen
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
