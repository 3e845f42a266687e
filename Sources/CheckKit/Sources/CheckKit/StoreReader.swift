import Foundation

/// Read-only access to the programme store, as it was known at the evaluation instant.
///
/// Records dated after the instant are not returned (an assessment made later, a survey taken
/// later, a recognition decided later), and completions, submissions and settlements recorded
/// after it are not yet visible, so an evaluation `--at` a past date sees the past.
/// Implementations read SQLite or PostgreSQL; modules cannot tell which, and cannot write.
public protocol StoreReader: Sendable {
    /// The instant the store is read as of.
    var asOf: Date { get }

    func units() async throws -> [AdministrativeUnit]
    func criteriaSets() async throws -> [CriteriaSet]
    /// In the order of the table's key: unit, set, criterion code, date.
    func assessments() async throws -> [Assessment]
    func recognitions() async throws -> [Recognition]
    func roadmap() async throws -> [RoadmapEntry]
    func dossierSubmissions() async throws -> [DossierSubmission]
    func obligations() async throws -> [Obligation]
    func projects() async throws -> [Project]
    func capitalPlans() async throws -> [CapitalPlan]
    func reallocationReports() async throws -> [ReallocationReport]
    func surveys() async throws -> [SatisfactionSurvey]
    func provinceTargets() async throws -> [ProvinceTarget]

    /// Runs one read-only SQL query (a `SELECT` or `WITH`) with `?` placeholders bound to
    /// `parameters`. The store refuses writes itself (read-only connection or transaction) and
    /// applies a time limit. The SQL sees the whole store, not only what was known at ``asOf``.
    func query(_ sql: String, parameters: [Value]) async throws -> [StoreRow]
}

/// One row of ``StoreReader/query(_:parameters:)``: columns in the query's order.
public struct StoreRow: Sendable, Hashable {
    public let columns: [String]
    public let values: [Value?]

    public init(columns: [String], values: [Value?]) {
        self.columns = columns
        self.values = values
    }

    public subscript(column: String) -> Value? {
        guard let index = columns.firstIndex(of: column) else { return nil }
        return values[index]
    }
}

extension StoreReader {
    /// ``units()`` keyed by id, the way every rule looks units up.
    public func unitsByID() async throws -> [String: AdministrativeUnit] {
        // Where the daemon shares a cycle's reads, one table serves every check: six modules and
        // the labeller each keyed a national store's 110,000 units, 92 MB at the large size and
        // a twentieth of the cycle (issue 21).
        if let sharing = self as? any SharingUnitsByID { return try await sharing.sharedUnitsByID() }
        return UnitMap(try await units()).units
    }
}

/// A reader whose ``StoreReader/unitsByID()`` is built once and handed to every reader of the same
/// reads (the daemon's shared read model). The daemon's own: not part of the modules' SDK.
@_spi(Daemon) public protocol SharingUnitsByID: StoreReader {
    /// The same table as ``UnitMap``'s over ``StoreReader/units()`` (the first unit of each id).
    func sharedUnitsByID() async throws -> [String: AdministrativeUnit]
}
