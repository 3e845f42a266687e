import CheckKit
import Foundation
import NTMAlerting
import NTMDelivery
import NTMModuleHost
import Logging
import NTMStore
import Synchronization

/// The result of one run of one check.
public enum CheckOutcome: Sendable {
    case findings([Finding])
    case failed(String)
    case timedOut
    /// The run was cancelled from outside (the daemon is stopping): nothing is known.
    case cancelled

    var isCancelled: Bool { if case .cancelled = self { true } else { false } }
}

/// Runs one check against the store as of one instant, within its timeout.
///
/// The evaluation runs in its own task. At the timeout that task is cancelled and the run is
/// reported at once, whether or not the module notices the cancellation; `isStillRunning`
/// tells the scheduler not to start the same check again until a stuck run has really ended.
public final class CheckRunner: Sendable {
    private let busy = Mutex(false)

    public init() {}

    public var isStillRunning: Bool { busy.withLock { $0 } }

    /// `model`: what the other checks of the cycle have read, and where this one's reads go for them.
    public func run(_ check: ConfiguredCheck, store: Store, at instant: Date, sharing model: ReadModel? = nil,
                    logger: Logger) async -> CheckOutcome {
        busy.withLock { $0 = true }
        let moduleLogger = CheckLogger { level, message, metadata in
            var meta: Logger.Metadata = ["check": "\(check.name)"]
            for (key, value) in metadata { meta[key] = "\(value)" }
            logger.log(level: level.swiftLogLevel, "\(message)", metadata: meta)
        }
        let settle = Settle<CheckOutcome>()
        let evaluation = Task { [self] in
            defer { self.busy.withLock { $0 = false } }
            do {
                let findings = try await store.withReader(asOf: instant, sharing: model) { reader in
                    try await check.module.module.evaluate(EvaluationContext(
                        instant: instant, settings: check.settings, store: reader, logger: moduleLogger))
                }
                let declared = Set(check.module.descriptor.rules.map(\.id))
                if let undeclared = findings.first(where: { !declared.contains($0.ruleID) }) {
                    // Alerts, routes and the journald catalog key on declared rules; a finding of
                    // any other rule is the module's bug, reported rather than passed on.
                    settle.resolve(.failed("the module reported a finding of rule '\(undeclared.ruleID)', which it does not declare"))
                } else {
                    settle.resolve(.findings(findings))
                }
            } catch is CancellationError {
                settle.resolve(.timedOut)
            } catch let timeout as ModuleTimedOut {
                // The module's own limit (an executable's, a query's) came first: a timeout all the same.
                logger.error("check timed out: \(timeout)", metadata: ["check": "\(check.name)"])
                settle.resolve(.timedOut)
            } catch {
                settle.resolve(.failed("\(error)"))
            }
        }
        let timer = Task {
            try await Task.sleep(for: check.timeout)
            evaluation.cancel()
            settle.resolve(.timedOut)
        }
        // A cancelled caller (SIGTERM) must not wait out the check's timeout: cancel the
        // evaluation and answer at once.
        let outcome = await withTaskCancellationHandler {
            await settle.value
        } onCancel: {
            evaluation.cancel()
            settle.resolve(.cancelled)
        }
        timer.cancel()
        return outcome
    }
}

/// A value that is set once, by whichever of several tasks gets there first.
final class Settle<Value: Sendable>: Sendable {
    private let state = Mutex<(value: Value?, waiter: CheckedContinuation<Value, Never>?)>((nil, nil))

    func resolve(_ value: Value) {
        let waiter: CheckedContinuation<Value, Never>? = state.withLock { state in
            guard state.value == nil else { return nil }
            state.value = value
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: value)
    }

    var value: Value {
        get async {
            await withCheckedContinuation { continuation in
                let ready: Value? = state.withLock { state in
                    if let value = state.value { return value }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }
}

extension CheckLogger.Level {
    var swiftLogLevel: Logger.Level {
        switch self {
        case .debug: .debug
        case .info: .info
        case .notice: .notice
        case .warning: .warning
        case .error: .error
        }
    }
}
