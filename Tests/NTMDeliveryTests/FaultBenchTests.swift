import Foundation
import Testing

/// The fault benchmark's small version: `ntmwatch-bench faults` (a built binary) kills the daemon
/// five times and must find nothing lost, repeated, torn or left behind.
@Suite struct FaultBenchTests {
    @Test func fiveKillsLoseAndRepeatNothing() throws {
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        let bench = (products as NSString).appendingPathComponent("ntmwatch-bench")
        try #require(FileManager.default.isExecutableFile(atPath: bench), "build everything first: swift build --build-tests")
        let result = try Scratch.run(bench, ["faults", "--kills", "5", "--seconds", "60", "--drain-seconds", "60", "--seed", "7"])
        let lines = Set(result.output.split(separator: "\n").map(String.init))
        // A SIGKILL between the receiver's 2xx and the ledger's commit sends that batch again with
        // its first Idempotency-Key; the receiver answers it without taking it twice.
        #expect(result.status == 0, "\(result.output)")
        #expect(lines.contains { $0.hasPrefix("http: delivered ") && $0.hasSuffix(", lost 0, duplicated 0") }, "\(result.output)")
        #expect(lines.contains("kills\t5"), "\(result.output)")
        #expect(lines.contains("files: delivered 0, lost 0, duplicated 0") == false, "nothing was delivered: \(result.output)")
        for line in ["corrupt files\t0", "leftover temporary files\t0", "bad signatures\t0", "still pending after the drain\t0"] {
            #expect(lines.contains(line), "\(result.output)")
        }
        #expect(lines.contains { $0.hasPrefix("files: delivered ") && $0.hasSuffix(", lost 0, duplicated 0") }, "\(result.output)")
        #expect(lines.contains { $0.hasPrefix("http: delivered ") && $0.contains(", lost 0, ") }, "\(result.output)")
        let recorded = lines.first { $0.hasPrefix("notifications recorded\t") }.flatMap { Int($0.split(separator: "\t")[1]) } ?? 0
        #expect(recorded > 0, "\(result.output)")
    }
}
