import CheckKit
import Foundation
import NTMAlerting
import NTMDelivery
import NTMModuleHost
import NTMStore
import Yams

/// Reads the configuration file. Relative paths in it are relative to the file's folder.
public enum ConfigLoader {
    public static func load(path: String) throws(ConfigError) -> Configuration {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, line: nil, column: nil, key: nil,
                              message: LocalizedText(vi: "không đọc được tệp cấu hình", en: "cannot read the configuration file"))
        }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String) throws(ConfigError) -> Configuration {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw YAMLSection.error(path, nil, nil, vi: "tệp cấu hình trống", en: "the configuration file is empty")
            }
            root = node
        } catch let error as ConfigError {
            throw error
        } catch let YamlError.scanner(_, problem, mark, _), let YamlError.parser(_, problem, mark, _),
                let YamlError.composer(_, problem, mark, _) {
            throw ConfigError(file: path, line: mark.line, column: mark.column, key: nil,
                              message: LocalizedText(vi: "YAML không hợp lệ: \(problem)", en: "invalid YAML: \(problem)"))
        } catch {
            throw ConfigError(file: path, line: nil, column: nil, key: nil,
                              message: LocalizedText(vi: "YAML không hợp lệ: \(error)", en: "invalid YAML: \(error)"))
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        func resolve(_ relative: String) -> String {
            relative.hasPrefix("/") ? relative : base.appendingPathComponent(relative).standardizedFileURL.path
        }

        let top = try YAMLSection(root, path: "", file: path)
        let instance = try top.string("instance") ?? "ntmwatch"
        let languageText = try top.string("language") ?? "vi"
        guard let language = Language(rawValue: languageText) else {
            throw top.error(top["language"], "language", vi: "cần vi hoặc en", en: "expected vi or en")
        }
        let stateDirectory = resolve(try top.string("state_directory") ?? "/var/lib/ntmwatch")

        // store
        guard let storeSection = try top.section("store") else {
            throw top.error(nil, "store", vi: "thiếu mục store (sqlite: TỆP hoặc postgres: URL)",
                            en: "missing store section (sqlite: FILE or postgres: URL)")
        }
        let location: StoreLocation
        switch (try storeSection.string("sqlite"), try storeSection.string("postgres"), try storeSection.string("postgres_url_file")) {
        case (let file?, nil, nil): location = .sqlite(path: resolve(file))
        case (nil, let url?, nil): location = .postgres(url: url)
        case (nil, nil, let secretFile?):
            // Keeps the password out of the configuration file (and of anything that prints it).
            guard let url = try? String(contentsOfFile: resolve(secretFile), encoding: .utf8) else {
                throw storeSection.error(storeSection["postgres_url_file"], "postgres_url_file",
                                         vi: "không đọc được tệp", en: "cannot read the file")
            }
            location = .postgres(url: url.trimmingCharacters(in: .whitespacesAndNewlines))
        default:
            throw storeSection.error(nil, "sqlite", vi: "ghi đúng một trong sqlite, postgres, postgres_url_file",
                                     en: "set exactly one of sqlite, postgres, postgres_url_file")
        }
        var store = Configuration.StoreSettings(
            location: location, seedFrom: try storeSection.string("seed_from").map(resolve),
            queryTimeout: try storeSection.duration("query_timeout") ?? .seconds(30))
        // Exec modules read the store with these, never with the daemon's URL.
        switch (try storeSection.string("readonly_url"), try storeSection.string("readonly_url_file")) {
        case (nil, nil): break
        case (let url?, nil): store.readOnlyURL = url
        case (nil, let secretFile?):
            guard let url = try? String(contentsOfFile: resolve(secretFile), encoding: .utf8) else {
                throw storeSection.error(storeSection["readonly_url_file"], "readonly_url_file",
                                         vi: "không đọc được tệp", en: "cannot read the file")
            }
            store.readOnlyURL = url.trimmingCharacters(in: .whitespacesAndNewlines)
        default:
            throw storeSection.error(storeSection["readonly_url"], "readonly_url", vi: "ghi readonly_url hoặc readonly_url_file, không cả hai",
                                     en: "set readonly_url or readonly_url_file, not both")
        }
        try storeSection.rejectUnknownKeys()

        // modules and scheduler
        let modulesSection = try top.section("modules")
        let moduleDirectories = (try modulesSection?.strings("directories") ?? ["/usr/lib/ntmwatch/modules", "/etc/ntmwatch/modules"]).map(resolve)
        try modulesSection?.rejectUnknownKeys()
        let scheduler = try top.section("scheduler")
        let defaultInterval = try scheduler?.duration("default_interval") ?? .seconds(300)
        let defaultTimeout = try scheduler?.duration("default_timeout") ?? .seconds(60)
        let maxConcurrent = try scheduler?.int("max_concurrent", in: 1...64) ?? 2
        try scheduler?.rejectUnknownKeys()

        // checks
        var checks: [Configuration.CheckSettings] = []
        for (index, node) in (try top.sequence("checks") ?? []).enumerated() {
            let section = try YAMLSection(node, path: "checks[\(index)]", file: path)
            let module = try section.requiredString("module")
            let name = try section.string("name") ?? module
            if checks.contains(where: { $0.name == name }) {
                throw section.error(section["name"], "name", vi: "tên kiểm tra '\(name)' bị trùng; đặt name khác",
                                    en: "check name '\(name)' is used twice; give one a different name")
            }
            var settings: [String: SettingValue] = [:]
            if let settingsNode = section["settings"] {
                guard case .table(let table) = YAMLSection.settingValue(settingsNode) else {
                    throw section.error(settingsNode, "settings", vi: "cần một bảng", en: "expected a mapping")
                }
                settings = table
            }
            var severity: [String: Severity] = [:]
            for (rule, text) in try section.stringMap("severity") ?? [:] {
                guard let level = Severity(rawValue: text) else {
                    throw section.error(section["severity"], "severity.\(rule)",
                                        vi: "mức độ phải là một trong \(Severity.allCases.map(\.rawValue).joined(separator: ", "))",
                                        en: "severity must be one of \(Severity.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                severity[rule] = level
            }
            var pendingFor: [String: Duration] = [:]
            for (rule, text) in try section.stringMap("pending_for") ?? [:] {
                guard let duration = DurationText.parse(text) else {
                    throw section.error(section["pending_for"], "pending_for.\(rule)", vi: "cần khoảng thời gian như 10m", en: "expected a duration such as 10m")
                }
                pendingFor[rule] = duration
            }
            checks.append(.init(
                name: name, module: module, interval: try section.duration("interval") ?? defaultInterval,
                timeout: try section.duration("timeout") ?? defaultTimeout, settings: settings, severity: severity,
                pendingFor: pendingFor, line: section.line))
            try section.rejectUnknownKeys()
        }

        // alerts
        var repeatInterval = Configuration.defaultRepeatInterval
        let alerts = try top.section("alerts")
        if let repeatSection = try alerts?.section("repeat_interval") {
            for key in repeatSection.keys {
                guard let level = Severity(rawValue: key) else {
                    _ = repeatSection[key]
                    throw repeatSection.error(nil, key, vi: "mức độ không tồn tại", en: "no such severity")
                }
                repeatInterval[level] = try repeatSection.duration(key)
            }
            try repeatSection.rejectUnknownKeys()
        }
        try alerts?.rejectUnknownKeys()

        // sinks
        let journald = try top.bool("journald") ?? true
        let externalURL = try top.string("external_url") ?? ""
        var receivers: [Configuration.Receiver] = []
        for (index, node) in (try top.sequence("receivers") ?? []).enumerated() {
            let section = try YAMLSection(node, path: "receivers[\(index)]", file: path)
            let name = try section.requiredString("name")
            if receivers.contains(where: { $0.name == name }) {
                throw section.error(section["name"], "name", vi: "tên receiver bị trùng", en: "receiver name is used twice")
            }
            if name == journaldReceiver {
                throw section.error(section["name"], "name", vi: "tên '\(journaldReceiver)' dành cho journald", en: "the name '\(journaldReceiver)' is journald's")
            }
            var digest: DigestSettings?
            if let digestSection = try section.section("digest") {
                let text = try digestSection.requiredString("schedule")
                guard let schedule = DigestSchedule(text) else {
                    throw digestSection.error(digestSection["schedule"], "schedule",
                                              vi: "'\(text)' không phải lịch dạng \"daily 07:30\" hoặc \"weekly mon 07:30\"",
                                              en: "'\(text)' is not a schedule such as \"daily 07:30\" or \"weekly mon 07:30\"")
                }
                let folder = resolve(try digestSection.string("templates") ?? "/etc/ntmwatch/templates")
                let directory = try digestSection.string("directory").map(resolve)
                // A webhook takes notifications, not pages: an HTTP receiver's digests need a folder.
                if directory == nil, section["http"] != nil {
                    throw digestSection.error(digestSection["directory"] ?? section["digest"], "directory",
                                              vi: "receiver http cần digest.directory: thư mục ghi các bản tin",
                                              en: "an http receiver needs digest.directory: the folder its digests are written to")
                }
                do {
                    digest = DigestSettings(schedule: schedule, directory: directory,
                                            templates: try EmailTemplates.digest(language: language, overrides: folder))
                } catch {
                    throw digestSection.error(digestSection["templates"], "templates", vi: "mẫu bản tin không dùng được: \(error)",
                                              en: "unusable template: \(error)")
                }
                try digestSection.rejectUnknownKeys()
            }
            let directory = try section.string("directory").map(resolve)
            let http = try section.section("http").map { section throws(ConfigError) in try parseHTTP(section, resolve: resolve) }
            let email = try section.section("email").map { section throws(ConfigError) in try parseEmail(section, language: language, resolve: resolve) }
            let maxSpoolBytes = try section.bytes("max_spool_bytes") ?? 100 << 20
            let maxAlertsPerFile = try section.int("max_alerts_per_file", in: 1...100_000) ?? 500
            switch (directory, http, email) {
            case (let directory?, nil, nil):
                receivers.append(.init(name: name, integration: .files(FileSpool(
                    directory: directory, maxSpoolBytes: maxSpoolBytes, maxAlertsPerFile: maxAlertsPerFile)), digest: digest))
            case (nil, let http?, nil):
                receivers.append(.init(name: name, integration: .http(http), digest: digest))
            case (nil, nil, let email?):
                receivers.append(.init(name: name, integration: .email(email), digest: digest))
            default:
                throw section.error(section["http"] ?? section["email"] ?? section["directory"], "directory",
                                    vi: "receiver cần đúng một trong directory (thư mục tệp), http (địa chỉ POST) hoặc email",
                                    en: "a receiver needs exactly one of directory (a spool folder), http (a URL to POST to) or email")
            }
            try section.rejectUnknownKeys()
        }
        var httpListen: (host: String, port: Int)?
        var console: Configuration.ConsoleSettings?
        if let section = try top.section("http") {
            if let text = try section.string("listen") {
                // host:port, [v6]:port; loopback unless the operator says otherwise.
                let parts = text.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count >= 2, let port = Int(parts.last!), (1024...65535).contains(port) else {
                    throw section.error(section["listen"], "listen", vi: "cần địa chỉ dạng 127.0.0.1:9188 (cổng 1024-65535)",
                                        en: "expected an address such as 127.0.0.1:9188 (port 1024-65535)")
                }
                let host = parts.dropLast().joined(separator: ":").trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
                httpListen = (host.isEmpty ? "127.0.0.1" : host, port)
            }
            console = try parseConsole(section, resolve: resolve)
            try section.rejectUnknownKeys()
        }
        var delivery = DeliverySettings()
        if let section = try top.section("delivery") {
            delivery.groupWait = try section.duration("group_wait", allowZero: true) ?? delivery.groupWait
            delivery.groupInterval = try section.duration("group_interval", allowZero: true) ?? delivery.groupInterval
            delivery.retryInitial = try section.duration("retry_initial") ?? delivery.retryInitial
            delivery.retryMax = try section.duration("retry_max") ?? delivery.retryMax
            delivery.deadLetterAfter = try section.duration("dead_letter_after") ?? delivery.deadLetterAfter
            delivery.historyRetention = try section.duration("history_retention") ?? delivery.historyRetention
            try section.rejectUnknownKeys()
        }
        var alertmanagers: [AlertmanagerSync.Endpoint] = []
        for (index, node) in (try top.sequence("alertmanagers") ?? []).enumerated() {
            let section = try YAMLSection(node, path: "alertmanagers[\(index)]", file: path)
            alertmanagers.append(.init(
                url: try parseURL(section), timeout: try section.duration("timeout") ?? .seconds(10),
                resendInterval: try section.duration("resend_interval") ?? .seconds(60)))
            try section.rejectUnknownKeys()
        }
        let route: Configuration.Route
        if let routeNode = top["route"] {
            route = try parseRoute(routeNode, path: "route", file: path, receivers: Set(receivers.map(\.name)), isRoot: true)
        } else if let first = receivers.first {
            route = .init(receiver: first.name)
        } else {
            route = .init(receiver: nil)
        }
        let inhibitRules = try parseInhibitRules(top, file: path)
        try top.rejectUnknownKeys()

        return Configuration(
            instance: instance, language: language, stateDirectory: stateDirectory, store: store,
            moduleDirectories: moduleDirectories, maxConcurrentChecks: maxConcurrent, defaultInterval: defaultInterval,
            defaultTimeout: defaultTimeout, checks: checks,
            repeatInterval: repeatInterval, journald: journald, externalURL: externalURL, receivers: receivers,
            alertmanagers: alertmanagers, route: route, delivery: delivery, inhibitRules: inhibitRules, httpListen: httpListen, console: console, path: path)
    }

    /// `http.console`: off unless `enabled: true`; a login needs a password file or a trusted proxy.
    private static func parseConsole(_ http: YAMLSection, resolve: (String) -> String) throws(ConfigError) -> Configuration.ConsoleSettings? {
        guard let section = try http.section("console") else { return nil }
        var console = Configuration.ConsoleSettings()
        let enabled = try section.bool("enabled") ?? false
        console.catalog = try section.string("catalog").map(resolve) ?? console.catalog
        console.passwordFile = try section.string("password_file").map(resolve)
        console.proxyUserHeader = try section.string("proxy_user_header")
        console.trustedProxies = try section.strings("trusted_proxies") ?? []
        if console.proxyUserHeader != nil, console.trustedProxies.isEmpty {
            throw section.error(section["proxy_user_header"], "proxy_user_header",
                                vi: "cần trusted_proxies (địa chỉ của reverse proxy) đi kèm proxy_user_header",
                                en: "proxy_user_header needs trusted_proxies (the reverse proxy's addresses)")
        }
        try section.rejectUnknownKeys()
        if enabled, try http.string("listen") == nil {
            throw http.error(http["console"], "console", vi: "trang web cần http.listen", en: "the console needs http.listen")
        }
        return enabled ? console : nil
    }

    private static func parseURL(_ section: YAMLSection) throws(ConfigError) -> URL {
        let text = try section.requiredString("url")
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              url.host?.isEmpty == false else {
            // The text is not repeated: a URL may carry a password or a token.
            throw section.error(section["url"], "url", vi: "cần địa chỉ http:// hoặc https:// có tên máy",
                                en: "expected an http:// or https:// URL with a host")
        }
        return url
    }

    private static func parseHTTP(_ section: YAMLSection, resolve: (String) -> String) throws(ConfigError) -> HTTPEndpoint {
        let url = try parseURL(section)
        let headers = try section.stringMap("headers") ?? [:]
        for name in headers.keys where name.isEmpty || name.contains(where: { !$0.isASCII || $0.isWhitespace || $0 == ":" })
            || name.lowercased().hasPrefix("x-ntmwatch-") {
            throw section.error(section["headers"], "headers.\(name)",
                                vi: "tên header không hợp lệ hoặc dành riêng cho ntmwatch (X-NTMWatch-*)",
                                en: "invalid header name, or one ntmwatch sets itself (X-NTMWatch-*)")
        }
        let secret: SecretSource?
        switch (try section.string("secret_file"), try section.string("secret_credential")) {
        case (nil, nil):
            secret = nil
        case (let file?, nil):
            secret = .file(resolve(file))
            do throws(SecretError) {
                try SecretSource.checkPermissions(ofFile: resolve(file))
            } catch {
                throw section.error(section["secret_file"], "secret_file", vi: error.message.vi, en: error.message.en)
            }
        case (nil, let name?):
            guard !name.contains("/"), !name.isEmpty else {
                throw section.error(section["secret_credential"], "secret_credential",
                                    vi: "cần tên credential của systemd, không phải đường dẫn", en: "expected a systemd credential name, not a path")
            }
            secret = .credential(name)
        default:
            throw section.error(section["secret_credential"], "secret_credential",
                                vi: "ghi một trong secret_file hoặc secret_credential, không cả hai",
                                en: "set one of secret_file or secret_credential, not both")
        }
        let endpoint = HTTPEndpoint(
            url: url, headers: headers, secret: secret, timeout: try section.duration("timeout") ?? .seconds(10),
            caFile: try section.string("ca_file").map(resolve), maxAlerts: try section.int("max_alerts", in: 1...100_000) ?? 500)
        try section.rejectUnknownKeys()
        return endpoint
    }

    /// A receiver's `email:` block. Addresses are checked here because they become header lines
    /// and `sendmail` arguments: a line break or comma in one would inject headers or recipients.
    private static func parseEmail(_ section: YAMLSection, language: Language, resolve: (String) -> String) throws(ConfigError) -> EmailSettings {
        func address(_ text: String, _ key: String) throws(ConfigError) -> String {
            guard text.contains("@"), !text.hasPrefix("-"), !text.contains(where: { $0.isWhitespace || $0.isNewline || ",;<>\"".contains($0) }) else {
                throw section.error(section[key], key, vi: "'\(text)' không phải địa chỉ e-mail dạng ten@mien",
                                    en: "'\(text)' is not an e-mail address of the form name@domain")
            }
            return text
        }
        var to: [String] = []
        for text in try section.strings("to") ?? [] { to.append(try address(text, "to")) }
        guard !to.isEmpty else {
            throw section.error(section["to"], "to", vi: "cần ít nhất một người nhận", en: "needs at least one recipient")
        }
        let folder = resolve(try section.string("templates") ?? "/etc/ntmwatch/templates")
        let templates: EmailTemplates
        do {
            templates = try EmailTemplates.load(language: language, overrides: folder)
        } catch {
            throw section.error(section["templates"], "templates", vi: "mẫu thư không dùng được: \(error)", en: "unusable template: \(error)")
        }
        let settings = EmailSettings(
            to: to, from: try address(try section.requiredString("from"), "from"),
            sendmail: resolve(try section.string("sendmail") ?? "/usr/sbin/sendmail"),
            sendmailArguments: try section.strings("sendmail_arguments") ?? [],
            timeout: try section.duration("timeout") ?? .seconds(60), templates: templates)
        try section.rejectUnknownKeys()
        return settings
    }

    /// `inhibit_rules:` as Alertmanager writes them (`source_matchers`, `target_matchers`,
    /// `equal`); absent means the defaults, `[]` none.
    private static func parseInhibitRules(_ top: YAMLSection, file: String) throws(ConfigError) -> [InhibitRule] {
        guard let nodes = try top.sequence("inhibit_rules") else { return InhibitRule.defaults }
        var rules: [InhibitRule] = []
        for (index, node) in nodes.enumerated() {
            let section = try YAMLSection(node, path: "inhibit_rules[\(index)]", file: file)
            func matchers(_ key: String) throws(ConfigError) -> [LabelMatcher] {
                var found: [LabelMatcher] = []
                for text in try section.strings(key) ?? [] {
                    do {
                        found.append(try LabelMatcher(parsing: text))
                    } catch {
                        throw section.error(section[key], key, vi: "điều kiện không hợp lệ: \(error)", en: "invalid matcher: \(error)")
                    }
                }
                guard !found.isEmpty else {
                    throw section.error(section[key], key, vi: "cần ít nhất một điều kiện, ví dụ rule=deadline.overdue",
                                        en: "needs at least one matcher, e.g. rule=deadline.overdue")
                }
                return found
            }
            rules.append(InhibitRule(sourceMatchers: try matchers("source_matchers"), targetMatchers: try matchers("target_matchers"),
                                     equal: try section.strings("equal") ?? []))
            try section.rejectUnknownKeys()
        }
        return rules
    }

    private static func parseRoute(_ node: Node, path: String, file: String, receivers: Set<String>, isRoot: Bool) throws(ConfigError) -> Configuration.Route {
        let section = try YAMLSection(node, path: path, file: file)
        let receiver = try section.string("receiver")
        if let receiver, !receivers.contains(receiver) {
            throw section.error(section["receiver"], "receiver", vi: "không có receiver tên '\(receiver)'",
                                en: "no receiver named '\(receiver)'")
        }
        if isRoot && receiver == nil {
            throw section.error(nil, "receiver", vi: "tuyến gốc cần receiver mặc định", en: "the root route needs a default receiver")
        }
        // `match`, `match_re` and `matchers` (Alertmanager's three spellings) all become matchers,
        // compiled here once.
        var matchers: [LabelMatcher] = []
        do {
            for (label, value) in (try section.stringMap("match") ?? [:]).sorted(by: { $0.key < $1.key }) {
                matchers.append(try LabelMatcher(name: label, op: .equal, value: value))
            }
        } catch {
            throw section.error(section["match"], "match", vi: "điều kiện không hợp lệ: \(error)", en: "invalid matcher: \(error)")
        }
        for (label, pattern) in (try section.stringMap("match_re") ?? [:]).sorted(by: { $0.key < $1.key }) {
            do {
                matchers.append(try LabelMatcher(name: label, op: .regex, value: pattern))
            } catch {
                throw section.error(section["match_re"], "match_re.\(label)", vi: "biểu thức chính quy không hợp lệ", en: "invalid regular expression")
            }
        }
        for text in try section.strings("matchers") ?? [] {
            do {
                matchers.append(try LabelMatcher(parsing: text))
            } catch {
                throw section.error(section["matchers"], "matchers", vi: "điều kiện không hợp lệ: \(error)", en: "invalid matcher: \(error)")
            }
        }
        var children: [Configuration.Route] = []
        for (index, child) in (try section.sequence("routes") ?? []).enumerated() {
            children.append(try parseRoute(child, path: "\(path).routes[\(index)]", file: file, receivers: receivers, isRoot: false))
        }
        let route = Configuration.Route(
            receiver: receiver, matchers: matchers,
            groupBy: try section.strings("group_by"), continueMatching: try section.bool("continue") ?? false, routes: children)
        try section.rejectUnknownKeys()
        return route
    }
}
