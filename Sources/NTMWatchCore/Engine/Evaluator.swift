import CheckKit
import Foundation
import Logging
import NTMAlerting
import NTMStore

/// The evaluating part alone: the store, read-only, and the loaded checks. `ntmwatch evaluate`
/// uses only this, so it writes nothing: no alert state, no ledger, no store created or seeded,
/// and it runs beside the daemon or on a read-only state directory.
public struct Evaluator: Sendable {
    public let runtime: Runtime
    public let store: Store
    let logger: Logger

    public struct StoreMissing: Error, CustomStringConvertible {
        public let location: String
        public var description: String {
            "the store \(location) does not exist or has no schema yet; start ntmwatchd once (it creates and seeds it) or run `ntmwatch migrate`"
        }
    }

    /// `queryLog` records the queries the checks' readers issue (the scale bench's floor).
    public static func open(_ configuration: Configuration, logger: Logger, queryLog: QueryLog? = nil) async throws -> Evaluator {
        var store = Store(location: configuration.store.location, queryTimeout: configuration.store.queryTimeout, logger: logger)
        store.queryLog = queryLog
        if case .sqlite(let path) = store.location, !FileManager.default.fileExists(atPath: path) {
            throw StoreMissing(location: path)
        }
        if try await store.schemaVersion() == 0 { throw StoreMissing(location: "\(store.location)") }
        try await store.requireCurrentSchema()
        return Evaluator(runtime: Runtime.build(configuration), store: store, logger: logger)
    }

    init(runtime: Runtime, store: Store, logger: Logger) {
        self.runtime = runtime
        self.store = store
        self.logger = logger
    }

    public struct Result: Sendable {
        public let check: String
        public let outcome: CheckOutcome
        public let findings: [LabeledFinding]
    }

    /// Runs the checks (or the one named) as of `instant` and labels their findings.
    public func evaluate(at instant: Date, checkName: String? = nil) async throws -> [Result] {
        let model = ReadModel.perCycle()
        let labeler = try await Labeler(store: store, at: instant, instance: runtime.configuration.instance, sharing: model)
        var output: [Result] = []
        for check in runtime.checks where checkName == nil || check.name == checkName || check.module.descriptor.name == checkName {
            let outcome = await CheckRunner().run(check, store: store, at: instant, sharing: model, logger: logger)
            var labeled: [LabeledFinding] = []
            if case .findings(let findings) = outcome { labeled = await labeler.label(findings, of: check) }
            output.append(Result(check: check.name, outcome: outcome, findings: labeled))
        }
        return output
    }
}
