import CheckKit
import Foundation

/// One thing someone must do by a date: an occurrence of a stored obligation, or a dossier stage
/// derived from the roadmap. The rules look at duties only, so both kinds behave the same.
struct Duty: Sendable {
    /// Links stages: a duty waits on the duty with this key (same obligation id, or dossier stage).
    let key: String
    let subject: Subject
    let occurrence: Occurrence
    let completion: Obligation.Completion?
    let reminderDays: [Int]?
    let responsible: String
    let submitsTo: String?
    let legalBasis: String?
    /// The section of ``legalBasis`` and the words the duty rests on, when its obligation keeps them.
    var section: String? = nil
    var quote: String? = nil
    /// The key of the duty that must be done first.
    let dependsOn: String?

    var isOpen: Bool { completion == nil }
}

extension Duty {
    /// Occurrences of a stored obligation in `window`, with their completions. `unit` is the unit
    /// that must act: the responsible unit, its heir, or one unit a template binds (which then
    /// completes on its own); nil for an obligation of a body that is not a unit.
    static func from(_ obligation: Obligation, schedule: Obligation.Schedule, window: ClosedRange<CivilDate>,
                     unit: AdministrativeUnit?) -> [Duty] {
        let occurrences = OccurrenceCalendar.occurrences(
            of: schedule, semantics: obligation.semantics, startsOn: obligation.startsOn, endsOn: obligation.endsOn, in: window)
        let recurring: Bool
        if case .once = schedule { recurring = false } else { recurring = true }
        let template = obligation.appliesTo != nil
        let completions = template ? obligation.completions.filter { $0.unitID == unit?.id } : obligation.completions
        let responsible = template || obligation.responsibleUnitID != nil ? unit?.nameWithKind ?? "—" : obligation.responsibleBody ?? "—"
        let baseID = template ? "\(obligation.id)/\(unit?.id ?? "")" : obligation.id
        let baseName = template ? "\(obligation.title.vi) — \(unit?.name ?? "")" : obligation.title.vi
        return occurrences.map { occurrence in
            // A one-off has one occurrence, so any completion of it counts, whatever date it names.
            let completion = recurring
                ? completions.filter { $0.occurrence == occurrence.nominal }.min { $0.completedAt < $1.completedAt }
                : completions.min { $0.completedAt < $1.completedAt }
            let id = recurring ? "\(baseID)@\(occurrence.nominal)" : baseID
            let name = recurring ? "\(baseName) (kỳ \(occurrence.nominal.vietnamese))" : baseName
            return Duty(key: template ? baseID : obligation.id,
                        subject: Subject(kind: "obligation", id: id, name: name, unitID: unit?.id),
                        occurrence: occurrence, completion: completion, reminderDays: obligation.reminderDays,
                        responsible: responsible, submitsTo: obligation.submitsTo, legalBasis: obligation.legalBasis,
                        section: obligation.section, quote: obligation.quote,
                        dependsOn: obligation.dependsOn.map { template ? "\($0)/\(unit?.id ?? "")" : $0 })
        }
    }

    static let tierNames = ["ntm": "NTM", "nang_cao": "NTM nâng cao", "kieu_mau": "NTM kiểu mẫu"]

    /// The dossier stages of a roadmap entry, done when the store records the submission. Each
    /// stage goes to the unit's parent in force on its due date: a commune under a district has
    /// "xã trình huyện" then "huyện trình tỉnh"; a commune directly under the province (districts
    /// were abolished on 1/7/2025) has one stage, "xã trình tỉnh", due on the province's date.
    static func dossierStages(for entry: RoadmapEntry, unit: AdministrativeUnit, map: UnitMap,
                              calendar: DossierCalendar, submissions: [DossierSubmission]) -> [Duty] {
        let stages = calendar.stages(year: entry.targetYear, tier: entry.tier)
        guard let firstDate = stages[.communeToDistrict] ?? stages[.districtToProvince] else { return [] }
        let tierName = tierNames[entry.tier] ?? entry.tier
        func key(_ stage: DossierSubmission.Stage) -> String { "dossier/\(unit.id)/\(entry.tier)/\(entry.targetYear)/\(stage.rawValue)" }
        func submitted(_ stages: Set<DossierSubmission.Stage>) -> CivilDate? {
            submissions.filter {
                $0.unitID == unit.id && $0.tier == entry.tier && $0.year == entry.targetYear && stages.contains($0.stage)
            }.map(\.submittedOn).min()
        }
        func duty(_ stage: DossierSubmission.Stage, due: CivilDate, responsible: AdministrativeUnit?, receiver: AdministrativeUnit?,
                  step: String, done: CivilDate?, dependsOn: String?) -> Duty {
            let name = "Hồ sơ \(tierName) năm \(entry.targetYear) của \(unit.name): \(step)"
            return Duty(
                key: key(stage), subject: Subject(kind: "dossier_stage", id: key(stage), name: name, unitID: responsible?.id),
                occurrence: Occurrence(nominal: due, semantics: .before),
                completion: done.map { Obligation.Completion(occurrence: due, completedAt: $0.startInstant()) },
                reminderDays: nil, responsible: responsible?.nameWithKind ?? unit.nameWithKind, submitsTo: receiver?.nameWithKind,
                legalBasis: entry.note, dependsOn: dependsOn)
        }

        let parent = map.parent(of: unit.id, on: firstDate)
        if let parent, map.parent(of: parent.id, on: firstDate) == nil {
            // No level between the unit and the top: one submission, straight to it.
            let due = stages[.districtToProvince] ?? firstDate
            return [duty(.communeToDistrict, due: due, responsible: unit, receiver: parent,
                         step: "trình \(parent.level == "province" ? "tỉnh" : parent.name)",
                         done: submitted(Set(DossierSubmission.Stage.allCases)), dependsOn: nil)]
        }
        var duties: [Duty] = []
        if let due = stages[.communeToDistrict] {
            duties.append(duty(.communeToDistrict, due: due, responsible: unit, receiver: parent, step: "xã trình huyện",
                               done: submitted([.communeToDistrict]), dependsOn: nil))
        }
        if let due = stages[.districtToProvince] {
            let district = map.parent(of: unit.id, on: due)
            // A district abolished before its stage leaves nobody to chase at that level.
            if district == nil || district.map({ map.isAbolished($0.id, on: due) }) == false {
                let upper = district.flatMap { map.parent(of: $0.id, on: due) }
                duties.append(duty(.districtToProvince, due: due, responsible: district ?? unit, receiver: upper ?? district,
                                   step: "huyện trình tỉnh", done: submitted([.districtToProvince]),
                                   dependsOn: stages[.communeToDistrict] != nil ? key(.communeToDistrict) : nil))
            }
        }
        return duties
    }
}
