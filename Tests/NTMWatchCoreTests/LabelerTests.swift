import CheckKit
import Foundation
import Testing
@testable import NTMWatchCore

/// Routing labels come from the hierarchy in force at the evaluation instant: an alert about a unit
/// that no longer exists never carries the labels of offices that no longer exist.
@Suite struct LabelerTests {
    static let reform = CivilDate("2025-07-01")!

    /// The store as read on `day`: each unit's parent is the one in force then.
    static func labeler(on day: CivilDate) -> Labeler {
        var units: [String: AdministrativeUnit] = [:]
        for var unit in [
            AdministrativeUnit(id: "48", name: "Đà Nẵng", level: "province"),
            AdministrativeUnit(id: "49", name: "Quảng Nam", level: "province", validTo: CivilDate("2025-06-30"), successorID: "48"),
            AdministrativeUnit(id: "502", name: "Đại Lộc", level: "district", parentID: "49", validTo: CivilDate("2025-06-30")),
            AdministrativeUnit(id: "20107", name: "Đại Chánh", level: "commune", validTo: CivilDate("2025-06-30"), successorID: "20108",
                               parents: [ParentLink(parentID: "502")]),
            AdministrativeUnit(id: "20108", name: "Đại Tân", level: "commune", parents: [
                ParentLink(parentID: "502", validTo: CivilDate("2025-06-30")), ParentLink(parentID: "48", validFrom: reform)]),
        ] {
            // What the store reader does: hide an end that is still ahead, give the parent in force.
            if let end = unit.validTo, end >= day { unit.validTo = nil; unit.successorID = nil; unit.successions = [] }
            unit.parentID = unit.parentID(on: day)
            units[unit.id] = unit
        }
        return Labeler(units: units, instance: "test", day: day)
    }

    @Test func beforeTheReformACommuneIsRoutedToItsDistrictAndProvince() {
        let labeler = Self.labeler(on: CivilDate("2025-06-30")!)
        #expect(labeler.hierarchy(of: "20107") == ["commune": "20107", "district": "502", "province": "49"])
        #expect(labeler.hierarchy(of: "502") == ["district": "502", "province": "49"])
    }

    @Test func afterTheReformTheLabelsAreThoseInForce() {
        let labeler = Self.labeler(on: Self.reform)
        // A commune now directly under the merged province: no district label.
        #expect(labeler.hierarchy(of: "20108") == ["commune": "20108", "province": "48"])
        // A merged commune is routed as the commune it merged into.
        #expect(labeler.hierarchy(of: "20107") == ["commune": "20108", "province": "48"])
        // An abolished district goes to its province's heir; the merged province to Đà Nẵng.
        #expect(labeler.hierarchy(of: "502") == ["province": "48"])
        #expect(labeler.hierarchy(of: "49") == ["province": "48"])
        #expect(labeler.hierarchy(of: "unknown").isEmpty && labeler.hierarchy(of: nil).isEmpty)
    }
}
