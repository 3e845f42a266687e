import Crypto
import Foundation
import HummingbirdBcrypt

/// Who may change something from the console. Nobody, unless a login is configured: a password
/// file of bcrypt hashes (sessions in a cookie), or a reverse proxy's user header trusted only
/// from the proxy's addresses. Every form carries a CSRF token derived from the session.
public actor ConsoleAuth {
    public struct PasswordFileError: Error, CustomStringConvertible {
        public let path: String, line: Int?, problem: String
        public var description: String {
            "\(path)\(line.map { ":\($0)" } ?? ""): \(problem); each line is USER:BCRYPT-HASH (htpasswd -nbB USER PASSWORD makes one)"
        }
    }

    let passwords: [String: String]
    /// Checked against for an unknown user, so that it costs as much as a known one.
    private let unknownUserHash: String
    let proxyUserHeader: String?
    let trustedProxies: Set<String>
    /// The key the CSRF tokens are derived with; new at each start, so a restart ends the sessions.
    private let key = SymmetricKey(size: .bits256)
    private var sessions: [String: (user: String, expires: Date)] = [:]
    static let sessionLifetime: TimeInterval = 8 * 3600
    public static let cookie = "ntmwatch_session"

    /// Can anybody log in at all? Without it the console is read-only and forms are not shown.
    public nonisolated var loginConfigured: Bool { !passwords.isEmpty || proxyUserHeader != nil }

    /// Failed logins per address and per user.
    let limiter: LoginLimiter

    public init(passwordFile: String?, proxyUserHeader: String?, trustedProxies: [String]) throws {
        try self.init(passwordFile: passwordFile, proxyUserHeader: proxyUserHeader, trustedProxies: trustedProxies, limiter: LoginLimiter())
    }

    init(passwordFile: String?, proxyUserHeader: String?, trustedProxies: [String], limiter: LoginLimiter) throws {
        self.limiter = limiter
        self.passwords = try passwordFile.map(Self.readPasswords) ?? [:]
        self.unknownUserHash = passwords.values.first.map { Bcrypt.hash(Self.randomToken(), cost: UInt8($0.dropFirst(4).prefix(2)) ?? 12) } ?? ""
        self.proxyUserHeader = proxyUserHeader
        self.trustedProxies = Set(trustedProxies)
    }

    static func readPasswords(_ path: String) throws -> [String: String] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw PasswordFileError(path: path, line: nil, problem: "cannot be read (\(error.localizedDescription))")
        }
        var users: [String: String] = [:]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                throw PasswordFileError(path: path, line: index + 1, problem: "no USER: before the hash")
            }
            let hash = String(line[line.index(after: colon)...])
            // Only the hash's form is named, never the hash: it is a secret too.
            guard ["$2a$", "$2b$", "$2y$"].contains(where: hash.hasPrefix), hash.count == 60 else {
                throw PasswordFileError(path: path, line: index + 1, problem: "the field after USER: is not a bcrypt hash ($2b$…, 60 characters)")
            }
            // htpasswd writes $2y$, the same algorithm as $2b$, which is the spelling the verifier knows.
            users[String(line[..<colon])] = hash.hasPrefix("$2y$") ? "$2b$" + hash.dropFirst(4) : hash
        }
        return users
    }

    /// A new session for a correct password; nil otherwise. bcrypt is slow on purpose, so it runs
    /// off the server's event loops.
    func login(user: String, password: String) async -> String? {
        guard let hash = passwords[user] else {
            // The same work for an unknown user, so timing does not tell which users exist.
            _ = await Self.verify(password, hash: unknownUserHash)
            return nil
        }
        guard await Self.verify(password, hash: hash) else { return nil }
        let token = Self.randomToken()
        let now = Date()
        // Forgotten sessions go when someone logs in, so the table stays as small as the office.
        sessions = sessions.filter { $0.value.expires > now }
        sessions[token] = (user, now.addingTimeInterval(Self.sessionLifetime))
        return token
    }

    static func verify(_ password: String, hash: String) async -> Bool {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: Bcrypt.verify(password, hash: hash)) }
        }
    }

    func logout(_ token: String) { sessions[token] = nil }

    /// The signed-in user of a request: its session cookie, or the proxy's header when the
    /// request comes from a trusted proxy address.
    func user(sessionToken: String?, proxyUser: String?, peer: String?) -> Principal? {
        if let header = proxyUser, proxyUserHeader != nil, let peer, trustedProxies.contains(peer), !header.isEmpty {
            return Principal(user: header, binding: "proxy:\(header)")
        }
        guard let token = sessionToken, let session = sessions[token] else { return nil }
        guard session.expires > Date() else {
            sessions[token] = nil
            return nil
        }
        return Principal(user: session.user, binding: "session:\(token)")
    }

    /// The form token of a principal: an HMAC of its session, so it cannot be guessed from
    /// outside and dies with the session.
    nonisolated func csrfToken(for principal: Principal) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data(principal.binding.utf8), using: key)).map { String(format: "%02x", $0) }.joined()
    }

    nonisolated func checkCSRF(_ token: String?, for principal: Principal) -> Bool {
        guard let token else { return false }
        let expected = csrfToken(for: principal)
        // Constant time: compare every byte.
        guard token.utf8.count == expected.utf8.count else { return false }
        return zip(token.utf8, expected.utf8).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    struct Principal: Sendable {
        let user: String
        let binding: String
        /// Signed in through the proxy: logging out is the proxy's business.
        var viaProxy: Bool { binding.hasPrefix("proxy:") }
    }
}
