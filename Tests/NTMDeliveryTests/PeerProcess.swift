import CheckKit
import Foundation
import Testing
@testable import NTMWatchCore
@testable import NTMAlerting
#if canImport(Glibc)
import Glibc
#endif

/// The repository's root and a fresh temporary folder per test.
enum Scratch {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static func folder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ntmwatch-delivery-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A file only its owner may read, as a secret must be.
    static func secret(_ text: String, in folder: String, name: String = "secret") throws -> String {
        let path = (folder as NSString).appendingPathComponent(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        return path
    }

    /// Runs a program to its end and returns its exit status and output. The output goes through
    /// a file, not a pipe: a server another test spawns at the same moment would inherit the
    /// pipe's write end and the read would never see its end.
    @discardableResult
    static func run(_ program: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("ntmwatch-run-\(UUID().uuidString)").path
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        defer { try? output.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = output
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "")
    }
}

/// A server started by a test, stopped by its pid when the test ends.
final class PeerProcess: @unchecked Sendable {
    let process = Process()
    let logPath: String

    init(_ program: String, _ arguments: [String], log: String) throws {
        logPath = log
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    /// The first line of the log, once the peer wrote it (the flaky receiver prints its port).
    func firstLine(within limit: Duration = .seconds(60)) async throws -> String {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if let end = text.firstIndex(of: "\n") { return String(text[..<end]) }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw PeerFailed(message: "the peer did not start: \(log())")
    }

    func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func stop() {
        // SIGKILL: peers started from the test process ignored SIGTERM here (a blocked signal mask is
        // inherited), and a test must never wait on a peer. Peers keep nothing worth a clean stop.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    struct PeerFailed: Error, CustomStringConvertible { let message: String; var description: String { message } }
}

/// `Tests/Peers/flaky_receiver.py`, on a free loopback port.
final class FlakyReceiver: @unchecked Sendable {
    let peer: PeerProcess
    let port: Int
    var url: URL { URL(string: "\(scheme)://127.0.0.1:\(port)/hook")! }
    let scheme: String

    struct Counts: Decodable {
        struct Entry: Decodable { let time: Double; let outcome: String; let ids: [String] }
        let requests: Int
        let accepted: Int
        let duplicates: Int
        let replays: Int
        let bad_signatures: Int
        let ids: [String: Int]
        let log: [Entry]
    }

    init(folder: String, arguments: [String] = [], tls: (cert: String, key: String)? = nil) async throws {
        var arguments = arguments
        if let tls { arguments += ["--tls-cert", tls.cert, "--tls-key", tls.key] }
        scheme = tls == nil ? "http" : "https"
        peer = try PeerProcess("/usr/bin/python3", ["\(Scratch.repository)/Tests/Peers/flaky_receiver.py"] + arguments,
                               log: (folder as NSString).appendingPathComponent("receiver.log"))
        guard let port = Int(try await peer.firstLine()) else { throw PeerProcess.PeerFailed(message: peer.log()) }
        self.port = port
    }

    /// Read with curl so that a TLS receiver with a self-signed certificate needs no trust setup.
    func counts() throws -> Counts {
        let result = try Scratch.run("/usr/bin/curl", ["-sk", "\(scheme)://127.0.0.1:\(port)/counts"])
        return try JSONDecoder().decode(Counts.self, from: Data(result.output.utf8))
    }

    func script(_ steps: [String]) throws {
        let body = String(decoding: try JSONEncoder().encode(["script": steps]), as: UTF8.self)
        try Scratch.run("/usr/bin/curl", ["-sk", "-d", body, "\(scheme)://127.0.0.1:\(port)/control"])
    }

    func stop() { peer.stop() }
}

enum Fixtures {
    static func alert(_ id: String, status: Alert.Status = .firing, at: Date = Date(), district: String = "QNA.TP") -> Alert {
        Alert(fingerprint: Fingerprint.of(["subject_id": id]), scope: "deadline", check: "deadline", ruleID: "deadline.overdue",
              messageID: "0f3c", labels: ["check": "deadline", "rule": "deadline.overdue", "subject_id": id, "district": district],
              subject: Subject(kind: "unit", id: id, name: "Tiên Lãnh"), severity: .warning, status: status,
              activeSince: at.addingTimeInterval(-600), firingSince: at.addingTimeInterval(-300),
              resolvedAt: status == .resolved ? at : nil, lastNotifiedAt: nil, lastNotifiedSeverity: nil,
              values: ["days_overdue": .integer(7)],
              message: .rendered(LocalizedText(vi: "Tiên Lãnh: quá hạn 7 ngày", en: "Tiên Lãnh: 7 days overdue")), source: "002 §V")
    }

    static func group(_ ids: [String], receiver: String = "hook") -> NotificationGroup {
        let at = Date()
        return NotificationGroup(
            receiver: receiver, groupKey: "{0}:{check=\"deadline\",district=\"Đại Lộc\"}", groupLabels: ["check": "deadline"],
            notifications: ids.map { Notification(id: "\($0)-firing", reason: .firing, at: at, alert: alert($0, at: at)) })
    }
}
