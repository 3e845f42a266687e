import Foundation
import Testing
@testable import NTMStore

/// An import is one transaction on the connection that writes it: a failure the store itself
/// raises (not the validator) in a later file of a folder leaves nothing of the earlier files,
/// and leaves the store free for the next import.
@Suite struct ImportTransactionTests {
    @Test(arguments: Backend.available)
    func aStoreErrorInALaterFileUndoesTheWholeFolder(backend: Backend) async throws {
        let scratch = try await ScratchStore(backend)
        // Surveys come late in the sample's dependency order, after units, assessments and projects.
        try await scratch.store.withConnection(.readWrite) { connection in
            switch backend {
            case .sqlite:
                try await connection.sql.raw("""
                    CREATE TRIGGER refuse_surveys BEFORE INSERT ON surveys BEGIN SELECT RAISE(ABORT, 'refused by the test'); END
                    """).run()
            case .postgres:
                try await connection.sql.raw("""
                    CREATE FUNCTION refuse_surveys() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$ LANGUAGE plpgsql
                    """).run()
                try await connection.sql.raw("""
                    CREATE TRIGGER refuse_surveys BEFORE INSERT ON surveys FOR EACH ROW EXECUTE FUNCTION refuse_surveys()
                    """).run()
            }
        }
        let importer = Importer(store: scratch.store)
        await #expect(throws: (any Error).self) { try await importer.importFolder(ScratchStore.sampleFolder) }
        for table in ["units", "assessments", "projects", "surveys", "import_log"] {
            #expect(try await scratch.count(table) == 0, "\(table)")
        }
        try await scratch.store.withConnection(.readWrite) { connection in
            try await connection.sql.raw("DROP TRIGGER refuse_surveys\(unsafeRaw: backend == .postgres ? " ON surveys" : "")").run()
        }
        let reports = try await importer.importFolder(ScratchStore.sampleFolder)
        #expect(try await scratch.count("units") == 140)
        #expect(try await scratch.count("import_log") == reports.count)
        await scratch.remove()
    }

    @Test(arguments: Backend.available)
    func aDryRunOfAFolderCountsEverythingAndWritesNothing(backend: Backend) async throws {
        let scratch = try await ScratchStore(backend)
        let importer = Importer(store: scratch.store)
        let rehearsal = try await importer.importFolder(ScratchStore.sampleFolder, dryRun: true)
        #expect(rehearsal.allSatisfy { $0.dryRun })
        #expect(rehearsal.first { $0.kind == .units }?.inserted == 140)
        for table in ["units", "assessments", "import_log"] {
            let rows = try await scratch.count(table)
            #expect(rows == 0, "\(table)")
        }
        let real = try await importer.importFolder(ScratchStore.sampleFolder)
        #expect(real.map(\.inserted) == rehearsal.map(\.inserted))
        await scratch.remove()
    }
}
