import CheckKit
import Foundation
import NTMProcess
import NTMStore
#if canImport(Glibc)
import Glibc
#endif

/// A check written as any executable, described by `<name>.exec.yaml`.
///
/// `protocol: json` (the default): the executable gets a JSON request on stdin and answers with
/// JSON findings on stdout; its rules are declared in the manifest. `protocol: nagios`: a Monitoring
/// Plugins (Nagios) plugin run as it is: exit 0/1/2/3 means ok/warning/critical/unknown, the first
/// line of output is the message and what follows `|` is performance data. See README.md,
/// "Writing a check module".
struct ExecModule: CheckModule {
    enum WireProtocol: String { case json, nagios }

    let descriptor: ModuleDescriptor
    let wireProtocol: WireProtocol
    let command: [String]
    let timeout: Duration
    let maxOutput: Int
    let access: ModuleStoreAccess
    let trust: PathTrust
    let helper: String?
    let manifestInterval: Duration?
    let manifestTimeout: Duration?

    static let requestVersion = 1

    init(manifest path: String, loader: ModuleLoader) throws(ModuleLoadFailure) {
        do {
            let section = try ManifestHeader.section(path: path)
            let header = try ManifestHeader(section)
            guard let protocolName = WireProtocol(rawValue: try section.string("protocol") ?? "json") else {
                throw section.error(section["protocol"], "protocol", vi: "cần json hoặc nagios", en: "expected json or nagios")
            }
            var command = try section.strings("command") ?? []
            guard let program = command.first else {
                throw section.error(nil, "command", vi: "thiếu lệnh [chương trình, tham số...]", en: "missing command [program, arguments...]")
            }
            if !program.hasPrefix("/") {
                command[0] = (((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(program) as NSString).standardizingPath
            }
            var rules: [Rule] = []
            switch protocolName {
            case .nagios:
                rules = [Rule(id: "\(header.name).status", title: header.title, defaultSeverity: .warning,
                              messageID: try section.string("message_id") ?? MessageID.derived(from: "\(header.name).status"),
                              template: LocalizedText(vi: "{subject}: {output}", en: "{subject}: {output}"),
                              source: try section.string("source").flatMap(RuleSource.init))]
            case .json:
                for node in try section.sequence("rules") ?? [] {
                    let rule = try YAMLSection(node, path: "rules", file: path)
                    rules.append(try ManifestHeader.rule(rule, module: header.name))
                    try rule.rejectUnknownKeys()
                }
            }
            var specs: [SettingSpec] = []
            if let settings = section["settings"] {
                guard case .table(let table) = YAMLSection.settingValue(settings) else {
                    throw section.error(settings, "settings", vi: "cần một bảng", en: "expected a mapping")
                }
                specs = table.keys.sorted().map { SettingSpec($0, Self.kind(of: table[$0]!), default: table[$0]!, help: "declared in \(path)") }
            }
            let maxOutput = try section.bytes("max_output") ?? 1_048_576
            try section.rejectUnknownKeys()
            descriptor = ModuleDescriptor(name: header.name, version: "exec", summary: header.title, settings: specs, rules: rules)
            wireProtocol = protocolName
            self.command = command
            timeout = header.timeout ?? .seconds(30)
            self.maxOutput = Int(maxOutput)
            access = loader.access
            trust = loader.trust
            helper = loader.helper
            manifestInterval = header.interval
            manifestTimeout = header.timeout
        } catch let error as ConfigError {
            throw ModuleLoadFailure(path: path, reason: error.description)
        } catch {
            throw ModuleLoadFailure(path: path, reason: "\(error)")
        }
        _ = try program(manifest: path)
    }

    /// The program's resolved path, checked again before every run: its folder may have been
    /// replaced since the module was loaded.
    func program(manifest path: String) throws(ModuleLoadFailure) -> String {
        let resolved: String
        do { resolved = try trust.resolve(command[0], as: .file) } catch {
            throw ModuleLoadFailure(path: path, reason: "its program: \(error)")
        }
        guard Glibc.access(resolved, X_OK) == 0 else {
            throw ModuleLoadFailure(path: path, reason: "its program \(command[0]) is not executable; run chmod +x on it")
        }
        return resolved
    }

    static func kind(of value: SettingValue) -> SettingKind {
        switch value {
        case .bool: .bool
        case .integer: .integer(Int.min...Int.max)
        case .number: .number(-Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude)
        case .text: .text(choices: [])
        case .list(let items): .list(of: items.first.map(kind) ?? .text(choices: []))
        case .table: .table
        }
    }

    func evaluate(_ context: EvaluationContext) async throws -> [Finding] {
        guard let helper else {
            throw ProtocolError(description: "not run: ntmwatchd, which contains each run of an executable module, is not "
                                + "installed beside this program")
        }
        let resolvedProgram = try program(manifest: descriptor.name)
        let outcome: Subprocess.Outcome
        do {
            outcome = try await Subprocess(
                arguments: [resolvedProgram] + command.dropFirst(), environment: Subprocess.cleanEnvironment(["NTMWATCH_MODULE": descriptor.name]),
                input: wireProtocol == .json ? try request(context) : Data(), timeout: timeout, maxOutput: maxOutput,
                helper: helper).run()
        } catch Subprocess.Failure.timedOut(let limit) {
            throw ModuleTimedOut(description: "\(command[0]) \(Subprocess.Failure.timedOut(limit))")
        }
        if !outcome.stderr.isEmpty {
            let text = String(decoding: outcome.stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            for line in text.split(separator: "\n").prefix(20) { context.logger.warning("stderr: \(line)") }
        }
        switch wireProtocol {
        case .json: return try decodeFindings(outcome)
        case .nagios: return try nagiosFinding(outcome)
        }
    }

    func request(_ context: EvaluationContext) throws -> Data {
        let store = access.execRequestStore()
        let object: [String: Any] = [
            "version": Self.requestVersion, "module": descriptor.name,
            "instant": context.instant.formatted(.iso8601), "today": context.today.description,
            "settings": context.settings.values.mapValues(jsonValue), "store": store,
            "rules": descriptor.rules.map(\.id),
        ]
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    struct ProtocolError: Error, CustomStringConvertible {
        let description: String
    }

    /// JSON as it was written: JSONSerialization on Linux cannot tell `true` from `1`.
    enum JSONValue: Decodable {
        case bool(Bool), integer(Int64), number(Double), text(String), list([JSONValue]), object([String: JSONValue]), null

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { self = .null }
            else if let value = try? container.decode(Bool.self) { self = .bool(value) }
            else if let value = try? container.decode(Int64.self) { self = .integer(value) }
            else if let value = try? container.decode(Double.self) { self = .number(value) }
            else if let value = try? container.decode(String.self) { self = .text(value) }
            else if let value = try? container.decode([JSONValue].self) { self = .list(value) }
            else { self = .object(try container.decode([String: JSONValue].self)) }
        }

        var text: String? { if case .text(let s) = self { s } else { nil } }
        var object: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }

        var value: Value? {
            switch self {
            case .bool(let b): .bool(b)
            case .integer(let i): .integer(i)
            case .number(let d): .number(d)
            case .text(let s): .text(s)
            case .list(let items): .list(items.map { $0.value?.plain ?? "" })
            // {"vi": …, "en": …}: text in both languages, each reader gets theirs.
            case .object(let object):
                if object.count == 2, let vi = object["vi"]?.text, let en = object["en"]?.text {
                    .localized(LocalizedText(vi: vi, en: en))
                } else {
                    nil
                }
            case .null: nil
            }
        }
    }

    func decodeFindings(_ outcome: Subprocess.Outcome) throws -> [Finding] {
        guard outcome.exitStatus == 0 else {
            let why = outcome.exitStatus.map { "exited with status \($0)" } ?? "was killed by signal \(outcome.signal ?? 0)"
            throw ProtocolError(description: "\(command[0]) \(why)")
        }
        let parsed: JSONValue
        do { parsed = try JSONDecoder().decode(JSONValue.self, from: outcome.stdout) } catch {
            throw ProtocolError(description: "its output is not JSON (\(outcome.stdout.count) bytes)")
        }
        guard case .list(let items)? = parsed.object?["findings"] else {
            throw ProtocolError(description: "its output must be an object with a \"findings\" list")
        }
        return try items.enumerated().map { index, item in
            guard let finding = item.object else { throw ProtocolError(description: "findings[\(index)] is not an object") }
            return try decode(finding, at: index)
        }
    }

    func decode(_ object: [String: JSONValue], at index: Int) throws -> Finding {
        func fail(_ what: String) -> ProtocolError { ProtocolError(description: "findings[\(index)]: \(what)") }
        guard let ruleName = object["rule"]?.text else { throw fail("\"rule\" is missing") }
        let ruleID = ruleName.contains(".") ? ruleName : "\(descriptor.name).\(ruleName)"
        guard let rule = descriptor.rule(ruleID) else {
            throw fail("rule '\(ruleID)' is not declared in the manifest (declared: \(descriptor.rules.map(\.id).joined(separator: ", ")))")
        }
        guard let subject = object["subject"]?.object, let id = subject["id"]?.text, !id.isEmpty else {
            throw fail("\"subject\" needs at least an \"id\"")
        }
        var severity: Severity?
        if let text = object["severity"]?.text {
            guard let parsed = Severity(rawValue: text) else { throw fail("unknown severity '\(text)'") }
            severity = parsed
        }
        var labels: [String: String] = [:]
        for (key, value) in object["labels"]?.object ?? [:] {
            guard let text = value.text else { throw fail("label '\(key)' is not text") }
            labels[key] = text
        }
        var values: [String: Value] = [:]
        for (key, value) in object["values"]?.object ?? [:] { values[key] = value.value }
        return Finding(rule: rule, subject: Subject(kind: subject["kind"]?.text ?? "unit", id: id,
                                                    name: subject["name"]?.text ?? id, unitID: subject["unit_id"]?.text),
                       severity: severity, labels: labels, values: values)
    }

    /// The Monitoring Plugins convention (https://www.monitoring-plugins.org/doc/guidelines.html):
    /// OK is no finding, so a recovered plugin resolves its alert.
    func nagiosFinding(_ outcome: Subprocess.Outcome) throws -> [Finding] {
        guard let status = outcome.exitStatus else {
            throw ProtocolError(description: "\(command[0]) was killed by signal \(outcome.signal ?? 0)")
        }
        let severity: Severity
        switch status {
        case 0: return []
        case 1: severity = .warning
        case 2: severity = .critical
        case 3: severity = .error
        default: throw ProtocolError(description: "\(command[0]) exited with \(status), outside the plugin range 0-3")
        }
        let firstLine = String(decoding: outcome.stdout, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).first ?? ""
        let parts = firstLine.split(separator: "|", maxSplits: 1)
        let text = parts.first.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
        var values: [String: Value] = ["output": .text(text.isEmpty ? "(no output)" : text),
                                       "status": .text(["OK", "WARNING", "CRITICAL", "UNKNOWN"][Int(status)])]
        if parts.count == 2 { values.merge(Self.performanceData(String(parts[1]))) { $1 } }
        let rule = descriptor.rules[0]
        return [Finding(rule: rule, subject: Subject(kind: "check", id: descriptor.name, name: descriptor.summary.vi),
                        severity: severity, labels: ["plugin_status": values["status"]!.plain], values: values)]
    }

    /// `'label'=value[UOM];warn;crit;min;max ...` → `perf_<label>` = value.
    static func performanceData(_ text: String) -> [String: Value] {
        var values: [String: Value] = [:]
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        while !rest.isEmpty {
            var label: Substring
            if rest.hasPrefix("'") {
                let afterQuote = rest.dropFirst()
                guard let close = afterQuote.firstIndex(of: "'") else { break }
                label = afterQuote[..<close]
                rest = afterQuote[afterQuote.index(after: close)...]
            } else {
                guard let equals = rest.firstIndex(of: "=") else { break }
                label = rest[..<equals]
                rest = rest[equals...]
            }
            guard rest.hasPrefix("=") else { break }
            rest = rest.dropFirst()
            let end = rest.firstIndex(of: " ") ?? rest.endIndex
            let datum = rest[..<end]
            rest = rest[end...].drop { $0 == " " }
            let number = datum.split(separator: ";", omittingEmptySubsequences: false).first.map { $0.prefix { "0123456789.-".contains($0) } } ?? ""
            let key = "perf_" + label.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
            if let value = Double(number) { values[key] = .number(value) }
        }
        return values
    }
}
