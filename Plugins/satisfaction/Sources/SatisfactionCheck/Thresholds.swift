import CheckKit

/// The minimum satisfaction rate per survey kind and tier, from the `thresholds` setting.
struct Thresholds: SettingReadable {
    /// The seeds' regulations, as README.md cites them.
    static let seedDefault: SettingValue = .table([
        "ntm_results": .table(["default": .number(90), "ntm": .number(90), "nang_cao": .number(90), "kieu_mau": .number(90)]),
        "admin_procedures": .table(["default": .number(90)]),
    ])

    struct Choice: Equatable {
        let percent: Double
        /// The tier whose threshold applies (`default` when none of the unit's tiers is listed).
        let tier: String
    }

    private let byKind: [String: [String: Double]]

    init(setting value: SettingValue, key: String) throws(SettingsError) {
        guard case .table(let table) = value else { throw SettingsError(key: key, message: "expected a table, found \(value)") }
        var byKind: [String: [String: Double]] = [:]
        for (kind, value) in table {
            guard case .table(let tiers) = value else {
                throw SettingsError(key: key, message: "'\(kind)' must map tiers to percentages, found \(value)")
            }
            var percents: [String: Double] = [:]
            for (tier, percent) in tiers {
                let number: Double
                switch percent {
                case .integer(let i): number = Double(i)
                case .number(let d): number = d
                default: throw SettingsError(key: key, message: "'\(kind).\(tier)' must be a percentage, found \(percent)")
                }
                guard (0...100).contains(number) else {
                    throw SettingsError(key: key, message: "'\(kind).\(tier)' must be from 0 to 100, found \(percent)")
                }
                percents[tier] = number
            }
            guard percents["default"] != nil else {
                throw SettingsError(key: key, message: "'\(kind)' needs a 'default' threshold for units with no listed tier")
            }
            byKind[kind] = percents
        }
        self.byKind = byKind
    }

    func knows(kind: String) -> Bool { byKind[kind] != nil }

    /// The strictest threshold among the tiers a unit holds or aims at.
    func threshold(kind: String, tiers: Set<String>) -> Choice? {
        guard let percents = byKind[kind], let fallback = percents["default"] else { return nil }
        let listed = tiers.compactMap { tier in percents[tier].map { Choice(percent: $0, tier: tier) } }
        return listed.max { ($0.percent, $1.tier) < ($1.percent, $0.tier) } ?? Choice(percent: fallback, tier: "default")
    }
}
