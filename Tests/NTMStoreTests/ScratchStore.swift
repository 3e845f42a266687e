import Foundation
@testable import NTMStore

/// The backends a test runs on. PostgreSQL needs `NTMWATCH_TEST_POSTGRES_URL` (scripts/test.sh
/// starts a throw-away server on loopback and sets it).
enum Backend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite, postgres

    static let postgresURL = ProcessInfo.processInfo.environment["NTMWATCH_TEST_POSTGRES_URL"]
    static var available: [Backend] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }
    var description: String { rawValue }
}

/// A fresh, migrated store: an SQLite file in a temporary folder, or a new PostgreSQL database.
struct ScratchStore {
    let folder: String
    let store: Store
    let backend: Backend
    private let dropDatabase: String?

    init(_ backend: Backend = .sqlite) async throws {
        self.backend = backend
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("ntmstore-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        switch backend {
        case .sqlite:
            store = Store(location: .sqlite(path: (folder as NSString).appendingPathComponent("store.sqlite")))
            dropDatabase = nil
        case .postgres:
            guard let base = Backend.postgresURL, var url = URLComponents(string: base) else {
                throw POSIXError(.ENOENT)
            }
            let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            try await Store(location: .postgres(url: base)).withConnection(.readWrite) { connection in
                try await connection.sql.raw("CREATE DATABASE \(unsafeRaw: name)").run()
            }
            url.path = "/" + name
            store = Store(location: .postgres(url: url.string!))
            dropDatabase = name
        }
        try await store.migrate()
    }

    var sqlitePath: String? {
        if case .sqlite(let path) = store.location { path } else { nil }
    }

    func write(_ name: String, _ text: String) throws -> String {
        let path = (folder as NSString).appendingPathComponent(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func count(_ table: String) async throws -> Int {
        try await store.withConnection(.readOnly) { connection in
            try await connection.sql.raw("SELECT count(*) AS n FROM \(unsafeRaw: table)").first()!.decode(column: "n", as: Int.self)
        }
    }

    func remove() async {
        try? FileManager.default.removeItem(atPath: folder)
        if let name = dropDatabase, let base = Backend.postgresURL {
            try? await Store(location: .postgres(url: base)).withConnection(.readWrite) { connection in
                try await connection.sql.raw("DROP DATABASE IF EXISTS \(unsafeRaw: name) WITH (FORCE)").run()
            }
        }
    }

    /// The repository's `Config/sample` folder.
    static let sampleFolder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Config/sample").path
}
