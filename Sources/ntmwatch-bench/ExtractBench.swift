import ArgumentParser
import Foundation
import NTMExtract

/// Precision, recall and date accuracy of `ntmwatch extract` against the gold lists kept with the
/// plans; the held-out plans (written apart from the rules) are reported separately.
struct ExtractBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract",
        abstract: "Duty extraction against the gold lists: precision, recall and date accuracy per document.")

    @Option(help: "The folder of plans (<name>.txt with gold/<name>.csv); its heldout/ folder is reported apart.")
    var plans = (Paths.repository as NSString).appendingPathComponent("Tests/Fixtures/plans")

    @Flag(help: "List every missed and every extra duty.")
    var verbose = false

    func run() async throws {
        print("Seeds (rules developed on these):")
        print(try FolderEvaluation(folder: plans).report(verbose: verbose))
        let heldout = (plans as NSString).appendingPathComponent("heldout")
        if FileManager.default.fileExists(atPath: heldout) {
            print("\nHeld-out plans (kept out of rule development):")
            print(try FolderEvaluation(folder: heldout).report(verbose: verbose))
        }
    }
}
