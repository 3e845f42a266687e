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
    /// The key of the duty that must be done first.
    let dependsOn: String?

    var isOpen: Bool { completion == nil }
}

extension Duty {
    /// Occurrences of a stored obligation in `window`, with their completions.
    static func from(_ obligation: Obligation, schedule: Obligation.Schedule, window: ClosedRange<CivilDate>,
                     responsible: String) -> [Duty] {
        let occurrences = OccurrenceCalendar.occurrences(
            of: schedule, semantics: obligation.semantics, startsOn: obligation.startsOn, endsOn: obligation.endsOn, in: window)
        let recurring: Bool
        if case .once = schedule { recurring = false } else { recurring = true }
        return occurrences.map { occurrence in
            // A one-off has one occurrence, so any completion of it counts, whatever date it names.
            let completion = recurring
                ? obligation.completions.filter { $0.occurrence == occurrence.nominal }.min { $0.completedAt < $1.completedAt }
                : obligation.completions.min { $0.completedAt < $1.completedAt }
            let id = recurring ? "\(obligation.id)@\(occurrence.nominal)" : obligation.id
            let name = recurring ? "\(obligation.title.vi) (kỳ \(occurrence.nominal.vietnamese))" : obligation.title.vi
            return Duty(key: obligation.id, subject: Subject(kind: "obligation", id: id, name: name, unitID: obligation.responsibleUnitID),
                        occurrence: occurrence, completion: completion, reminderDays: obligation.reminderDays,
                        responsible: responsible, submitsTo: obligation.submitsTo, legalBasis: obligation.legalBasis,
                        dependsOn: obligation.dependsOn)
        }
    }

    static let tierNames = ["ntm": "NTM", "nang_cao": "NTM nâng cao", "kieu_mau": "NTM kiểu mẫu"]

    /// The two dossier stages of a roadmap entry, done when the store records the submission.
    static func dossierStages(for entry: RoadmapEntry, unit: AdministrativeUnit, units: [String: AdministrativeUnit],
                              calendar: DossierCalendar, submissions: [DossierSubmission]) -> [Duty] {
        let stages = calendar.stages(year: entry.targetYear, tier: entry.tier)
        let parent = unit.parentID.flatMap { units[$0] }
        let upper = parent?.parentID.flatMap { units[$0] }
        let tierName = tierNames[entry.tier] ?? entry.tier
        func key(_ stage: DossierSubmission.Stage) -> String { "dossier/\(unit.id)/\(entry.tier)/\(entry.targetYear)/\(stage.rawValue)" }
        var duties: [Duty] = []
        for stage in DossierSubmission.Stage.allCases {
            guard let due = stages[stage] else { continue }
            let submitted = submissions.filter {
                $0.unitID == unit.id && $0.tier == entry.tier && $0.year == entry.targetYear && $0.stage == stage
            }.map(\.submittedOn).min()
            let (responsibleUnit, receiver, step): (AdministrativeUnit?, AdministrativeUnit?, String) = switch stage {
            case .communeToDistrict: (unit, parent, "xã trình huyện")
            case .districtToProvince: (parent ?? unit, upper ?? parent, "huyện trình tỉnh")
            }
            let name = "Hồ sơ \(tierName) năm \(entry.targetYear) của \(unit.name): \(step)"
            duties.append(Duty(
                key: key(stage), subject: Subject(kind: "dossier_stage", id: key(stage), name: name, unitID: responsibleUnit?.id),
                occurrence: Occurrence(nominal: due, semantics: .before),
                completion: submitted.map { Obligation.Completion(occurrence: due, completedAt: $0.startInstant()) },
                reminderDays: nil, responsible: responsibleUnit?.nameWithKind ?? unit.nameWithKind, submitsTo: receiver?.nameWithKind,
                legalBasis: entry.note,
                dependsOn: stage == .districtToProvince && stages[.communeToDistrict] != nil ? key(.communeToDistrict) : nil))
        }
        return duties
    }
}
