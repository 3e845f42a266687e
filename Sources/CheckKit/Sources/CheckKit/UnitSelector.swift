import Foundation

/// Which units a duty template binds (`applies_to` of an obligation): clauses separated by `;`,
/// all of which must hold for a unit on the evaluation day. Alternatives within a clause are
/// separated by `|` (or `,` for `units`).
///
/// | Clause | Holds for a unit that |
/// |---|---|
/// | `level=commune` | has this level (`level=district|commune`: one of these) |
/// | `tier=ntm` | holds a standing recognition of this tier (`ntm`, `nang_cao`, `kieu_mau`) |
/// | `recognized_before=2022-01-01` | holds a standing recognition (of the clause `tier`'s tiers, if given) dated before the day |
/// | `recognized_by=2021-12-31` | the same, dated on or before the day |
/// | `region=mountain` | is in this region (its own, or its nearest ancestor's) |
/// | `parent=502` | has this unit as parent, or higher, in force on the evaluation day |
/// | `units=20104,20107` | is one of these |
///
/// Example: "xã đạt chuẩn từ năm 2021 trở về trước" is `level=commune;tier=ntm;recognized_by=2021-12-31`.
public struct UnitSelector: Sendable, Hashable, CustomStringConvertible {
    public enum Clause: Sendable, Hashable {
        case level(Set<String>)
        case tier(Set<String>)
        case recognizedBefore(CivilDate)
        case recognizedBy(CivilDate)
        case region(Set<String>)
        case parent(Set<String>)
        case units(Set<String>)
    }

    public let clauses: [Clause]
    public let text: String

    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public let clause: String
        public let reason: LocalizedText
        public var description: String { "\(clause): \(reason.en)" }
    }

    public static let keys = ["level", "tier", "recognized_before", "recognized_by", "region", "parent", "units"]

    public init(_ text: String) throws(ParseError) {
        var clauses: [Clause] = []
        for raw in text.split(separator: ";") {
            let clause = raw.trimmingCharacters(in: .whitespaces)
            if clause.isEmpty { continue }
            guard let equals = clause.firstIndex(of: "=") else {
                throw ParseError(clause: clause, reason: LocalizedText(
                    vi: "cần dạng khóa=giá trị; các khóa: \(Self.keys.joined(separator: ", "))",
                    en: "expected key=value; keys: \(Self.keys.joined(separator: ", "))"))
            }
            let key = clause[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = clause[clause.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            let separators: Set<Character> = key == "units" ? [",", "|"] : ["|"]
            let choices = Set(value.split(whereSeparator: { separators.contains($0) })
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
            guard !choices.isEmpty else {
                throw ParseError(clause: clause, reason: LocalizedText(vi: "thiếu giá trị", en: "no value"))
            }
            func date() throws(ParseError) -> CivilDate {
                guard choices.count == 1, let date = CivilDate(value) else {
                    throw ParseError(clause: clause, reason: LocalizedText(vi: "cần một ngày YYYY-MM-DD", en: "expected one date, YYYY-MM-DD"))
                }
                return date
            }
            switch key {
            case "level": clauses.append(.level(choices))
            case "tier":
                let unknown = choices.subtracting(["ntm", "nang_cao", "kieu_mau"])
                guard unknown.isEmpty else {
                    throw ParseError(clause: clause, reason: LocalizedText(
                        vi: "mức không có: \(unknown.sorted().joined(separator: ", ")); cần ntm, nang_cao hoặc kieu_mau",
                        en: "unknown tier \(unknown.sorted().joined(separator: ", ")); expected ntm, nang_cao or kieu_mau"))
                }
                clauses.append(.tier(choices))
            case "recognized_before": clauses.append(.recognizedBefore(try date()))
            case "recognized_by": clauses.append(.recognizedBy(try date()))
            case "region": clauses.append(.region(choices))
            case "parent": clauses.append(.parent(choices))
            case "units": clauses.append(.units(choices))
            default:
                throw ParseError(clause: clause, reason: LocalizedText(
                    vi: "khóa '\(key)' không có; các khóa: \(Self.keys.joined(separator: ", "))",
                    en: "unknown key '\(key)'; keys: \(Self.keys.joined(separator: ", "))"))
            }
        }
        guard !clauses.isEmpty else {
            throw ParseError(clause: text, reason: LocalizedText(vi: "bộ chọn trống", en: "empty selector"))
        }
        self.clauses = clauses
        self.text = text
    }

    public var description: String { text }

    /// The unit ids a `parent` or `units` clause names, so an import can check they exist.
    public var namedUnitIDs: Set<String> {
        clauses.reduce(into: []) { ids, clause in
            switch clause {
            case .parent(let named), .units(let named): ids.formUnion(named)
            default: break
            }
        }
    }

    /// The units in force on `day` the selector matches, by id. `recognitions` as the store returns
    /// them for the instant (revocations already applied).
    public func matches(in map: UnitMap, recognitions: [Recognition], on day: CivilDate) -> [AdministrativeUnit] {
        let standing = recognitions.filter { $0.revokedOn == nil && $0.recognizedOn <= day }
        let byUnit = Dictionary(grouping: standing, by: \.unitID)
        let tiers = clauses.lazy.compactMap { clause -> Set<String>? in if case .tier(let t) = clause { t } else { nil } }.first
        return map.inForce(on: day).filter { unit in
            let held = (byUnit[unit.id] ?? []).filter { tiers?.contains($0.tier) ?? true }
            return clauses.allSatisfy { clause in
                switch clause {
                case .level(let levels): levels.contains(unit.level)
                case .tier: !held.isEmpty
                case .recognizedBefore(let date): held.contains { $0.recognizedOn < date }
                case .recognizedBy(let date): held.contains { $0.recognizedOn <= date }
                case .region(let regions):
                    (([unit] + map.ancestors(of: unit.id, on: day)).lazy.compactMap(\.region).first).map(regions.contains) ?? false
                case .parent(let parents): map.ancestors(of: unit.id, on: day).contains { parents.contains($0.id) }
                case .units(let ids): ids.contains(unit.id)
                }
            }
        }
    }
}
