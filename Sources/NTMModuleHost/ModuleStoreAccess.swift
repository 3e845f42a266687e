import Foundation
import NTMStore

/// What operator modules may read of the store, and how: never with the daemon's own credentials.
///
/// SQL rule modules on SQLite run in the daemon on a connection the host opens read-only, with an
/// authorizer that allows only reads. Exec modules run as the daemon's user, so on SQLite they get a
/// read-only URI (`file:...?mode=ro`): SQLite then refuses writes, but the file itself stays writable
/// by that user, and a program that ignores the URI can write it (README.md, "Security"). On PostgreSQL
/// they get the URL of a read-only role when one is configured (`store.readonly_url` or
/// `store.readonly_url_file`), and no URL at all otherwise.
public struct ModuleStoreAccess: Sendable {
    public var store: StoreLocation?
    public var readOnlyURL: String?
    /// The longest a SQL rule's query may run before it is interrupted.
    public var queryTimeout: Duration

    public init(store: StoreLocation? = nil, readOnlyURL: String? = nil, queryTimeout: Duration = .seconds(30)) {
        self.store = store
        self.readOnlyURL = readOnlyURL
        self.queryTimeout = queryTimeout
    }

    /// The `store` object of an exec module's JSON request.
    func execRequestStore() -> [String: Any] {
        switch store {
        case .sqlite(let path)?:
            return ["backend": "sqlite", "uri": StoreLocation.readOnlySQLiteURI(path)]
        case .postgres?:
            return readOnlyURL.map { ["backend": "postgres", "url": $0] } ?? ["backend": "postgres"]
        case nil:
            return [:]
        }
    }
}

/// A module run that went past its own time limit: reported as `ntmwatch.module_timeout`, with
/// what was done about it.
public struct ModuleTimedOut: Error, Sendable, CustomStringConvertible {
    public let description: String
}
