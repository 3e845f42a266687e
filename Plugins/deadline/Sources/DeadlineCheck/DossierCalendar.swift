import CheckKit

/// When each recognition-dossier stage is due, per roadmap year and optionally per tier
/// (setting `dossier_calendar`): `"2024": {commune_to_district: "2024-10-30", district_to_province:
/// "2024-11-30"}`, and `"2025/nang_cao": {...}` to give a tier its own dates. Dates are "before D".
struct DossierCalendar: SettingReadable {
    typealias Stage = DossierSubmission.Stage
    private let dates: [String: [Stage: CivilDate]]

    /// The seeds' calendar (002 §II.1-3): 2023 targets go to the province in Q1/2024; 2024 ones
    /// before 30/10 and 30/11; 2025 ones before 30/5 and 30/6.
    static let seedDefault: SettingValue = .table([
        "2023": .table(["district_to_province": .text("2024-04-01")]),
        "2024": .table(["commune_to_district": .text("2024-10-30"), "district_to_province": .text("2024-11-30")]),
        "2025": .table(["commune_to_district": .text("2025-05-30"), "district_to_province": .text("2025-06-30")]),
    ])

    init(setting value: SettingValue, key: String) throws(SettingsError) {
        guard case .table(let setting) = value else { throw SettingsError(key: key, message: "expected a table, found \(value)") }
        var dates: [String: [Stage: CivilDate]] = [:]
        for (entryKey, value) in setting {
            let parts = entryKey.split(separator: "/", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), let year = Int(parts[0]), (2000...2100).contains(year) else {
                throw SettingsError(key: "\(key).\(entryKey)", message: "expected a year such as \"2024\" or \"2024/nang_cao\"")
            }
            guard case .table(let stages) = value else {
                throw SettingsError(key: "\(key).\(entryKey)", message: "expected {commune_to_district: DATE, district_to_province: DATE}")
            }
            var entry: [Stage: CivilDate] = [:]
            for (stageName, dateValue) in stages {
                guard let stage = Stage(rawValue: stageName) else {
                    throw SettingsError(key: "\(key).\(entryKey).\(stageName)", message: "expected commune_to_district or district_to_province")
                }
                guard case .text(let text) = dateValue, let date = CivilDate(text) else {
                    throw SettingsError(key: "\(key).\(entryKey).\(stageName)", message: "expected a date that exists, as YYYY-MM-DD")
                }
                entry[stage] = date
            }
            dates[entryKey] = entry
        }
        self.dates = dates
    }

    /// The stage dates for a roadmap entry: the tier's own when configured, else the year's.
    func stages(year: Int, tier: String) -> [Stage: CivilDate] {
        dates["\(year)/\(tier)"] ?? dates["\(year)"] ?? [:]
    }
}
