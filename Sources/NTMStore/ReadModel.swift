@_spi(Daemon) import CheckKit
import Foundation
import Synchronization

/// What the readers of one cycle read, read once. Each table's values (as of one day, or one
/// instant for obligations, whose completions are timed) are loaded by the first reader that
/// asks, through its own snapshot, and handed to every other reader of the model: six modules
/// and the labeller read units 7 times a cycle, recognitions and the roadmap 6 (issue 21).
///
/// How long values are shared:
/// - ``perCycle()``: for the model's life. The engine makes one per `--once` cycle and per
///   `ntmwatch evaluate`, whose checks all read as of one instant at one time.
/// - ``watching(_:)``: in the daemon, where checks run on their own schedules, while at least one
///   reader is open and the store's ``DataVersion`` has not moved since the values were loaded
///   (on PostgreSQL each reader reads it on its own connection, before its snapshot). When the
///   last open reader ends, the values are dropped, so the daemon keeps no copy of a national
///   store between runs.
public final class ReadModel: Sendable {
    private struct State {
        var readers = 0
        var version: Int64?
        var entries: [String: Task<any Sendable, any Error>] = [:]
    }

    private let state = Mutex(State())
    /// What is watched; nil for a model per cycle.
    private let version: DataVersion?

    private init(watching version: DataVersion?) { self.version = version }

    public static func perCycle() -> ReadModel { ReadModel(watching: nil) }

    public static func watching(_ store: Store) -> ReadModel { ReadModel(watching: DataVersion(store)) }

    /// A reader starts: values loaded before a change of the data are dropped. `version` is the
    /// data version the reader read before its snapshot (PostgreSQL); without it, the SQLite
    /// file's own is read. False when there is none: that reader reads the store itself.
    func begin(version given: Int64? = nil) -> Bool {
        state.withLock { state in
            guard let watched = self.version else { state.readers += 1; return true }
            guard let version = given ?? watched.currentSQLite() else { return false }
            if version != state.version {
                state.entries = [:]
                state.version = version
            }
            state.readers += 1
            return true
        }
    }

    func end() {
        state.withLock { state in
            state.readers -= 1
            if version != nil, state.readers == 0 { state.entries = [:] }
        }
    }

    /// Drops every value loaded. A cycle's model is done with once its checks have run and the
    /// labeller has the units: a national store's tables (600 MB at the large size) are not
    /// what the cycle's record and delivery need.
    public func clear() {
        state.withLock { $0.entries = [:] }
    }

    /// The value under `key`, loaded by `load` if no reader has loaded it or is loading it. A
    /// reader waiting for another's load that fails (that reader's check timed out) loads it itself.
    func value<T: Sendable>(_ key: String, _ load: @escaping @Sendable () async throws -> T) async throws -> T {
        let (task, mine) = state.withLock { state -> (Task<any Sendable, any Error>, Bool) in
            if let task = state.entries[key] { return (task, false) }
            let task = Task<any Sendable, any Error> { try await load() }
            state.entries[key] = task
            return (task, true)
        }
        guard mine else {
            do { return try await task.value as! T } catch { return try await load() }
        }
        do {
            return try await withTaskCancellationHandler { try await task.value as! T } onCancel: { task.cancel() }
        } catch {
            state.withLock { state in if state.entries[key] == task { state.entries[key] = nil } }
            throw error
        }
    }
}

/// A reader that takes each table from its ``ReadModel`` and reads the store only for what no
/// other reader has loaded. Operators' SQL queries are not shared: they are the module's own.
struct SharedReader: SharingUnitsByID {
    let base: SQLStoreReader
    let model: ReadModel

    var asOf: Date { base.asOf }

    private func shared<T: Sendable>(_ table: String, _ load: @escaping @Sendable (SQLStoreReader) async throws -> T) async throws -> T {
        let base = self.base
        return try await model.value("\(table)@\(base.day)") { try await load(base) }
    }

    func units() async throws -> [AdministrativeUnit] { try await shared("units") { try await $0.units() } }
    func sharedUnitsByID() async throws -> [String: AdministrativeUnit] {
        let reader = self
        return try await model.value("units_by_id@\(base.day)") { UnitMap(try await reader.units()).units }
    }
    func criteriaSets() async throws -> [CriteriaSet] { try await shared("criteria_sets") { try await $0.criteriaSets() } }
    func assessments() async throws -> [Assessment] { try await shared("assessments") { try await $0.assessments() } }
    func recognitions() async throws -> [Recognition] { try await shared("recognitions") { try await $0.recognitions() } }
    func roadmap() async throws -> [RoadmapEntry] { try await shared("roadmap") { try await $0.roadmap() } }
    func dossierSubmissions() async throws -> [DossierSubmission] { try await shared("dossier_submissions") { try await $0.dossierSubmissions() } }
    func obligations() async throws -> [Obligation] {
        // Completions are visible from their instant on, not their day.
        let base = self.base
        return try await model.value("obligations@\(base.instant)") { try await base.obligations() }
    }
    func projects() async throws -> [Project] { try await shared("projects") { try await $0.projects() } }
    func capitalPlans() async throws -> [CapitalPlan] { try await shared("capital_plans") { try await $0.capitalPlans() } }
    func reallocationReports() async throws -> [ReallocationReport] { try await shared("reallocation_reports") { try await $0.reallocationReports() } }
    func surveys() async throws -> [SatisfactionSurvey] { try await shared("surveys") { try await $0.surveys() } }
    func provinceTargets() async throws -> [ProvinceTarget] { try await shared("province_targets") { try await $0.provinceTargets() } }

    func query(_ sql: String, parameters: [Value]) async throws -> [StoreRow] {
        try await base.query(sql, parameters: parameters)
    }
}
