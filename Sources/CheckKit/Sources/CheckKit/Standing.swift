/// Where each unit stands in the programme on one day: the tiers it holds and the tiers it still
/// aims at. Several rules turn on it (a recognized unit with debt, a unit due for recognition this
/// year with no survey), so modules share this reading instead of each re-deriving it.
public struct Standing: Sendable {
    private let held: [String: Set<String>]
    private let aims: [String: [RoadmapEntry]]

    /// `recognitions` and `roadmap` as the store returns them for the evaluation instant: later
    /// recognitions are already left out, and a revocation is only visible once it has happened.
    public init(recognitions: [Recognition], roadmap: [RoadmapEntry]) {
        var held: [String: Set<String>] = [:]
        for recognition in recognitions where recognition.revokedOn == nil {
            held[recognition.unitID, default: []].insert(recognition.tier)
        }
        self.held = held
        self.aims = Dictionary(grouping: roadmap.filter { !(held[$0.unitID]?.contains($0.tier) ?? false) }, by: \.unitID)
    }

    /// The tiers a unit holds a standing recognition for.
    public func heldTiers(of unitID: String) -> Set<String> { held[unitID] ?? [] }

    public func isRecognized(_ unitID: String) -> Bool { !(held[unitID]?.isEmpty ?? true) }

    /// The roadmap targets a unit has not reached yet, earliest year first.
    public func openTargets(of unitID: String) -> [RoadmapEntry] {
        (aims[unitID] ?? []).sorted { ($0.targetYear, $0.tier) < ($1.targetYear, $1.tier) }
    }

    /// Whether a unit aims at a tier it does not hold yet with `year` as its target year.
    public func isDue(_ unitID: String, in year: Int) -> Bool {
        openTargets(of: unitID).contains { $0.targetYear == year }
    }

    /// The units that hold a tier or aim at one.
    public var unitIDs: Set<String> { Set(held.keys).union(aims.keys) }

    /// How people call a tier: `nang_cao` is "chuẩn NTM nâng cao" / "advanced NTM".
    public static func tierName(_ tier: String) -> LocalizedText {
        switch tier {
        case "ntm": LocalizedText(vi: "chuẩn NTM", en: "NTM")
        case "nang_cao": LocalizedText(vi: "chuẩn NTM nâng cao", en: "advanced NTM")
        case "kieu_mau": LocalizedText(vi: "chuẩn NTM kiểu mẫu", en: "model NTM")
        default: LocalizedText(vi: tier, en: tier)
        }
    }
}
