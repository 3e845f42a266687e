import CheckKit
import Foundation
import Testing
import NTMAlerting
import NTMDelivery
@testable import NTMWatchCore

@Suite struct ConfigTests {
    static let valid = """
        instance: tinh-qna
        store:
          sqlite: /var/lib/ntmwatch/store.sqlite
        checks:
          - module: deadline
            interval: 15m
        receivers:
          - name: province
            directory: /var/spool/ntmwatch/province
        route:
          receiver: province
        """

    func error(_ text: String) -> ConfigError? {
        do {
            _ = try ConfigLoader.parse(text, path: "/etc/ntmwatch/ntmwatch.yaml")
            return nil
        } catch {
            return error
        }
    }

    @Test func aValidFileLoadsWithDefaults() throws {
        let configuration = try ConfigLoader.parse(Self.valid, path: "/etc/ntmwatch/ntmwatch.yaml")
        #expect(configuration.instance == "tinh-qna")
        #expect(configuration.checks.map(\.name) == ["deadline"])
        #expect(configuration.checks.first?.interval == .seconds(900))
        #expect(configuration.receivers.map(\.name) == ["province"])
    }

    @Test(arguments: [
        // (replace, with, line, key fragment)
        ("    interval: 15m", "    interval: soon", 6, "interval"),
        ("  - module: deadline", "  - module: deadline\n    intervall: 5m", 6, "intervall"),
        ("  receiver: province", "  receiver: district", 11, "receiver"),
        ("  - name: province", "  - name: province\n    directory: /tmp/x\n  - name: province", 10, "name"),
    ])
    func errorsNameTheLineAndTheKey(replace: String, with replacement: String, line: Int, key: String) throws {
        let error = try #require(self.error(Self.valid.replacingOccurrences(of: replace, with: replacement)))
        #expect(error.line == line, "\(error)")
        #expect(error.key?.contains(key) == true, "\(error)")
        #expect(error.text(in: .vi).hasPrefix("/etc/ntmwatch/ntmwatch.yaml:\(line)"))
    }

    @Test func invalidYAMLSaysWhereTheParserStopped() throws {
        let error = try #require(self.error("instance: x\nchecks: [\n"))
        #expect(error.line != nil)
        #expect(error.text(in: .en).contains("YAML"))
    }
}
