import CheckKit
import Foundation
import Testing
import NTMDelivery
@testable import NTMWatchCore

/// The receiver part of the configuration: files or HTTP, the HMAC secret, Alertmanagers.
@Suite struct HTTPReceiverConfigTests {
    func parse(_ receivers: String, folder: String) throws(ConfigError) -> Configuration {
        try ConfigLoader.parse("""
            store:
              sqlite: store.sqlite
            receivers:
            \(receivers)
            route:
              receiver: hook
            alertmanagers:
              - url: http://127.0.0.1:9093
                resend_interval: 30s
            """, path: "\(folder)/ntmwatch.yaml")
    }

    @Test func anHTTPReceiverWithASecretFile() throws {
        let folder = try Scratch.folder()
        _ = try Scratch.secret("s3cret\n", in: folder, name: "hook.key")
        let configuration = try parse("""
              - name: hook
                http:
                  url: https://hooks.example.vn/ntm
                  headers: {X-Office: "Sở NN&PTNT"}
                  secret_file: hook.key
                  timeout: 5s
                  max_alerts: 50
            """, folder: folder)
        guard case .http(let http)? = configuration.receivers.first?.integration else {
            Issue.record("not an HTTP receiver")
            return
        }
        #expect(http.url.absoluteString == "https://hooks.example.vn/ntm" && http.timeout == .seconds(5) && http.maxAlerts == 50)
        #expect(http.headers == ["X-Office": "Sở NN&PTNT"])
        #expect(http.secret == SecretSource.file("\(folder)/hook.key"))
        #expect(try http.secret?.read() == Data("s3cret".utf8))
        #expect(configuration.alertmanagers.map(\.resendInterval) == [.seconds(30)])
        #expect(configuration.alertmanagers.map(\.timeout) == [.seconds(10)])
    }

    @Test func aSecretFileEveryoneCanReadIsRefused() throws {
        let folder = try Scratch.folder()
        let path = try Scratch.secret("s3cret", in: folder, name: "hook.key")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        let error = try #require(throws: ConfigError.self) {
            try parse("  - name: hook\n    http: {url: http://127.0.0.1:1/x, secret_file: hook.key}", folder: folder)
        }
        #expect(error.line == 5 && error.key == "receivers[0].http.secret_file", "\(error)")
        #expect(error.text(in: .vi).contains("chmod o-rwx \(path)"))
        #expect(!error.text(in: .en).contains("s3cret"))
    }

    @Test(arguments: [
        ("  - name: hook\n    directory: spool\n    http: {url: http://127.0.0.1:1/x}", "receivers[0].directory"),
        ("  - name: hook", "receivers[0].directory"),
        ("  - name: hook\n    http: {url: ftp://127.0.0.1/x}", "receivers[0].http.url"),
        ("  - name: hook\n    http: {url: 'http://u:pw@:1/x'}", "receivers[0].http.url"),
        ("  - name: hook\n    http: {url: http://127.0.0.1:1/x, secret_credential: a/b}", "receivers[0].http.secret_credential"),
        ("  - name: hook\n    http: {url: http://127.0.0.1:1/x, secret_credential: a, secret_file: b}", "receivers[0].http.secret_credential"),
        ("  - name: hook\n    http: {url: http://127.0.0.1:1/x, headers: {X-NTMWatch-Signature: x}}", "receivers[0].http.headers.X-NTMWatch-Signature"),
        ("  - name: hook\n    http: {url: http://127.0.0.1:1/x, tls: true}", "receivers[0].http.tls"),
    ])
    func mistakesNameTheKey(receivers: String, key: String) throws {
        let folder = try Scratch.folder()
        let error = try #require(throws: ConfigError.self) { try parse(receivers, folder: folder) }
        #expect(error.key == key, "\(error)")
        #expect(error.line != nil)
        #expect(!error.text(in: .en).contains("pw"))
    }

    @Test func aSystemdCredentialIsReadFromCredentialsDirectory() throws {
        let folder = try Scratch.folder()
        _ = try Scratch.secret("from-systemd\n", in: folder, name: "ntmwatch-hook")
        let configuration = try parse("  - name: hook\n    http: {url: http://127.0.0.1:1/x, secret_credential: ntmwatch-hook}", folder: folder)
        guard case .http(let http)? = configuration.receivers.first?.integration, let secret = http.secret else {
            Issue.record("not an HTTP receiver with a secret")
            return
        }
        #expect(try secret.read(environment: ["CREDENTIALS_DIRECTORY": folder]) == Data("from-systemd".utf8))
        let missing = try #require(throws: SecretError.self) { try secret.read(environment: [:]) }
        #expect(missing.text(in: .en).contains("LoadCredential=ntmwatch-hook:"))
    }
}
