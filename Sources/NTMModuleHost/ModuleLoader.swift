import CheckKit
import Foundation
import NTMStore
#if canImport(Glibc)
import Glibc
#endif

/// A module loaded into the daemon: a shared library, or a manifest for an executable or a query.
public struct LoadedModule: Sendable {
    public enum Kind: String, Sendable { case library, exec, sql }

    public let module: any CheckModule
    public let path: String
    public let kind: Kind
    /// A manifest's own interval and timeout, used when no `checks:` entry names the module.
    public let defaultInterval: Duration?
    public let defaultTimeout: Duration?
    public var descriptor: ModuleDescriptor { module.descriptor }

    init(module: any CheckModule, path: String, kind: Kind = .library, defaultInterval: Duration? = nil, defaultTimeout: Duration? = nil) {
        self.module = module
        self.path = path
        self.kind = kind
        self.defaultInterval = defaultInterval
        self.defaultTimeout = defaultTimeout
    }
}

/// A module file that could not be loaded, and why.
public struct ModuleLoadFailure: Sendable, Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

/// Finds modules in the configured folders: libraries (`*.so`, loaded with `dlopen`), executables
/// described by `*.exec.yaml` and queries described by `*.sql.yaml`.
///
/// Like sshd's StrictModes (``PathTrust``), a file is refused unless it, and every folder on its
/// resolved path and on the way through its symbolic links, are owned by root or the daemon's
/// user and writable by nobody else. A library is opened in a probe child first (``ModuleProbe``).
/// Loaded libraries are never closed: Swift code cannot be unloaded safely.
public struct ModuleLoader: Sendable {
    public let directories: [String]
    public let trust: PathTrust
    /// What SQL rule and exec modules may read, and how.
    public let access: ModuleStoreAccess
    /// Tests libraries before they are opened here; nil refuses every library.
    public let probe: ModuleProbe?
    /// Contains exec module runs (`ntmwatchd`); nil refuses to run them.
    public let helper: String?

    /// `helper` defaults to the `ntmwatchd` beside the running executable, which both probes
    /// libraries and contains exec module runs; `stateDirectory` keeps the probes' verdicts.
    public init(directories: [String], trustedOwners: Set<uid_t> = [getuid()], access: ModuleStoreAccess = ModuleStoreAccess(),
                stateDirectory: String? = nil, helper: String? = SiblingExecutable.path("ntmwatchd")) {
        self.directories = directories
        self.trust = PathTrust(trustedOwners: trustedOwners)
        self.access = access
        self.helper = helper
        let cacheFile = stateDirectory.map { ($0 as NSString).appendingPathComponent("module-probes.json") }
        probe = helper.map { executable in ModuleProbe(executable: executable, cacheFile: cacheFile) }
    }

    static let manifestSuffixes = [".exec.yaml", ".sql.yaml"]

    /// Every module file in the folders, loaded or with the reason it was not, in a stable order.
    public func loadAll() -> (modules: [LoadedModule], failures: [ModuleLoadFailure]) {
        var modules: [LoadedModule] = []
        var failures: [ModuleLoadFailure] = []
        let cache = ModuleProbe.Cache(file: probe?.cacheFile, trust: trust)
        defer { cache.save(to: probe?.cacheFile) }
        for directory in directories {
            guard FileManager.default.fileExists(atPath: directory) else { continue }
            do {
                _ = try trust.resolve(directory, as: .directory)
            } catch {
                failures.append(.init(path: directory, reason: "\(error)"))
                continue
            }
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
                .filter { name in name.hasSuffix(".so") || Self.manifestSuffixes.contains { name.hasSuffix($0) } }.sorted()
            for name in names {
                let path = (directory as NSString).appendingPathComponent(name)
                do {
                    modules.append(try load(path: path, cache: cache))
                } catch let failure as ModuleLoadFailure {
                    failures.append(failure)
                } catch {
                    failures.append(.init(path: path, reason: "\(error)"))
                }
            }
        }
        var seen: [String: String] = [:]
        var unique: [LoadedModule] = []
        for module in modules {
            if let first = seen[module.descriptor.name] {
                failures.append(.init(path: module.path, reason: "a module named '\(module.descriptor.name)' is already loaded from \(first)"))
            } else {
                seen[module.descriptor.name] = module.path
                unique.append(module)
            }
        }
        return (unique, failures)
    }

    public func load(path: String) throws -> LoadedModule {
        let cache = ModuleProbe.Cache(file: probe?.cacheFile, trust: trust)
        defer { cache.save(to: probe?.cacheFile) }
        return try load(path: path, cache: cache)
    }

    func load(path: String, cache: ModuleProbe.Cache) throws -> LoadedModule {
        let resolved = try checkTrusted(path)
        if path.hasSuffix(".exec.yaml") {
            let module = try ExecModule(manifest: path, loader: self)
            return LoadedModule(module: module, path: path, kind: .exec, defaultInterval: module.manifestInterval,
                                defaultTimeout: module.manifestTimeout.map { $0 + .seconds(5) })
        }
        if path.hasSuffix(".sql.yaml") {
            let module = try SQLRuleModule(manifest: path, access: access)
            return LoadedModule(module: module, path: path, kind: .sql, defaultInterval: module.manifestInterval,
                                defaultTimeout: module.manifestTimeout)
        }
        guard let probe else {
            throw ModuleLoadFailure(path: path, reason: "refused: ntmwatchd, which tests a library in a separate process before "
                                    + "it is loaded, is not installed beside this program")
        }
        if let refusal = try probe.refusal(for: resolved, cache: cache) {
            throw ModuleLoadFailure(path: path, reason: refusal)
        }
        return LoadedModule(module: try Self.openLibrary(path: resolved), path: path)
    }

    /// The resolved path of a file that only root or the daemon's user can have written, through
    /// folders and links only they can change.
    @discardableResult
    func checkTrusted(_ path: String, as kind: PathTrust.Kind = .file) throws(ModuleLoadFailure) -> String {
        do { return try trust.resolve(path, as: kind) } catch { throw ModuleLoadFailure(path: path, reason: "\(error)") }
    }

    /// Opens a library in this process: only in the probe child, or once the probe succeeded.
    static func openLibrary(path: String) throws -> any CheckModule {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw ModuleLoadFailure(path: path, reason: "dlopen failed: \(String(cString: dlerror()))")
        }
        guard let abiSymbol = dlsym(handle, ModuleExport.abiSymbol) else {
            throw ModuleLoadFailure(path: path, reason: "not an ntmwatch module: it does not export \(ModuleExport.abiSymbol)")
        }
        let abi = unsafeBitCast(abiSymbol, to: (@convention(c) () -> UInt32).self)()
        guard abi == ModuleExport.abiVersion else {
            throw ModuleLoadFailure(path: path, reason: "built against CheckKit ABI \(abi), but this ntmwatchd provides ABI "
                                    + "\(ModuleExport.abiVersion); rebuild the module against CheckKit \(CheckKit.version)")
        }
        guard let createSymbol = dlsym(handle, ModuleExport.createSymbol) else {
            throw ModuleLoadFailure(path: path, reason: "the module does not export \(ModuleExport.createSymbol)")
        }
        let create = unsafeBitCast(createSymbol, to: (@convention(c) () -> UnsafeMutableRawPointer).self)
        let module = ModuleExport.adopt(create())
        let problems = module.descriptor.problems()
        guard problems.isEmpty else {
            throw ModuleLoadFailure(path: path, reason: "invalid module descriptor: " + problems.joined(separator: "; "))
        }
        return module
    }
}
