import Foundation
import NTMAlerting
import NTMDelivery
@testable import NTMWatchCore

/// A throw-away installation: module folder, seed data, state and spool folders, and a
/// configuration file, under a fresh temporary folder owned by the test's user.
struct Sandbox {
    let root: String
    let instance: String

    /// Where SwiftPM put the test bundle, and so the fixture modules and the binaries.
    static let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path

    init() throws {
        // Not under /tmp: modules in a folder others can write to, sticky or not, are refused.
        let base = "\(Self.trustedTemporaryFolder)/\(UUID().uuidString.prefix(8).lowercased())"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        root = base
        instance = "test-\(UUID().uuidString.prefix(8).lowercased())"
        for folder in ["modules", "seed", "state", "spool"] {
            try FileManager.default.createDirectory(atPath: path(folder), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        }
        try write("seed/units.csv", Self.units)
    }

    /// In the checkout's build folder, which only its owner can write; short, since a socket's
    /// path (the notify socket in the sandbox) has at most 107 bytes.
    static let trustedTemporaryFolder = "\(repository)/.build/sandboxes"

    func path(_ relative: String) -> String { (root as NSString).appendingPathComponent(relative) }

    func write(_ relative: String, _ text: String) throws {
        try text.write(toFile: path(relative), atomically: true, encoding: .utf8)
    }

    /// Copies a fixture library into the module folder with `mode`.
    @discardableResult
    func installModule(_ library: String, as name: String? = nil, mode: Int = 0o644) throws -> String {
        let target = path("modules/\(name ?? library)")
        try? FileManager.default.removeItem(atPath: target)
        try FileManager.default.copyItem(atPath: (Self.products as NSString).appendingPathComponent(library), toPath: target)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: target)
        return target
    }

    static let units = """
        id,name,level,parent_id,region
        QNA,Quảng Nam,province,,
        QNA.TP,Tiên Phước,district,QNA,
        QNA.TP.TL,Tiên Lãnh,commune,QNA.TP,mountain
        QNA.TP.TC,Tiên Cảnh,commune,QNA.TP,plains
        QNA.DL,Đại Lộc,district,QNA,
        QNA.DL.DC,Đại Chánh,commune,QNA.DL,mountain

        """

    /// The root of this repository's checkout.
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    /// The repository's sample province.
    static let sampleFolder = "\(repository)/Config/sample"
    /// The SQL rule modules the repository ships as examples.
    static let shippedModules = "\(repository)/Config/modules"

    /// Copies the shipped SQL rule modules into the module folder.
    func installShippedSQLModules() throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: Self.shippedModules) where name.hasSuffix(".sql.yaml") {
            try write("modules/\(name)", try String(contentsOfFile: "\(Self.shippedModules)/\(name)", encoding: .utf8))
        }
    }

    /// Runs a program to its end: its exit status and what it wrote to stdout and stderr together.
    /// Output goes to a file, not a pipe: a server another test starts at the same moment (the SMTP
    /// capture) would inherit the pipe's write end, and the read would wait for that server's end.
    static func run(_ program: String, _ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, output: String) {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("ntmwatch-run-\(UUID().uuidString)").path
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        defer { try? output.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardOutput = output
        process.standardError = output
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "")
    }

    /// A configuration with the given `checks:` YAML block (indented by two spaces).

    func configuration(checks: String = "  - module: testcheck\n", groupBy: String = "[check, rule]", interval: String = "1h",
                       seedFrom: String = "seed", groupWait: String = "0s", extra: String = "") throws -> String {
        let text = """
            instance: \(instance)
            state_directory: state
            store:
              sqlite: state/store.sqlite
              seed_from: \(seedFrom)
            modules:
              directories: [modules]
            scheduler:
              default_interval: \(interval)
              default_timeout: 120s
              max_concurrent: 2
            checks:
            \(checks)
            delivery:
              group_wait: \(groupWait)
              group_interval: 1s
              retry_initial: 1s
            receivers:
              - name: province
                directory: spool/province
              - name: tien-phuoc
                directory: spool/tien-phuoc
            route:
              receiver: province
              group_by: \(groupBy)
              routes:
                - match: {district: QNA.TP}
                  receiver: tien-phuoc
                  continue: true
                - receiver: province
            \(extra)
            """
        try write("ntmwatch.yaml", text)
        return path("ntmwatch.yaml")
    }

    func load() throws -> Configuration { try ConfigLoader.load(path: path("ntmwatch.yaml")) }

    /// The webhook files of a receiver, oldest first, decoded.
    func webhookFiles(_ receiver: String) throws -> [(name: String, payload: WebhookPayload, json: [String: Any])] {
        let folder = path("spool/\(receiver)")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        return try names.map { name in
            let data = try Data(contentsOf: URL(fileURLWithPath: (folder as NSString).appendingPathComponent(name)))
            return (name, try JSONDecoder().decode(WebhookPayload.self, from: data),
                    try JSONSerialization.jsonObject(with: data) as! [String: Any])
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}
