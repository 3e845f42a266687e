import CheckKit
import Foundation
import Hummingbird
import NIOCore
import NTMAlerting
import NTMDelivery
import NTMStore
import NTMWatchCore

/// The request context of the daemon's HTTP server: the peer's address is needed to trust a
/// reverse proxy's user header only from the proxy.
public struct ConsoleRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// The web console: server-side HTML pages over the alert state, the check runs and the
/// programme store, read-only unless a login is configured.
public struct Console: Sendable {
    let engine: Engine
    let store: Store
    let state: ConsoleState
    let stateDirectory: String
    let catalog: MessageCatalog
    let catalogPath: String
    public let auth: ConsoleAuth

    public init(settings: Configuration.ConsoleSettings, configuration: Configuration, engine: Engine) throws {
        self.engine = engine
        self.store = Store(location: configuration.store.location, queryTimeout: configuration.store.queryTimeout)
        self.state = ConsoleState(directory: configuration.stateDirectory, store: configuration.store.location)
        self.stateDirectory = configuration.stateDirectory
        self.catalog = MessageCatalog.load(path: settings.catalog)
        self.catalogPath = settings.catalog
        self.auth = try ConsoleAuth(passwordFile: settings.passwordFile, proxyUserHeader: settings.proxyUserHeader,
                                    trustedProxies: settings.trustedProxies)
    }

    /// At the daemon's end, after the server has stopped.
    public func close() async { await state.close() }

    // MARK: Requests

    /// The page's language: `?lang=` (remembered in a cookie), the cookie, then Accept-Language;
    /// Vietnamese unless English is asked for.
    static func language(_ request: Request) -> (Language, remember: Bool) {
        if let asked = request.uri.queryParameters["lang"].flatMap({ Language(rawValue: String($0)) }) { return (asked, true) }
        if let cookie = request.cookies["ntmwatch_lang"].flatMap({ Language(rawValue: $0.value) }) { return (cookie, false) }
        let accept = request.headers[.acceptLanguage]?.lowercased() ?? ""
        let first = accept.split(separator: ",").first.map { $0.split(separator: ";")[0].trimmingCharacters(in: .whitespaces) } ?? ""
        return (first.hasPrefix("en") ? .en : .vi, false)
    }

    func principal(_ request: Request, _ context: ConsoleRequestContext) async -> ConsoleAuth.Principal? {
        guard auth.loginConfigured else { return nil }
        let proxyUser = auth.proxyUserHeader.flatMap { name in
            request.headers.first { $0.name.canonicalName == name.lowercased() }?.value
        }
        return await auth.user(sessionToken: request.cookies[ConsoleAuth.cookie]?.value, proxyUser: proxyUser,
                               peer: context.remoteAddress?.ipAddress)
    }

    struct Page {
        var title: String
        var body: HTMLText
    }

    func respond(_ request: Request, _ context: ConsoleRequestContext, status: HTTPResponse.Status = .ok,
                 _ build: (Words, ConsoleAuth.Principal?) async throws -> Page) async throws -> Response {
        let (language, remember) = Self.language(request)
        let words = Words(language: language)
        let principal = await principal(request, context)
        let page: Page
        do {
            page = try await build(words, principal)
        } catch let missing as NotFound {
            return try await respond(request, context, status: .notFound) { t, _ in
                Page(title: t("Không tìm thấy", "Not found"), body: "<p>\(missing.what(t))</p>")
            }
        } catch {
            // The store or the state could not be read: say so on the page, without secrets.
            let reason = Redaction.redact("\(error)")
            return Self.html(.internalServerError, layout(Page(title: words("Không đọc được dữ liệu", "The data could not be read"), body: """
                <p class="error">\(reason)</p><p>\(words("Xem nhật ký của ntmwatchd (journalctl -u ntmwatchd) và kho dữ liệu.",
                                                           "See ntmwatchd's log (journalctl -u ntmwatchd) and the store."))</p>
                """), words: words, principal: principal, path: request.uri.path))
        }
        var response = Self.html(status, layout(page, words: words, principal: principal, path: request.uri.path))
        if remember {
            response.setCookie(Cookie(name: "ntmwatch_lang", value: language.rawValue, path: "/", httpOnly: true, sameSite: .strict))
        }
        return response
    }

    struct NotFound: Error {
        let vi: String, en: String
        func what(_ t: Words) -> String { t(vi, en) }
    }

    static func html(_ status: HTTPResponse.Status, _ text: HTMLText) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        // Nothing from elsewhere, no script at all, no framing by other sites.
        headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        headers[.init("X-Content-Type-Options")!] = "nosniff"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text.html)))
    }

    func layout(_ page: Page, words t: Words, principal: ConsoleAuth.Principal?, path: String) -> HTMLText {
        let other: Language = t.language == .vi ? .en : .vi
        let account: HTMLText
        if let principal, principal.viaProxy {
            account = "<span>\(principal.user)</span>"
        } else if let principal {
            account = """
                <form method="post" action="/logout" class="inline"><input type="hidden" name="csrf" value="\(auth.csrfToken(for: principal))">\
                <span>\(principal.user)</span> <button type="submit">\(t("Đăng xuất", "Log out"))</button></form>
                """
        } else if auth.loginConfigured {
            account = "<a href=\"/login\">\(t("Đăng nhập", "Log in"))</a>"
        } else {
            account = "<span class=\"muted\">\(t("Chỉ xem", "Read-only"))</span>"
        }
        return """
            <!doctype html>
            <html lang="\(t.language.rawValue)"><head><meta charset="utf-8">\
            <meta name="viewport" content="width=device-width, initial-scale=1">\
            <title>\(page.title) · ntmwatch</title><link rel="stylesheet" href="/static/console.css">\
            <link rel="icon" href="/static/icon.svg" type="image/svg+xml"></head>
            <body><header><nav><a href="/">\(t("Tổng quan", "Overview"))</a> <a href="/checks">\(t("Kiểm tra", "Checks"))</a> \
            <a href="/freshness">\(t("Dữ liệu", "Data"))</a> <a href="/targets">\(t("Mục tiêu", "Targets"))</a> \
            <a href="\(path)?lang=\(other.rawValue)" hreflang="\(other.rawValue)">\(other == .en ? "English" : "Tiếng Việt")</a> \(account)</nav></header>
            <main><h1>\(page.title)</h1>
            \(page.body)</main></body></html>
            """
    }

    // MARK: Routes

    public func register(on router: Hummingbird.Router<ConsoleRequestContext>) {
        router.get("/") { request, context in try await respond(request, context) { t, _ in try await overview(t) } }
        router.get("/area/:id") { request, context in
            let id = context.parameters.get("id") ?? ""
            return try await respond(request, context) { t, _ in try await area(id, t) }
        }
        router.get("/commune/:id") { request, context in
            let id = context.parameters.get("id") ?? ""
            return try await respond(request, context) { t, _ in try await commune(id, t) }
        }
        router.get("/alert/:fingerprint") { request, context in
            let fingerprint = context.parameters.get("fingerprint") ?? ""
            return try await respond(request, context) { t, principal in try await alert(fingerprint, t, principal: principal) }
        }
        router.get("/checks") { request, context in try await respond(request, context) { t, _ in try await checks(t) } }
        router.get("/freshness") { request, context in try await respond(request, context) { t, _ in try await freshness(t) } }
        router.get("/targets") { request, context in try await respond(request, context) { t, _ in try await targets(t) } }
        router.get("/static/console.css") { _, _ in Self.asset(ConsoleAssets.css, type: "text/css; charset=utf-8") }
        router.get("/static/icon.svg") { _, _ in Self.asset(ConsoleAssets.icon, type: "image/svg+xml") }
        router.get("/login") { request, context in try await respond(request, context) { t, _ in loginPage(t) } }
        router.post("/login") { request, context in try await login(request, context) }
        router.post("/logout") { request, context in try await logout(request, context) }
        registerSilences(on: router)
    }

    static func asset(_ text: String, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "max-age=3600"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    // MARK: Forms

    /// `application/x-www-form-urlencoded`, at most 16 KiB.
    static func form(_ request: Request) async throws -> [String: String] {
        var request = request
        let buffer = try await request.collectBody(upTo: 16 * 1024)
        let text = String(buffer: buffer)
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            fields[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }

    /// A state-changing request must come from one of our own pages: the Origin (or, without it,
    /// the Referer) names this host.
    static func sameOrigin(_ request: Request) -> Bool {
        guard let host = request.head.authority else { return false }
        let expected = ["http://\(host)", "https://\(host)"]
        if let origin = request.headers[.origin] { return expected.contains(origin) }
        if let referer = request.headers[.referer] { return expected.contains { referer == $0 || referer.hasPrefix($0 + "/") } }
        return false
    }

    static func refused(_ why: String) -> Response { StatusServer.text(.forbidden, why + "\n") }

    static func redirect(_ location: String) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    /// Every state-changing request passes here: a login must be configured, the request must
    /// come from our own page, carry the session's CSRF token and a signed-in user.
    func authorize(_ request: Request, _ context: ConsoleRequestContext) async throws -> (ConsoleAuth.Principal, [String: String])? {
        guard auth.loginConfigured, Self.sameOrigin(request), let principal = await principal(request, context) else { return nil }
        let fields = try await Self.form(request)
        guard auth.checkCSRF(fields["csrf"], for: principal) else { return nil }
        return (principal, fields)
    }

    enum LoginRefusal {
        case wrongPassword
        case tooMany(retryAfter: Int)
    }

    func loginPage(_ t: Words, refused: LoginRefusal? = nil) -> Page {
        guard auth.loginConfigured, !auth.passwords.isEmpty else {
            return Page(title: t("Đăng nhập", "Log in"), body: """
                <p>\(t("Bảng điều khiển này chỉ để xem: chưa cấu hình đăng nhập (http.console.password_file).",
                       "This console is read-only: no login is configured (http.console.password_file)."))</p>
                """)
        }
        let error: HTMLText = switch refused {
        case nil: ""
        case .wrongPassword: "<p class=\"error\">\(t("Sai tên hoặc mật khẩu.", "Wrong user or password."))</p>"
        case .tooMany(let seconds):
            """
            <p class="error">\(t("Đã đăng nhập sai quá nhiều lần từ máy này hoặc với tên này. Hãy thử lại sau \((seconds + 59) / 60) phút.",
                                "Too many failed logins from this address or for this user. Try again in \((seconds + 59) / 60) minutes."))</p>
            """
        }
        return Page(title: t("Đăng nhập", "Log in"), body: """
            \(error)<form method="post" action="/login" class="login">\
            <label>\(t("Tên đăng nhập", "User")) <input name="user" autocomplete="username" required></label>\
            <label>\(t("Mật khẩu", "Password")) <input name="password" type="password" autocomplete="current-password" required></label>\
            <button type="submit">\(t("Đăng nhập", "Log in"))</button></form>
            """)
    }

    func login(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        // The login form has no session yet; SameSite=Strict and the Origin check keep other sites out.
        guard !auth.passwords.isEmpty, Self.sameOrigin(request) else {
            return Self.refused("403: the console is read-only, or the form did not come from this console")
        }
        let fields = try await Self.form(request)
        let user = fields["user"] ?? ""
        let attempt: LoginLimiter.Attempt
        switch await auth.limiter.admit(user: user, address: clientAddress(request, context)) {
        case .refused(let seconds):
            // Refused before bcrypt runs: the right password gets no answer either, so guessing stops here.
            var response = try await respond(request, context, status: .tooManyRequests) { t, _ in loginPage(t, refused: .tooMany(retryAfter: seconds)) }
            response.headers[.retryAfter] = String(seconds)
            return response
        case .admitted(let admitted):
            attempt = admitted
        }
        guard let token = await auth.login(user: user, password: fields["password"] ?? "") else {
            return try await respond(request, context, status: .unauthorized) { t, _ in loginPage(t, refused: .wrongPassword) }
        }
        await auth.limiter.succeeded(attempt)
        var response = Self.redirect("/")
        response.setCookie(Cookie(name: ConsoleAuth.cookie, value: token, maxAge: Int(ConsoleAuth.sessionLifetime), path: "/",
                                  httpOnly: true, sameSite: .strict))
        return response
    }

    /// Whom the login limit counts: the peer, or behind a trusted proxy the client it names last
    /// in X-Forwarded-For (otherwise one person's wrong passwords would lock out the whole office).
    func clientAddress(_ request: Request, _ context: ConsoleRequestContext) -> String? {
        let peer = context.remoteAddress?.ipAddress
        if let peer, auth.trustedProxies.contains(peer),
           let forwarded = request.headers[.init("X-Forwarded-For")!]?.split(separator: ",").last {
            return String(forwarded).trimmingCharacters(in: .whitespaces)
        }
        return peer
    }

    func logout(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        guard try await authorize(request, context) != nil else {
            return Self.refused("403: not signed in, or the form's token or origin is not this console's")
        }
        if let token = request.cookies[ConsoleAuth.cookie]?.value { await auth.logout(token) }
        var response = Self.redirect("/")
        response.setCookie(Cookie(name: ConsoleAuth.cookie, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .strict))
        return response
    }
}
