import Foundation
import Testing

/// The daemon runs on minimal systems: the workbook and report code, whose `XMLParser` loads
/// libxml2 and its ICU, belongs to `ntmwatch` only.
@Suite struct DaemonLibrariesTests {
    func libraries(_ program: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ldd")
        process.arguments = [(Sandbox.products as NSString).appendingPathComponent(program)]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "ldd \(program) failed")
        return String(decoding: data, as: UTF8.self)
    }

    @Test func theDaemonDoesNotLoadLibxml2() throws {
        let daemon = try libraries("ntmwatchd")
        #expect(!daemon.contains("libxml2"), "\(daemon)")
        #expect(!daemon.contains("FoundationXML"), "\(daemon)")
        // The command still reads workbooks: the check would pass vacuously if ldd printed nothing.
        #expect(try libraries("ntmwatch").contains("libxml2"))
    }
}
