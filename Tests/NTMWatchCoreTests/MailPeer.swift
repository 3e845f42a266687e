import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real SMTP server on loopback (Debian's aiosmtpd, with Debian's Python) that stores every
/// message in a maildir, and an msmtp configuration that sends to it.
final class MailPeer: @unchecked Sendable {
    let port: Int
    let maildir: String
    let msmtprc: String
    private let process: Process

    static let python = "/usr/bin/python3"
    static let parser = "\(Sandbox.repository)/Tests/Peers/parse_mail.py"

    init(in sandbox: Sandbox) throws {
        maildir = sandbox.path("maildir")
        msmtprc = sandbox.path("msmtprc")
        var started: (Int, Process)?
        for _ in 0..<20 where started == nil {
            let port = Int.random(in: 20_000...60_000)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.python)
            process.arguments = ["-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(port)", "-c", "aiosmtpd.handlers.Mailbox", maildir]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            if Self.waitForListener(port: port, while: process) { started = (port, process) } else { Self.kill(process) }
        }
        guard let (port, process) = started else { throw Unavailable() }
        self.port = port
        self.process = process
        try """
            defaults
            auth off
            tls off
            account default
            host 127.0.0.1
            port \(port)
            from ntmwatch@tinh.example

            """.write(toFile: msmtprc, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: msmtprc)
    }

    struct Unavailable: Error {}

    private static func waitForListener(port: Int, while process: Process) -> Bool {
        for _ in 0..<100 {
            guard process.isRunning else { return false }
            let probe = try? Sandbox.run(python, ["-c", "import socket; socket.create_connection(('127.0.0.1', \(port)), 1)"])
            if probe?.status == 0 { return true }
            usleep(100_000)
        }
        return false
    }

    struct Part: Decodable { let type: String; let charset: String?; let encoding: String?; let content: String }
    struct Message: Decodable {
        let raw_subject: String, subject: String, from: String, to: [String], rcpt_to: [String], message_id: String
        let notification_ids: [String], content_type: String, defects: [String], parts: [Part]
    }

    /// Every captured message, parsed by Python's `email` package.
    func messages() throws -> [Message] {
        guard FileManager.default.fileExists(atPath: "\(maildir)/new") else { return [] }
        let result = try Sandbox.run(Self.python, [Self.parser, maildir])
        guard result.status == 0 else { throw ParseFailed(output: result.output) }
        return try JSONDecoder().decode([Message].self, from: Data(result.output.utf8))
    }

    struct ParseFailed: Error { let output: String }

    /// A receiver's `email:` block that sends through this peer.
    func email(to: String) -> String {
        "{to: [\(to)], from: ntmwatch@tinh.example, sendmail: /usr/bin/msmtp, sendmail_arguments: [-C, \(msmtprc)], timeout: 20s, templates: templates}"
    }

    /// A configuration running the test module once, without journald, with these receivers and route.
    static func configure(_ sandbox: Sandbox, receivers: String, route: String = "") throws {
        try sandbox.write("ntmwatch.yaml", """
            instance: \(sandbox.instance)
            state_directory: state
            store: {sqlite: state/store.sqlite, seed_from: seed}
            modules: {directories: [modules]}
            journald: false
            checks:
              - module: testcheck
            delivery: {group_wait: 0s, group_interval: 1s, retry_initial: 1s}
            receivers:
            \(receivers)
            \(route)
            """)
    }

    /// SIGKILL, not SIGTERM: a process started from a test inherits the spawning thread's signal
    /// mask, and on libdispatch's worker threads SIGTERM is blocked, so aiosmtpd never saw a
    /// SIGTERM and `waitUntilExit()` spun at full CPU for ever (the hung suites of issue 18). The
    /// maildir is written message by message, so nothing is lost.
    func stop() { Self.kill(process) }

    private static func kill(_ process: Process) {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}
