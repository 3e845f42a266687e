import Foundation
import Testing
import NTMAlerting
import NTMDelivery
@testable import NTMWatchCore

/// `ntmwatch new-module`: the folder it writes, the line it adds to Package.swift, and that the
/// generated module compiles against the SDK the daemon ships (the same CheckKit module the
/// built-in modules use).
@Suite struct ModuleScaffoldTests {
    func scratchRoot() throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ntmwatch-scaffold-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(Sandbox.repository)/Package.swift", toPath: "\(root)/Package.swift")
        return root
    }

    @Test func itWritesTheModuleFolderAndRegistersItInPackageSwift() throws {
        let root = try scratchRoot(); defer { try? FileManager.default.removeItem(atPath: root) }
        let scaffold = try ModuleScaffold(name: "water_quality")
        try scaffold.write(into: root)
        for file in ["Sources/WaterQualityCheck/WaterQualityCheck.swift", "Sources/WaterQualityModule/Export.swift",
                     "Tests/WaterQualityRuleTests.swift", "README.md", "water_quality.yaml"] {
            #expect(FileManager.default.fileExists(atPath: "\(root)/Plugins/water_quality/\(file)"), "\(file)")
        }
        let manifest = try String(contentsOfFile: "\(root)/Package.swift", encoding: .utf8)
        #expect(manifest.contains("    (\"water_quality\", \"WaterQualityCheck\", \"WaterQualityModule\"),\n]"))
        #expect(throws: (any Error).self) { try scaffold.write(into: root) }          // never overwrites
        #expect(throws: ModuleScaffold.Failure.self) { try ModuleScaffold(name: "Water-Quality") }
        #expect(throws: (any Error).self) { try ModuleScaffold(name: "x").write(into: FileManager.default.temporaryDirectory.path) }
    }

    @Test func theGeneratedModuleCompilesAgainstTheSDK() throws {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        let compiler = try #require(path.map { "\($0)/swiftc" }.first { FileManager.default.isExecutableFile(atPath: $0) }, "needs swiftc on PATH")
        let sdk = "\(Sandbox.products)/Modules"
        try #require(FileManager.default.fileExists(atPath: "\(sdk)/CheckKit.swiftmodule"), "needs the built CheckKit module in \(sdk)")
        let root = try scratchRoot(); defer { try? FileManager.default.removeItem(atPath: root) }
        let scaffold = try ModuleScaffold(name: "water_quality")
        try scaffold.write(into: root)
        let sources = "\(root)/Plugins/water_quality/Sources"
        func compile(_ arguments: [String]) throws -> (status: Int32, output: String) { try Sandbox.run(compiler, arguments) }
        let check = try compile(["-emit-module", "-parse-as-library", "-module-name", "WaterQualityCheck", "-swift-version", "6", "-I", sdk,
                                "-emit-module-path", "\(root)/WaterQualityCheck.swiftmodule", "\(sources)/WaterQualityCheck/WaterQualityCheck.swift"])
        #expect(check.status == 0, "\(check.output)")
        let export = try compile(["-typecheck", "-parse-as-library", "-module-name", "WaterQualityModule", "-swift-version", "6", "-I", sdk, "-I", root,
                                 "\(sources)/WaterQualityModule/Export.swift"])
        #expect(export.status == 0, "\(export.output)")
    }
}
