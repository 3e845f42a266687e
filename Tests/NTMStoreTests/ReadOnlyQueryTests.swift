import CheckKit
import Foundation
@testable import NTMStore
import Testing

/// Issue 15, item 7: a failed read-only query says what the server said, on PostgreSQL too, where
/// the driver's own description of an error is a generic text.
@Suite struct ReadOnlyQueryTests {
    @Test(arguments: Backend.available)
    func aFailedQueryReportsTheServersMessage(_ backend: Backend) async throws {
        let scratch = try await ScratchStore(backend)
        let failure = await #expect(throws: (any Error).self) {
            try await scratch.store.withReader(asOf: Date()) { try await $0.query("SELECT no_such_column FROM units", parameters: []) }
        }
        let text = "\(failure.map { "\($0)" } ?? "")"
        #expect(text.contains("no_such_column"), "\(text)")
        #expect(!text.contains("Generic description"), "\(text)")
        if backend == .postgres { #expect(text.contains("SQLSTATE 42703"), "\(text)") }
        await scratch.remove()
    }

    @Test(arguments: Backend.available)
    func aWriteInAReadOnlyQueryIsRefused(_ backend: Backend) async throws {
        let scratch = try await ScratchStore(backend)
        let failure = await #expect(throws: (any Error).self) {
            try await scratch.store.withReader(asOf: Date()) { try await $0.query("DELETE FROM units", parameters: []) }
        }
        let text = "\(failure.map { "\($0)" } ?? "")".lowercased()
        #expect(text.contains("read-only") || text.contains("readonly"), "\(text)")
        await scratch.remove()
    }
}
