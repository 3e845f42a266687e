import CheckKit
import Foundation
import HummingbirdBcrypt
import Synchronization
import Testing
@testable import NTMWatchCore
@testable import NTMWeb
#if canImport(Glibc)
import Glibc
#endif

/// The web console: its escaping and pictures as values, then the daemon serving it on the
/// sample province, driven by curl (login, CSRF, read-only) and by a real headless Chromium.
@Suite(.serialized) struct ConsoleTests {
    static let daemon = (Sandbox.products as NSString).appendingPathComponent("ntmwatchd")
    static let catalog = "\(Sandbox.repository)/Deploy/catalog/ntmwatch.catalog"

    @Test func escapingCoversTextAndAttributes() {
        #expect(HTML.escape(#"<script>alert("x") & 'y'</script>"#) == "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;")
        #expect(HTML.escape("Quế An — 92,5%") == "Quế An — 92,5%")
        let name = #"Xã "A" <b>"#
        let markup: HTMLText = "<a title=\"\(name)\">\(name)</a>"
        #expect(markup.html == "<a title=\"Xã &quot;A&quot; &lt;b&gt;\">Xã &quot;A&quot; &lt;b&gt;</a>")
        let inner: HTMLText = "<b>\(name)</b>"
        let outer: HTMLText = "<p>\(inner)</p>"
        #expect(outer.html == "<p><b>Xã &quot;A&quot; &lt;b&gt;</b></p>")
    }

    @Test func wilsonIntervalAndChartsSayWhatTheyShow() {
        let interval = Charts.wilson(satisfied: 37, respondents: 40)
        #expect(abs(interval.lower - 0.8014) < 0.001 && abs(interval.upper - 0.9742) < 0.001, "\(interval)")
        let t = Words(language: .vi)
        let chart = Charts.satisfaction(id: "s", surveys: [
            .init(on: CivilDate("2023-09-01")!, respondents: 300, satisfied: 292), .init(on: CivilDate("2024-09-20")!, respondents: 40, satisfied: 37),
        ], thresholdPercent: 90, words: t).html
        #expect(chart.contains(#"role="img""#) && chart.contains("<title id=\"s-t\">Tỷ lệ hài lòng theo thời gian</title>"))
        #expect(chart.contains("20/09/2024: 92,5% (37/40 người), khoảng tin cậy 95% 80,1–97,4%"))
        #expect(chart.contains("Ngưỡng 90%"))
        let money = Charts.disbursement(id: "d", year: 2024, assignedVND: 2_000_000_000,
                                        disbursed: [(CivilDate("2024-06-28")!, 1_200_000_000)],
                                        milestones: [(CivilDate("2024-06-30")!, 50), (CivilDate("2024-12-31")!, 100)], words: t).html
        #expect(money.contains("mốc 30/6: 50%") && money.contains("đến 28/06/2024 giải ngân 60,0%"), "\(money)")
        let target = Charts.projection(id: "p", title: "Tỷ lệ xã đạt chuẩn NTM", unit: "%", target: 80, by: CivilDate("2025-12-31")!,
                                       baseline: (CivilDate("2021-12-31")!, 58), current: (CivilDate("2024-11-12")!, 70), projected: 74, words: t).html
        #expect(target.contains("dự báo đến 31/12/2025: 74,0%") && target.contains("class=\"projection\""))
    }

    @Test func passwordFileErrorsNameTheLineAndNeverTheHash() throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try sandbox.write("passwd", "# office\nan:\(Bcrypt.hash("đúng", cost: 4))\nbinh:notahash-secret\n")
        #expect {
            _ = try ConsoleAuth(passwordFile: sandbox.path("passwd"), proxyUserHeader: nil, trustedProxies: [])
        } throws: { error in
            let text = "\(error)"
            return text.contains("passwd:3:") && text.contains("bcrypt") && !text.contains("notahash-secret")
        }
    }

    @Test func proxyHeaderIsTrustedOnlyFromTheProxy() async throws {
        let auth = try ConsoleAuth(passwordFile: nil, proxyUserHeader: "X-Remote-User", trustedProxies: ["127.0.0.1"])
        #expect(await auth.user(sessionToken: nil, proxyUser: "an", peer: "127.0.0.1")?.user == "an")
        #expect(await auth.user(sessionToken: nil, proxyUser: "an", peer: "10.0.0.9") == nil)
        let principal = try #require(await auth.user(sessionToken: nil, proxyUser: "an", peer: "127.0.0.1"))
        #expect(auth.checkCSRF(auth.csrfToken(for: principal), for: principal))
        #expect(!auth.checkCSRF(nil, for: principal) && !auth.checkCSRF(String(repeating: "0", count: 64), for: principal))
    }

    // MARK: The daemon

    struct Reply { let status: Int; let headers: String; let body: String }

    static func request(_ url: String, _ extra: [String] = []) throws -> Reply {
        let result = try Sandbox.run("/usr/bin/curl", ["-s", "-D", "-", "-o", "-", "-w", "\n%{http_code}"] + extra + [url])
        let text = result.output
        let status = Int(text.split(separator: "\n").last ?? "") ?? 0
        let parts = text.components(separatedBy: "\r\n\r\n")
        return Reply(status: status, headers: parts.first ?? "", body: parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    /// The sample province with all built-in modules (`settings`: lines under a module's
    /// `checks:` entry), its alert state filled by a cycle as of 2024-11-12: the configuration's
    /// path and the console's port.
    static func sampleState(_ sandbox: Sandbox, console: String, settings: [String: String] = [:]) throws -> (config: String, port: Int) {
        let modules = ["deadline", "satisfaction", "debt", "disbursement", "standards", "targets"]
        for plugin in modules { try sandbox.installModule("libntmwatch-\(plugin).so") }
        let port = 20_000 + Int.random(in: 0..<20_000)
        let config = try sandbox.configuration(checks: modules.map { "  - module: \($0)\n" + (settings[$0] ?? "") }.joined(), seedFrom: Sandbox.sampleFolder)
        try sandbox.write("ntmwatch.yaml", try String(contentsOfFile: config, encoding: .utf8)
            + "http:\n  listen: 127.0.0.1:\(port)\n  console:\n    enabled: true\n    catalog: \(catalog)\n\(console)")
        let once = try Sandbox.run(daemon, ["--config", config, "--once", "--at", "2024-11-12"])
        #expect(once.status == 0, "\(once.output)")
        return (config, port)
    }

    /// The daemon on the sample province, serving the console.
    static func sampleDaemon(_ sandbox: Sandbox, console: String, settings: [String: String] = [:]) throws -> (Daemon, Int) {
        let (config, port) = try sampleState(sandbox, console: console, settings: settings)
        return (try Daemon.launch([daemon, "--config", config], notifySocket: nil), port)
    }

    @Test func withoutALoginTheConsoleIsReadOnly() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        let (run, port) = try Self.sampleDaemon(sandbox, console: "")
        defer { run.kill() }
        let base = "http://127.0.0.1:\(port)"
        try await eventually { (try? Self.request(base + "/readyz").status) == 200 }
        let overview = try Self.request(base + "/")
        #expect(overview.status == 200 && overview.body.contains("Tổng quan tỉnh"), "\(overview.body.prefix(500))")
        #expect(!overview.body.contains("<form") && overview.body.contains("Chỉ xem"))
        #expect(overview.headers.contains("default-src 'none'"))
        let post = try Self.request(base + "/logout", ["-X", "POST", "-H", "Origin: \(base)", "--data", "csrf=x"])
        #expect(post.status == 403)
        #expect(try Self.request(base + "/login", ["-X", "POST", "-H", "Origin: \(base)", "--data", "user=an&password=x"]).status == 403)
        #expect(try Self.request(base + "/metrics").status == 200)
        // The alert page lists silences but offers no form, and the silence routes refuse.
        let fingerprint = try #require(overview.body.range(of: #"/alert/[0-9a-f]{16}"#, options: .regularExpression)
            .map { String(overview.body[$0].dropFirst(7)) })
        let alertPage = try Self.request(base + "/alert/\(fingerprint)").body
        #expect(alertPage.contains("Tạm dừng (silence)") && !alertPage.contains("<form"))
        #expect(try Self.request(base + "/silences", ["-X", "POST", "-H", "Origin: \(base)", "--data",
                                                      "fingerprint=\(fingerprint)&until=2099-01-01&comment=x&csrf=x"]).status == 403)
    }

    @Test func loginSessionCookieAndCSRF() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try sandbox.write("passwd", "an:\(Bcrypt.hash("mật khẩu", cost: 4))\n")
        let (run, port) = try Self.sampleDaemon(sandbox, console: "    password_file: \(sandbox.path("passwd"))\n")
        defer { run.kill() }
        let base = "http://127.0.0.1:\(port)"
        try await eventually { (try? Self.request(base + "/readyz").status) == 200 }
        let form = ["-X", "POST", "--data-urlencode", "user=an", "--data-urlencode", "password=mật khẩu"]
        // Another site's form: refused before the password is even looked at.
        #expect(try Self.request(base + "/login", form + ["-H", "Origin: http://evil.example"]).status == 403)
        #expect(try Self.request(base + "/login", ["-X", "POST", "-H", "Origin: \(base)", "--data", "user=an&password=sai"]).status == 401)
        let login = try Self.request(base + "/login", form + ["-H", "Origin: \(base)"])
        #expect(login.status == 303)
        let cookieLine = try #require(login.headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix("set-cookie: ntmwatch_session=") })
        #expect(cookieLine.contains("HttpOnly") && cookieLine.contains("SameSite=Strict"), "\(cookieLine)")
        let cookie = String(cookieLine.dropFirst("set-cookie: ".count).split(separator: ";")[0])
        let page = try Self.request(base + "/", ["-H", "Cookie: \(cookie)"])
        #expect(page.body.contains("Đăng xuất") && page.body.contains(">an<"))
        let token = try #require(page.body.range(of: #"name="csrf" value="([0-9a-f]{64})""#, options: .regularExpression)
            .map { String(page.body[$0].dropFirst(#"name="csrf" value=""#.count).dropLast()) })
        // A POST without the token, with a wrong one, or from elsewhere, is refused.
        #expect(try Self.request(base + "/logout", ["-X", "POST", "-H", "Cookie: \(cookie)", "-H", "Origin: \(base)", "--data", ""]).status == 403)
        #expect(try Self.request(base + "/logout", ["-X", "POST", "-H", "Cookie: \(cookie)", "-H", "Origin: \(base)", "--data", "csrf=\(String(repeating: "0", count: 64))"]).status == 403)
        #expect(try Self.request(base + "/logout", ["-X", "POST", "-H", "Cookie: \(cookie)", "-H", "Origin: http://evil.example", "--data", "csrf=\(token)"]).status == 403)
        #expect(try Self.request(base + "/logout", ["-X", "POST", "-H", "Cookie: \(cookie)", "-H", "Origin: \(base)", "--data", "csrf=\(token)"]).status == 303)
        // The session is over.
        #expect(!(try Self.request(base + "/", ["-H", "Cookie: \(cookie)"]).body.contains("Đăng xuất")))
    }

    /// Regression (issue 19): wrong passwords could be tried without limit.
    @Test func failedLoginsAreLimitedPerAddressAndPerUser() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try sandbox.write("passwd", "an:\(Bcrypt.hash("mật khẩu", cost: 4))\nbinh:\(Bcrypt.hash("khác", cost: 4))\n")
        let (run, port) = try Self.sampleDaemon(sandbox, console: "    password_file: \(sandbox.path("passwd"))\n")
        defer { run.kill() }
        let base = "http://127.0.0.1:\(port)"
        try await eventually { (try? Self.request(base + "/readyz").status) == 200 }
        // curl binds the second client to another loopback address.
        func login(_ user: String, _ password: String, from address: String = "127.0.0.1", _ extra: [String] = []) throws -> Reply {
            try Self.request(base + "/login", ["--interface", address, "-X", "POST", "-H", "Origin: \(base)", "--data-urlencode", "user=\(user)",
                                               "--data-urlencode", "password=\(password)"] + extra)
        }
        for _ in 0..<5 { #expect(try login("an", "sai").status == 401) }
        // The sixth try is refused before the password is looked at, the right one too.
        let refused = try login("an", "mật khẩu")
        #expect(refused.status == 429)
        let retryAfter = refused.headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix("retry-after: ") }
            .flatMap { Int($0.dropFirst("retry-after: ".count)) }
        #expect(retryAfter.map { (1...900).contains($0) } == true, "\(refused.headers)")
        #expect(refused.body.contains("Đã đăng nhập sai quá nhiều lần") && refused.body.contains("15 phút"), "\(refused.body.suffix(600))")
        #expect(!refused.headers.lowercased().contains("set-cookie: ntmwatch_session"))
        #expect(try login("an", "mật khẩu", ["-H", "Accept-Language: en"]).body.contains("Too many failed logins"))
        // The user is limited from another address too; that address's other users are not.
        #expect(try login("an", "mật khẩu", from: "127.0.0.2").status == 429)
        #expect(try login("binh", "khác", from: "127.0.0.2").status == 303)
        // The first address is limited for every user.
        #expect(try login("binh", "khác").status == 429)
    }

    /// The end of the window, with the limiter's clock moved by hand.
    @Test func theLoginLimitEndsWithItsWindow() async throws {
        let now = Mutex(Date(timeIntervalSince1970: 1_731_369_600))
        let limiter = LoginLimiter(limit: 5, window: 900, clock: { now.withLock { $0 } })
        func admit(_ user: String, _ address: String) async -> LoginLimiter.Attempt? {
            if case .admitted(let attempt) = await limiter.admit(user: user, address: address) { return attempt }
            return nil
        }
        func wait(_ user: String, _ address: String) async -> Int? {
            if case .refused(let seconds) = await limiter.admit(user: user, address: address) { return seconds }
            return nil
        }
        for _ in 0..<5 {
            #expect(await admit("an", "10.0.0.1") != nil)
            now.withLock { $0.addTimeInterval(60) }
        }
        // Five failures at 0, 60, ... 240 s; now is 300 s: the first leaves the window at 900 s.
        #expect(await wait("an", "10.0.0.1") == 600)
        #expect(await wait("an", "10.0.0.2") == 600)
        #expect(await wait("binh", "10.0.0.1") == 600)
        now.withLock { $0.addTimeInterval(600) }
        let attempt = try #require(await admit("an", "10.0.0.1"))
        #expect(await wait("an", "10.0.0.1") == 60)
        // A right password clears the user's failures, not the address's.
        await limiter.succeeded(attempt)
        #expect(await admit("an", "10.0.0.3") != nil)
        // The address keeps its four earlier failures: one more try, then it waits.
        #expect(await admit("binh", "10.0.0.1") != nil)
        #expect(await wait("binh", "10.0.0.1") == 60)
    }

    /// Regression (issue 19): the chart drew the module's default milestones, not the configured ones.
    @Test func theDisbursementChartDrawsTheConfiguredMilestones() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        let (run, port) = try Self.sampleDaemon(sandbox, console: "", settings: [
            "disbursement": "    settings:\n      milestones: {\"09-30\": 60, \"12-31\": 100}\n",
        ])
        defer { run.kill() }
        let base = "http://127.0.0.1:\(port)"
        try await eventually { (try? Self.request(base + "/readyz").status) == 200 }
        let page = try Self.request(base + "/commune/20108").body
        #expect(page.contains("mốc 30/9: 60%") && page.contains("mốc 31/12: 100%"), "\(page.suffix(1500))")
        #expect(!page.contains("mốc 30/6"))
    }

    @Test func silencesAreCreatedAndExpiredOnlyWithASessionAndItsToken() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try sandbox.write("passwd", "an:\(Bcrypt.hash("mật khẩu", cost: 4))\n")
        let (run, port) = try Self.sampleDaemon(sandbox, console: "    password_file: \(sandbox.path("passwd"))\n")
        defer { run.kill() }
        let base = "http://127.0.0.1:\(port)"
        try await eventually { (try? Self.request(base + "/readyz").status) == 200 }
        let login = try Self.request(base + "/login", ["-X", "POST", "-H", "Origin: \(base)", "--data-urlencode", "user=an",
                                                       "--data-urlencode", "password=mật khẩu"])
        let cookieLine = try #require(login.headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix("set-cookie: ntmwatch_session=") })
        let cookie = String(cookieLine.dropFirst("set-cookie: ".count).split(separator: ";")[0])
        let overview = try Self.request(base + "/", ["-H", "Cookie: \(cookie)"]).body
        let fingerprint = try #require(overview.range(of: #"/alert/[0-9a-f]{16}"#, options: .regularExpression).map { String(overview[$0].dropFirst(7)) })
        let page = try Self.request(base + "/alert/\(fingerprint)", ["-H", "Cookie: \(cookie)"]).body
        #expect(page.contains("action=\"/silences\""))
        let token = try #require(page.range(of: #"name="csrf" value="([0-9a-f]{64})""#, options: .regularExpression)
            .map { String(page[$0].dropFirst(#"name="csrf" value=""#.count).dropLast()) })
        let form = ["-X", "POST", "-H", "Cookie: \(cookie)", "-H", "Origin: \(base)", "--data-urlencode", "fingerprint=\(fingerprint)",
                    "--data-urlencode", "until=2099-01-31", "--data-urlencode", "comment=Chờ quyết toán"]
        // Without the token, or without a session, nothing is written.
        #expect(try Self.request(base + "/silences", form).status == 403)
        #expect(try Self.request(base + "/silences", ["-X", "POST"] + Array(form.dropFirst(4)) + ["--data-urlencode", "csrf=\(token)"]).status == 403)
        #expect(try Self.request(base + "/silences", form + ["--data-urlencode", "csrf=\(token)"]).status == 303)
        let silenced = try Self.request(base + "/alert/\(fingerprint)", ["-H", "Cookie: \(cookie)"]).body
        #expect(silenced.contains("Đang tạm dừng") && silenced.contains("Chờ quyết toán") && silenced.contains(">an<"))
        let id = try #require(silenced.range(of: #"/silences/[0-9a-f-]{36}/expire"#, options: .regularExpression)
            .map { String(silenced[$0].dropFirst(10).dropLast(7)) })
        #expect(try Self.request(base + "/silences/\(id)/expire", ["-X", "POST", "-H", "Cookie: \(cookie)", "-H", "Origin: \(base)",
                                                                  "--data", "back=\(fingerprint)"]).status == 403)
        #expect(try Self.request(base + "/silences/\(id)/expire", ["-X", "POST", "-H", "Cookie: \(cookie)", "-H", "Origin: \(base)",
                                                                  "--data", "csrf=\(token)&back=\(fingerprint)"]).status == 303)
        #expect(try Self.request(base + "/alert/\(fingerprint)", ["-H", "Cookie: \(cookie)"]).body.contains("Đã hết"))
    }

    @Test func everyPageLoadsFitsAndSaysItsTextInChromium() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        let (run, port) = try Self.sampleDaemon(sandbox, console: "")
        defer { run.kill() }
        let base = "http://127.0.0.1:\(port)"
        try await eventually { (try? Self.request(base + "/readyz").status) == 200 }
        let spec: [[String: Any]] = [
            ["path": "/", "expect": ["Tổng quan tỉnh", "Cảnh báo đang phát theo khu vực", "Nghiêm trọng"]],
            ["follow": "/area/", "expect": ["Các xã", "Cảnh báo không gắn với một xã"]],
            ["follow": "/commune/", "expect": ["Cảnh báo", "Công nhận", "Lộ trình", "Nợ đọng xây dựng cơ bản", "Cần làm gì"]],
            ["follow": "/alert/", "expect": ["Cần làm gì", "Lịch sử chuyển trạng thái", "Thông báo đã gửi", "Nhãn"]],
            // Quế An: 170 of 200 satisfied in 2024; Điện Thắng (20108) has its 2024 capital.
            ["path": "/commune/20104", "expect": ["Quế An", "Tỷ lệ hài lòng theo thời gian", "170/200"]],
            ["path": "/commune/20108", "expect": ["Giải ngân năm"]],
            ["path": "/checks", "expect": ["Mô-đun và kiểm tra", "deadline", "satisfaction"]],
            ["path": "/freshness", "expect": ["Độ mới của dữ liệu", "surveys", "thêm"]],
            ["path": "/targets", "expect": ["Mục tiêu của tỉnh", "Tỷ lệ xã đạt chuẩn NTM", "Mục tiêu 80%"]],
            ["path": "/login", "expect": ["chưa cấu hình đăng nhập"]],
            ["path": "/?lang=en", "expect": ["Province overview", "Firing alerts by area"]],
        ]
        try JSONSerialization.data(withJSONObject: spec).write(to: URL(fileURLWithPath: sandbox.path("spec.json")))
        let driven = try Sandbox.run("/usr/bin/python3", ["\(Sandbox.repository)/Tests/Peers/console_browser.py", base,
                                                          sandbox.path("spec.json"), sandbox.path("result.json")])
        #expect(driven.status == 0, "\(driven.output)")
        let results = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: sandbox.path("result.json")))) as? [[String: Any]])
        #expect(results.count == spec.count * 2)
        for result in results {
            let where_ = "\(result["path"] ?? "?") at \(result["width"] ?? "?") px"
            #expect((result["missing"] as? [String])?.isEmpty == true, "\(where_): missing \(result["missing"] ?? "")")
            #expect((result["failed"] as? [String])?.isEmpty == true, "\(where_): failed \(result["failed"] ?? "")")
            let scroll = result["scrollWidth"] as? Int ?? .max, inner = result["innerWidth"] as? Int ?? 0
            #expect(scroll <= inner, "\(where_): scrollWidth \(scroll) > innerWidth \(inner)")
            // Everything came from the daemon itself.
            for url in result["requests"] as? [String] ?? [] { #expect(url.hasPrefix(base), "\(where_): requested \(url)") }
        }
        #expect(run.isRunning)
    }
}
