import Foundation
import Testing
import Synchronization
@testable import NTMStore

/// A file's records are read and checked in a task of their own while the rows already checked
/// are written: the writer gets every row in file order, nothing after the first problem, and a
/// failed write or a cancelled import stops the reading instead of leaving it to run on.
@Suite struct ImportPipelineTests {
    /// A criteria-sets file of `count` rows (no references, so no other table is needed), with
    /// an impossible date on the rows in `bad`.
    static func file(_ scratch: ScratchStore, count: Int, bad: Set<Int> = []) throws -> TabularFile {
        let rows = (1...count).map { n in
            "S\(n),Bộ \(n),Set \(n),commune,ntm,\(bad.contains(n + 1) ? "2024-02-30" : "2021-01-01"),\n"
        }
        let path = try scratch.write("criteria-sets.csv", "id,name_vi,name_en,unit_level,tier,valid_from,valid_to\n" + rows.joined())
        return try TabularFile.read(path: path)
    }

    static func validator(_ file: TabularFile, _ scratch: ScratchStore) async throws -> RowValidator {
        var validator = try await RowValidator(kind: .criteriaSets, spec: KindSpec.spec(for: .criteriaSets), file: file,
                                               database: SQLiteImportDatabase(path: scratch.sqlitePath!))
        validator.checkHeaders()
        return validator
    }

    @Test func everyRowReachesTheWriterInFileOrder() async throws {
        let scratch = try await ScratchStore()
        let file = try Self.file(scratch, count: 1_300)
        var batches: [[String]] = []
        let problems = try await Importer.checking(file, with: try await Self.validator(file, scratch), progress: nil) { rows in
            batches.append(rows.map { $0["id"]?.text ?? "?" })
        }
        #expect(problems.isEmpty)
        #expect(batches.map(\.count) == [Importer.handOff, Importer.handOff, 1_300 - 2 * Importer.handOff])
        #expect(batches.flatMap { $0 } == (1...1_300).map { "S\($0)" })
        await scratch.remove()
    }

    /// Rows 600 and 1,200 are refused: both are reported, and only the batch made before the
    /// first reached the writer.
    @Test func afterTheFirstProblemNothingIsWrittenButEveryProblemIsFound() async throws {
        let scratch = try await ScratchStore()
        let file = try Self.file(scratch, count: 1_300, bad: [600, 1_200])
        var written = 0
        let problems = try await Importer.checking(file, with: try await Self.validator(file, scratch), progress: nil) { rows in
            written += rows.count
        }
        #expect(problems.map(\.row) == [600, 1_200])
        #expect(written == Importer.handOff)
        await scratch.remove()
    }

    struct WriteFailed: Error {}

    /// The reading is at most a batch or two ahead of a writer that fails: it is cancelled and
    /// ends, rather than checking the other 90,000 rows for nothing.
    @Test func aFailedWriteStopsTheReading() async throws {
        let scratch = try await ScratchStore()
        let file = try Self.file(scratch, count: 100_000)
        let furthest = Furthest()
        var batches = 0
        await #expect(throws: WriteFailed.self) {
            try await Importer.checking(file, with: try await Self.validator(file, scratch), progress: { done, _ in furthest.saw(done) }) { _ in
                batches += 1
                if batches == 2 { throw WriteFailed() }
            }
        }
        #expect(batches == 2)
        #expect(furthest.value < 10_000, "read \(furthest.value) of 100,000 rows after the write failed")
        await scratch.remove()
    }

    /// After a problem the reading sends nothing more, so it must notice a failed write on its
    /// own: a row refused early, then the writer failing on the batch before it once the
    /// reading is past the problem.
    @Test func aFailedWriteAfterAProblemStillStopsTheReading() async throws {
        let scratch = try await ScratchStore()
        let file = try Self.file(scratch, count: 50_000, bad: [600])
        let furthest = Furthest()
        await #expect(throws: WriteFailed.self) {
            try await Importer.checking(file, with: try await Self.validator(file, scratch), progress: { done, _ in furthest.saw(done) }) { _ in
                while furthest.value < 2_048 { try await Task.sleep(for: .milliseconds(1)) }
                throw WriteFailed()
            }
        }
        #expect(furthest.value < 25_000, "read \(furthest.value) of 50,000 rows after the write failed")
        await scratch.remove()
    }

    /// An import cancelled while it writes (the daemon stopping) throws; it never returns as if
    /// the file had ended, which would commit part of it.
    @Test func aCancelledImportThrowsAndDoesNotEndEarly() async throws {
        let scratch = try await ScratchStore()
        let file = try Self.file(scratch, count: 5_000)
        let validator = try await Self.validator(file, scratch)
        let importing = Task {
            var written = 0
            _ = try await Importer.checking(file, with: validator, progress: nil) { rows in
                written += rows.count
                if written == Importer.handOff { withUnsafeCurrentTask { $0?.cancel() } }
            }
            return written
        }
        await #expect(throws: CancellationError.self) { try await importing.value }
        await scratch.remove()
    }
}

/// The furthest progress reported, from the reading task.
final class Furthest: Sendable {
    private let furthest = Mutex(0)
    func saw(_ done: Int) { furthest.withLock { $0 = max($0, done) } }
    var value: Int { furthest.withLock { $0 } }
}
