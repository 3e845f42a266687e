import CheckKit
import Testing

/// The administrative map over time: the 2025 reform (districts abolished, communes moved under
/// the province, Quảng Nam merged into Đà Nẵng), a commune merger, a split, a chain and a cycle.
@Suite struct UnitMapTests {
    static func day(_ text: String) -> CivilDate { CivilDate(text)! }
    static let reform = day("2025-07-01")

    let map = UnitMap([
        AdministrativeUnit(id: "48", name: "Đà Nẵng", level: "province"),
        AdministrativeUnit(id: "49", name: "Quảng Nam", level: "province", validTo: day("2025-06-30"), successorID: "48"),
        AdministrativeUnit(id: "502", name: "Đại Lộc", level: "district", parentID: "49", validTo: day("2025-06-30")),
        AdministrativeUnit(id: "20107", name: "Đại Chánh", level: "commune", region: "plains", validTo: day("2025-06-30"),
                           successorID: "20108", parents: [ParentLink(parentID: "502")]),
        AdministrativeUnit(id: "20108", name: "Đại Tân", level: "commune", region: "plains", parents: [
            ParentLink(parentID: "502", validTo: day("2025-06-30")), ParentLink(parentID: "48", validFrom: reform),
        ]),
        // Split in two in 2024, the larger part merged again in 2025: a chain.
        AdministrativeUnit(id: "X", name: "Xã cũ", level: "commune", parentID: "502", validTo: day("2023-12-31"), successions: [
            Succession(predecessorID: "X", successorID: "X1", effectiveOn: day("2024-01-01"), kind: .split, share: 0.3),
            Succession(predecessorID: "X", successorID: "X2", effectiveOn: day("2024-01-01"), kind: .split, share: 0.7),
        ]),
        AdministrativeUnit(id: "X1", name: "Xã một", level: "commune", parentID: "502", validFrom: day("2024-01-01")),
        AdministrativeUnit(id: "X2", name: "Xã hai", level: "commune", parentID: "502", validFrom: day("2024-01-01"),
                           validTo: day("2025-06-30"), successorID: "20108"),
        // Bad data: two units each naming the other as successor.
        AdministrativeUnit(id: "C1", name: "Vòng 1", level: "commune", validTo: day("2020-01-01"), successorID: "C2"),
        AdministrativeUnit(id: "C2", name: "Vòng 2", level: "commune", validTo: day("2020-01-01"), successorID: "C1"),
    ])

    /// `descendants` walks down (CheckKit 3.0.2); it must find what walking up from every unit
    /// in force finds: random trees re-parented over time, dead units in between, parent cycles.
    @Test func descendantsAreTheUnitsWhoseAncestorsIncludeTheUnit() {
        var generator = SystemRandomNumberGenerator()
        let days = [Self.day("2023-01-01"), Self.day("2025-06-30"), Self.reform]
        for _ in 0..<20 {
            var units: [AdministrativeUnit] = []
            for index in 0..<120 {
                func parent() -> String { "U\(Int.random(in: 0..<120, using: &generator))" }
                let moves = Bool.random(using: &generator)
                units.append(AdministrativeUnit(
                    id: "U\(index)", name: "Đơn vị \(index)", level: "commune",
                    validTo: Int.random(in: 0..<5, using: &generator) == 0 ? Self.day("2024-12-31") : nil,
                    parents: moves ? [ParentLink(parentID: parent(), validTo: Self.day("2025-06-30")),
                                      ParentLink(parentID: parent(), validFrom: Self.reform)]
                                   : [ParentLink(parentID: parent())]))
            }
            let map = UnitMap(units)
            for day in days {
                for ancestor in ["U0", "U7", "U42", "missing"] {
                    let walkingUp = map.inForce(on: day).filter { unit in map.ancestors(of: unit.id, on: day).contains { $0.id == ancestor } }
                    #expect(map.descendants(of: ancestor, on: day).map(\.id) == walkingUp.map(\.id))
                }
            }
        }
    }

    @Test func theParentInForceFollowsTheDate() {
        #expect(map.parent(of: "20108", on: Self.day("2025-06-30"))?.id == "502")
        #expect(map.parent(of: "20108", on: Self.reform)?.id == "48")
        #expect(map.ancestors(of: "20108", on: Self.day("2024-11-12")).map(\.id) == ["502", "49"])
        #expect(map.ancestors(of: "20108", on: Self.reform).map(\.id) == ["48"])
    }

    @Test func abolishedFromTheDayAfterTheLastDay() {
        #expect(!map.isAbolished("502", on: Self.day("2025-06-30")))
        #expect(map.isAbolished("502", on: Self.reform))
        #expect(!map.isAbolished("20108", on: Self.reform))
    }

    @Test func successorsFollowChainsAndSplits() {
        #expect(map.successors(of: "20107", on: Self.day("2025-06-30")) == ["20107"])
        #expect(map.successors(of: "20107", on: Self.reform) == ["20108"])
        #expect(Set(map.successors(of: "X", on: Self.day("2024-06-01"))) == ["X1", "X2"])
        #expect(Set(map.successors(of: "X", on: Self.reform)) == ["X1", "20108"])
        // The heir takes the largest share at each step: X → X2 → 20108.
        #expect(map.heir(of: "X", on: Self.day("2024-06-01")) == "X2")
        #expect(map.heir(of: "X", on: Self.reform) == "20108")
        #expect(map.heir(of: "49", on: Self.reform) == "48")
        // A district abolished without successor has no heir; a cycle ends the walk.
        #expect(map.heir(of: "502", on: Self.reform) == nil)
        #expect(map.successors(of: "502", on: Self.reform).isEmpty)
        #expect(map.heir(of: "C1", on: Self.reform) == nil)
        #expect(map.successors(of: "C1", on: Self.reform).isEmpty)
    }

    @Test func roadmapTargetsMoveToTheHeirKeepingTheEarlierYear() {
        let roadmap = [RoadmapEntry(unitID: "20107", tier: "ntm", targetYear: 2024),
                       RoadmapEntry(unitID: "20108", tier: "ntm", targetYear: 2026),
                       RoadmapEntry(unitID: "502", tier: "ntm", targetYear: 2025)]
        #expect(map.roadmap(roadmap, on: Self.day("2025-06-30")).map(\.unitID) == ["20107", "20108", "502"])
        #expect(map.roadmap(roadmap, on: Self.reform) == [RoadmapEntry(unitID: "20108", tier: "ntm", targetYear: 2024)])
        #expect(map.mergedSince(on: Self.reform)["20108"] == Self.reform)
    }

    @Test func aSelectorMatchesUnitsInForceAtTheInstant() throws {
        let recognitions = [Recognition(unitID: "20108", tier: "ntm", recognizedOn: Self.day("2019-12-27")),
                            Recognition(unitID: "X1", tier: "ntm", recognizedOn: Self.day("2024-12-20"))]
        func ids(_ text: String, on day: String) throws -> [String] {
            try UnitSelector(text).matches(in: map, recognitions: recognitions, on: Self.day(day)).map(\.id)
        }
        #expect(try ids("level=commune;tier=ntm;recognized_by=2021-12-31", on: "2025-01-01") == ["20108"])
        #expect(try ids("level=commune;tier=ntm", on: "2025-01-01") == ["20108", "X1"])
        #expect(try ids("level=commune;recognized_before=2024-12-20", on: "2025-01-01") == ["20108"])
        #expect(try ids("level=district", on: "2025-06-30") == ["502"])
        #expect(try ids("level=district", on: "2025-07-01").isEmpty)
        #expect(try ids("level=commune;parent=49", on: "2025-01-01") == ["20107", "20108", "X1", "X2"])
        #expect(try ids("parent=48", on: "2025-07-01") == ["20108"])
        #expect(try ids("units=20107, X1;level=commune", on: "2025-01-01") == ["20107", "X1"])
        #expect(try ids("region=plains|mountain", on: "2025-07-01") == ["20108"])
    }

    @Test func anUnreadableSelectorSaysWhichClause() {
        #expect(throws: UnitSelector.ParseError.self) { try UnitSelector("level=commune;colour=blue") }
        #expect(throws: UnitSelector.ParseError.self) { try UnitSelector("tier=gold") }
        #expect(throws: UnitSelector.ParseError.self) { try UnitSelector("recognized_by=31/12/2021x") }
        #expect(throws: UnitSelector.ParseError.self) { try UnitSelector(" ; ") }
        do {
            _ = try UnitSelector("level=commune;colour=blue")
        } catch {
            #expect(error.clause == "colour=blue")
        }
    }
}
