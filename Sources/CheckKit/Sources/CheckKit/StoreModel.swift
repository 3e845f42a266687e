import Foundation

// The programme's facts as the store hands them to modules. Money is whole VND (`Int64`); dates
// are Vietnamese civil dates. A date the store holds but cannot read as a real date comes back as
// nil with its text in a `raw…` field, so a module can report it as bad data instead of failing.

/// A province, district, commune, village or any other level: levels are data.
public struct AdministrativeUnit: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    /// `province`, `district`, `commune`, `village`, ...
    public var level: String
    /// The parent in force at the instant the store was read as of; ``parents`` has the history.
    public var parentID: String?
    /// `plains`, `midland` or `mountain` where known.
    public var region: String?
    public var validFrom: CivilDate?
    public var validTo: CivilDate?
    /// The first unit this one passed to (see ``successions``), once it has. Setting it records
    /// a merger into that unit the day after ``validTo``.
    public var successorID: String? {
        get { successions.first?.successorID }
        set {
            successions = newValue.map { [Succession(predecessorID: id, successorID: $0, effectiveOn: nil, kind: .merge)] } ?? []
        }
    }
    /// Every parent the unit has had or will have, in date order. A unit whose parent never
    /// changed has one link with no dates.
    public var parents: [ParentLink]
    /// Where the unit went (merged into, split into, renamed to), as known at the instant.
    public var successions: [Succession]

    public init(id: String, name: String, level: String, parentID: String? = nil, region: String? = nil,
                validFrom: CivilDate? = nil, validTo: CivilDate? = nil, successorID: String? = nil,
                parents: [ParentLink]? = nil, successions: [Succession]? = nil) {
        self.id = id; self.name = name; self.level = level; self.parentID = parentID; self.region = region
        self.validFrom = validFrom; self.validTo = validTo
        self.parents = parents ?? parentID.map { [ParentLink(parentID: $0)] } ?? []
        self.successions = successions ?? successorID.map { successor in
            [Succession(predecessorID: id, successorID: successor, effectiveOn: nil, kind: .merge)]
        } ?? []
    }

    /// Whether the unit exists on `day`: not created later, not merged away earlier.
    public func isValid(on day: CivilDate) -> Bool {
        (validFrom.map { $0 <= day } ?? true) && (validTo.map { day <= $0 } ?? true)
    }

    /// The parent in force on `day`: the link whose period holds the day.
    public func parentID(on day: CivilDate) -> String? {
        parents.last { link in (link.validFrom.map { $0 <= day } ?? true) && (link.validTo.map { day <= $0 } ?? true) }?.parentID
    }
}

/// One period of a unit's parent ("from 1/7/2025 the commune is under the province").
public struct ParentLink: Sendable, Hashable, Codable {
    public var parentID: String
    /// Nil: since the unit exists.
    public var validFrom: CivilDate?
    /// Nil: still in force.
    public var validTo: CivilDate?

    public init(parentID: String, validFrom: CivilDate? = nil, validTo: CivilDate? = nil) {
        self.parentID = parentID; self.validFrom = validFrom; self.validTo = validTo
    }
}

/// A unit passing to another: merged into it, split into several, or renamed. Chains are allowed
/// (a commune merged in 2020 whose successor merged again in 2025).
public struct Succession: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case merge, split, rename
    }

    public var predecessorID: String
    public var successorID: String
    /// The first day the successor carries the predecessor's territory; nil when the store does
    /// not say (the predecessor's ``AdministrativeUnit/validTo`` then decides).
    public var effectiveOn: CivilDate?
    public var kind: Kind
    /// For a split, the share of the predecessor (0-1) this successor took, when known.
    public var share: Double?

    public init(predecessorID: String, successorID: String, effectiveOn: CivilDate?, kind: Kind, share: Double? = nil) {
        self.predecessorID = predecessorID; self.successorID = successorID; self.effectiveOn = effectiveOn
        self.kind = kind; self.share = share
    }
}

/// A versioned criteria set (e.g. commune NTM 2021-2025) and its criteria and sub-indicators.
public struct CriteriaSet: Sendable, Hashable, Codable {
    public var id: String
    public var name: LocalizedText
    /// The level of unit it applies to (`commune`, `district`, `village`).
    public var unitLevel: String
    /// The tier it recognizes (`ntm`, `nang_cao`, `kieu_mau`).
    public var tier: String
    public var validFrom: CivilDate
    public var validTo: CivilDate?
    public var criteria: [Criterion]

    public init(id: String, name: LocalizedText, unitLevel: String, tier: String, validFrom: CivilDate,
                validTo: CivilDate? = nil, criteria: [Criterion]) {
        self.id = id; self.name = name; self.unitLevel = unitLevel; self.tier = tier
        self.validFrom = validFrom; self.validTo = validTo; self.criteria = criteria
    }
}

public struct Criterion: Sendable, Hashable, Codable {
    public enum Measure: Sendable, Hashable, Codable {
        case boolean
        /// Met when the value is at least (or at most) the threshold; per-region thresholds
        /// override the general one.
        case threshold(Double, unit: String, direction: Direction, byRegion: [String: Double])
    }

    public enum Direction: String, Sendable, Hashable, Codable {
        case atLeast = "at_least", atMost = "at_most"
    }

    /// `17`, or `17.11` for a sub-indicator.
    public var code: String
    /// The criterion a sub-indicator belongs to.
    public var parentCode: String?
    public var name: LocalizedText
    public var measure: Measure

    public init(code: String, parentCode: String? = nil, name: LocalizedText, measure: Measure) {
        self.code = code; self.parentCode = parentCode; self.name = name; self.measure = measure
    }
}

/// One criterion or sub-indicator of one unit, assessed on one date under one set.
public struct Assessment: Sendable, Hashable, Codable {
    public var unitID: String
    public var setID: String
    public var criterionCode: String
    public var assessedOn: CivilDate
    public var met: Bool
    public var value: Double?
    public var source: String?

    public init(unitID: String, setID: String, criterionCode: String, assessedOn: CivilDate, met: Bool,
                value: Double? = nil, source: String? = nil) {
        self.unitID = unitID; self.setID = setID; self.criterionCode = criterionCode
        self.assessedOn = assessedOn; self.met = met; self.value = value; self.source = source
    }
}

public struct Recognition: Sendable, Hashable, Codable {
    public var unitID: String
    public var tier: String
    public var recognizedOn: CivilDate
    public var decision: String?
    public var setID: String?
    /// Nil while the recognition stands (or when its revocation is after the evaluation instant).
    public var revokedOn: CivilDate?
    public var revocationDecision: String?

    public init(unitID: String, tier: String, recognizedOn: CivilDate, decision: String? = nil,
                setID: String? = nil, revokedOn: CivilDate? = nil, revocationDecision: String? = nil) {
        self.unitID = unitID; self.tier = tier; self.recognizedOn = recognizedOn; self.decision = decision
        self.setID = setID; self.revokedOn = revokedOn; self.revocationDecision = revocationDecision
    }
}

/// A unit's `lộ trình`: the tier it aims at and the year.
public struct RoadmapEntry: Sendable, Hashable, Codable {
    public var unitID: String
    public var tier: String
    public var targetYear: Int
    public var note: String?

    public init(unitID: String, tier: String, targetYear: Int, note: String? = nil) {
        self.unitID = unitID; self.tier = tier; self.targetYear = targetYear; self.note = note
    }
}

/// A recognition dossier handed up one stage.
public struct DossierSubmission: Sendable, Hashable, Codable {
    public enum Stage: String, Sendable, Hashable, Codable, CaseIterable {
        case communeToDistrict = "commune_to_district"
        case districtToProvince = "district_to_province"
    }

    public var unitID: String
    public var tier: String
    public var year: Int
    public var stage: Stage
    public var submittedOn: CivilDate

    public init(unitID: String, tier: String, year: Int, stage: Stage, submittedOn: CivilDate) {
        self.unitID = unitID; self.tier = tier; self.year = year; self.stage = stage; self.submittedOn = submittedOn
    }
}

/// A dated duty.
public struct Obligation: Sendable, Hashable, Codable {
    public enum Schedule: Sendable, Hashable, Codable {
        case once(due: CivilDate)
        case monthly(day: Int)
        /// One date in each quarter, in order ("định kỳ hằng quý, trước ngày 15 của tháng cuối
        /// quý": 03-15, 06-15, 09-15, 12-15). A day past its month's end falls on the last day.
        case quarterly(dates: [MonthDay])
        case yearly(month: Int, day: Int)

        /// A day of the year, without the year (`03-31`).
        public struct MonthDay: Sendable, Hashable, Codable {
            public var month: Int
            public var day: Int

            /// Nil unless the day exists in some year (02-29 does).
            public init?(month: Int, day: Int) {
                guard CivilDate(year: 2024, month: month, day: day) != nil else { return nil }
                self.month = month; self.day = day
            }

            /// The date in `year`; 02-29 falls on 28 February in a common year.
            public func date(in year: Int) -> CivilDate {
                CivilDate(year: year, month: month, day: min(day, CivilDate.daysInMonth(year: year, month: month)))!
            }
        }
    }

    /// "trước ngày D" (before D: the last day to act is D-1) or "đến ngày D" (by D: D itself).
    public enum DueSemantics: String, Sendable, Hashable, Codable {
        case before, by
    }

    public struct Completion: Sendable, Hashable, Codable {
        /// The nominal due date of the occurrence completed (the obligation's date for a one-off).
        public var occurrence: CivilDate
        public var completedAt: Date
        /// For a template (``Obligation/appliesTo``), the unit that completed; nil otherwise.
        public var unitID: String?

        public init(occurrence: CivilDate, completedAt: Date, unitID: String? = nil) {
            self.occurrence = occurrence; self.completedAt = completedAt; self.unitID = unitID
        }
    }

    public var id: String
    public var title: LocalizedText
    public var legalBasis: String?
    public var responsibleUnitID: String?
    /// Who is responsible when it is not one unit ("each district", "Sở Tài chính").
    public var responsibleBody: String?
    public var submitsTo: String?
    /// Nil when the store's date cannot be read; see ``rawSchedule``.
    public var schedule: Schedule?
    public var rawSchedule: String
    public var semantics: DueSemantics
    /// Recurring obligations have occurrences from this date on.
    public var startsOn: CivilDate?
    public var endsOn: CivilDate?
    /// The obligation whose completion this one waits on (commune stage before district stage).
    public var dependsOn: String?
    /// Days before the due date to remind; nil uses the module's defaults.
    public var reminderDays: [Int]?
    /// `open` or `cancelled`; completion is per occurrence, in ``completions``.
    public var status: String
    public var completions: [Completion]
    /// A template's selector (``UnitSelector``): the duty binds every unit it matches at the
    /// instant, each completing on its own. Nil for a duty of one responsible unit or body.
    public var appliesTo: String?
    /// Where in the document (``legalBasis``) the duty stands (`II.1.a`), and the words it rests
    /// on, as `ntmwatch extract` proposed them and a reviewer kept them.
    public var section: String?
    public var quote: String?

    public init(id: String, title: LocalizedText, legalBasis: String? = nil, responsibleUnitID: String? = nil,
                responsibleBody: String? = nil, submitsTo: String? = nil, schedule: Schedule?, rawSchedule: String,
                semantics: DueSemantics, startsOn: CivilDate? = nil, endsOn: CivilDate? = nil,
                dependsOn: String? = nil, reminderDays: [Int]? = nil, status: String = "open",
                completions: [Completion] = [], appliesTo: String? = nil, section: String? = nil, quote: String? = nil) {
        self.appliesTo = appliesTo; self.section = section; self.quote = quote
        self.id = id; self.title = title; self.legalBasis = legalBasis; self.responsibleUnitID = responsibleUnitID
        self.responsibleBody = responsibleBody; self.submitsTo = submitsTo; self.schedule = schedule
        self.rawSchedule = rawSchedule; self.semantics = semantics; self.startsOn = startsOn; self.endsOn = endsOn
        self.dependsOn = dependsOn; self.reminderDays = reminderDays; self.status = status
        self.completions = completions
    }
}

/// The budget levels that fund programme works.
public enum BudgetLevel: String, Sendable, Hashable, Codable, CaseIterable {
    case central, provincial, district, commune, residents
}

/// A construction project with its funding, disbursement and debt history.
public struct Project: Sendable, Hashable, Codable {
    public struct Disbursement: Sendable, Hashable, Codable {
        public var budgetLevel: BudgetLevel
        public var on: CivilDate
        /// Cumulative amount disbursed from this budget level up to ``on``.
        public var cumulativeVND: Int64

        public init(budgetLevel: BudgetLevel, on: CivilDate, cumulativeVND: Int64) {
            self.budgetLevel = budgetLevel; self.on = on; self.cumulativeVND = cumulativeVND
        }
    }

    public struct Debt: Sendable, Hashable, Codable {
        public var budgetLevel: BudgetLevel
        /// `2016-2020` or `2021-2025`.
        public var period: String
        public var asOf: CivilDate
        public var outstandingVND: Int64

        public init(budgetLevel: BudgetLevel, period: String, asOf: CivilDate, outstandingVND: Int64) {
            self.budgetLevel = budgetLevel; self.period = period; self.asOf = asOf; self.outstandingVND = outstandingVND
        }
    }

    public struct RepaymentPlan: Sendable, Hashable, Codable {
        public var amountVND: Int64
        public var plannedBy: CivilDate?
        public var approvedOn: CivilDate?

        public init(amountVND: Int64, plannedBy: CivilDate? = nil, approvedOn: CivilDate? = nil) {
            self.amountVND = amountVND; self.plannedBy = plannedBy; self.approvedOn = approvedOn
        }
    }

    public var id: String
    public var name: String
    public var communeID: String
    public var investor: String?
    public var allocatedOn: CivilDate?
    public var totalVND: Int64
    public var shares: [BudgetLevel: Int64]
    public var handoverOn: CivilDate?
    public var settlementApprovedOn: CivilDate?
    public var disbursements: [Disbursement]
    /// Debt snapshots, oldest first; the latest per budget level and period is the current debt.
    public var debts: [Debt]
    public var repaymentPlan: RepaymentPlan?

    public init(id: String, name: String, communeID: String, investor: String? = nil, allocatedOn: CivilDate? = nil,
                totalVND: Int64, shares: [BudgetLevel: Int64], handoverOn: CivilDate? = nil,
                settlementApprovedOn: CivilDate? = nil, disbursements: [Disbursement] = [], debts: [Debt] = [],
                repaymentPlan: RepaymentPlan? = nil) {
        self.id = id; self.name = name; self.communeID = communeID; self.investor = investor
        self.allocatedOn = allocatedOn; self.totalVND = totalVND; self.shares = shares; self.handoverOn = handoverOn
        self.settlementApprovedOn = settlementApprovedOn; self.disbursements = disbursements; self.debts = debts
        self.repaymentPlan = repaymentPlan
    }
}

/// Capital assigned to a unit or project for one year from one source, and its disbursement.
public struct CapitalPlan: Sendable, Hashable, Codable {
    public struct Disbursed: Sendable, Hashable, Codable {
        public var on: CivilDate
        public var cumulativeVND: Int64

        public init(on: CivilDate, cumulativeVND: Int64) {
            self.on = on; self.cumulativeVND = cumulativeVND
        }
    }

    public var id: String
    public var unitID: String
    public var projectID: String?
    public var year: Int
    public var source: BudgetLevel
    public var assignedVND: Int64
    /// The year this capital was carried over from, when it was.
    public var carriedOverFrom: Int?
    /// The date by which carried-over capital must be fully paid.
    public var dueOn: CivilDate?
    public var disbursed: [Disbursed]

    public init(id: String, unitID: String, projectID: String? = nil, year: Int, source: BudgetLevel,
                assignedVND: Int64, carriedOverFrom: Int? = nil, dueOn: CivilDate? = nil, disbursed: [Disbursed] = []) {
        self.id = id; self.unitID = unitID; self.projectID = projectID; self.year = year; self.source = source
        self.assignedVND = assignedVND; self.carriedOverFrom = carriedOverFrom; self.dueOn = dueOn
        self.disbursed = disbursed
    }
}

/// A unit's report of capital it cannot use this year.
public struct ReallocationReport: Sendable, Hashable, Codable {
    public var unitID: String
    public var year: Int
    public var filedOn: CivilDate

    public init(unitID: String, year: Int, filedOn: CivilDate) {
        self.unitID = unitID; self.year = year; self.filedOn = filedOn
    }
}

public struct SatisfactionSurvey: Sendable, Hashable, Codable {
    public var id: String
    public var unitID: String
    public var surveyedOn: CivilDate
    /// `ntm_results` or `admin_procedures`.
    public var kind: String
    public var respondents: Int
    public var satisfied: Int

    public init(id: String, unitID: String, surveyedOn: CivilDate, kind: String, respondents: Int, satisfied: Int) {
        self.id = id; self.unitID = unitID; self.surveyedOn = surveyedOn; self.kind = kind
        self.respondents = respondents; self.satisfied = satisfied
    }
}

public struct ProvinceTarget: Sendable, Hashable, Codable {
    public var id: String
    /// What is measured, as a key the `targets` module computes (`share_recognized_ntm`, ...).
    public var indicator: String
    public var title: LocalizedText
    public var target: Double
    public var unit: String
    public var by: CivilDate
    public var baseline: Double?
    public var baselineOn: CivilDate?
    public var source: String?
    /// The unit whose territory the target counts (a province); nil: the whole store. After a
    /// merger the target follows the unit's successor.
    public var unitID: String?

    public init(id: String, indicator: String, title: LocalizedText, target: Double, unit: String, by: CivilDate,
                baseline: Double? = nil, baselineOn: CivilDate? = nil, source: String? = nil, unitID: String? = nil) {
        self.id = id; self.indicator = indicator; self.title = title; self.target = target; self.unit = unit
        self.by = by; self.baseline = baseline; self.baselineOn = baselineOn; self.source = source
        self.unitID = unitID
    }
}
