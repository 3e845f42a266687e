import CheckKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An HTTP receiver's settings (`receivers[].http`).
public struct HTTPEndpoint: Sendable {
    public var url: URL
    public var headers: [String: String]
    /// Where the HMAC key is; requests are unsigned without one.
    public var secret: SecretSource?
    public var timeout: Duration
    /// PEM certificates trusted instead of the system's.
    public var caFile: String?
    /// At most this many alerts in one request; the rest are counted in `truncatedAlerts`.
    public var maxAlerts: Int

    public init(url: URL, headers: [String: String] = [:], secret: SecretSource? = nil, timeout: Duration = .seconds(10),
                caFile: String? = nil, maxAlerts: Int = 500) {
        self.url = url
        self.headers = headers
        self.secret = secret
        self.timeout = timeout
        self.caFile = caFile
        self.maxAlerts = maxAlerts
    }
}

/// Where a secret is read from. The secret itself is read only when it is used (each request, so a
/// rotated key needs no reload), never kept in the configuration, so nothing can print it.
public enum SecretSource: Sendable, Equatable {
    case file(String)
    /// A systemd credential (`LoadCredential=NAME:...`): `$CREDENTIALS_DIRECTORY/NAME`.
    case credential(String)
}

/// A secret that could not be read; the message names where it was looked for, never its content.
public struct SecretError: Error, Sendable, CustomStringConvertible {
    public let message: LocalizedText
    public func text(in language: Language) -> String { message.text(in: language) }
    public var description: String { message.en }
}

extension SecretSource {
    /// Refuses a file that everyone may read: a signing key others can read signs for them too.
    public static func checkPermissions(ofFile path: String) throws(SecretError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            throw SecretError(message: LocalizedText(vi: "không đọc được tệp bí mật \(path): \(reason)",
                                                     en: "cannot read the secret file \(path): \(reason)"))
        }
        guard info.st_mode & S_IROTH == 0 else {
            throw SecretError(message: LocalizedText(
                vi: "tệp bí mật \(path) ai cũng đọc được; chạy chmod o-rwx \(path)",
                en: "the secret file \(path) is readable by everyone; run chmod o-rwx \(path)"))
        }
    }

    /// The secret's bytes, without a trailing newline (editors add one).
    public func read(environment: [String: String] = ProcessInfo.processInfo.environment) throws(SecretError) -> Data {
        let path: String
        switch self {
        case .file(let file):
            path = file
        case .credential(let name):
            guard let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty else {
                throw SecretError(message: LocalizedText(
                    vi: "secret_credential \(name): biến CREDENTIALS_DIRECTORY không có; thêm LoadCredential=\(name):TỆP vào unit systemd",
                    en: "secret_credential \(name): CREDENTIALS_DIRECTORY is not set; add LoadCredential=\(name):FILE to the systemd unit"))
            }
            path = (directory as NSString).appendingPathComponent(name)
        }
        try Self.checkPermissions(ofFile: path)
        guard var data = FileManager.default.contents(atPath: path) else {
            throw SecretError(message: LocalizedText(vi: "không đọc được tệp bí mật \(path)", en: "cannot read the secret file \(path)"))
        }
        while let last = data.last, last == 0x0a || last == 0x0d { data.removeLast() }
        guard !data.isEmpty else {
            throw SecretError(message: LocalizedText(vi: "tệp bí mật \(path) trống", en: "the secret file \(path) is empty"))
        }
        return data
    }
}
