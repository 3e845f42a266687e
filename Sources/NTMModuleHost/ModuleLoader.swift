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
/// Like sshd's StrictModes, a file is refused unless it, its folder and every folder above it
/// are owned by root or the daemon's user and writable by nobody else (a world-writable folder
/// with the sticky bit, like /tmp, is allowed above the module folder: others cannot rename
/// what is in it). Loaded libraries are never closed: Swift code cannot be unloaded safely.
public struct ModuleLoader: Sendable {
    public let directories: [String]
    /// The owners allowed besides root; the daemon's own user by default.
    public let trustedOwners: Set<uid_t>
    /// Handed to exec modules in their request, so they can open the store read-only themselves.
    public let store: StoreLocation?

    public init(directories: [String], trustedOwners: Set<uid_t> = [getuid()], store: StoreLocation? = nil) {
        self.directories = directories
        self.trustedOwners = trustedOwners.union([0])
        self.store = store
    }

    static let manifestSuffixes = [".exec.yaml", ".sql.yaml"]

    /// Every module file in the folders, loaded or with the reason it was not, in a stable order.
    public func loadAll() -> (modules: [LoadedModule], failures: [ModuleLoadFailure]) {
        var modules: [LoadedModule] = []
        var failures: [ModuleLoadFailure] = []
        for directory in directories {
            guard FileManager.default.fileExists(atPath: directory) else { continue }
            if let problem = unsafeReason(directory, isDirectory: true) {
                failures.append(.init(path: directory, reason: problem))
                continue
            }
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
                .filter { name in name.hasSuffix(".so") || Self.manifestSuffixes.contains { name.hasSuffix($0) } }.sorted()
            for name in names {
                let path = (directory as NSString).appendingPathComponent(name)
                do {
                    modules.append(try load(path: path))
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
        try checkTrusted(path)
        if path.hasSuffix(".exec.yaml") {
            let module = try ExecModule(manifest: path, store: store, loader: self)
            return LoadedModule(module: module, path: path, kind: .exec, defaultInterval: module.manifestInterval,
                                defaultTimeout: module.manifestTimeout.map { $0 + .seconds(5) })
        }
        if path.hasSuffix(".sql.yaml") {
            let module = try SQLRuleModule(manifest: path)
            return LoadedModule(module: module, path: path, kind: .sql, defaultInterval: module.manifestInterval,
                                defaultTimeout: module.manifestTimeout)
        }
        return try loadLibrary(path: path)
    }

    /// Refuses a file that someone other than root or the daemon's user could have written, or
    /// that sits in such a folder.
    func checkTrusted(_ path: String) throws(ModuleLoadFailure) {
        if let problem = unsafeReason(path, isDirectory: false) { throw ModuleLoadFailure(path: path, reason: problem) }
        var directory = (path as NSString).deletingLastPathComponent
        var isModuleFolder = true
        while !directory.isEmpty {
            if let problem = unsafeReason(directory, isDirectory: true, allowSticky: !isModuleFolder) {
                throw ModuleLoadFailure(path: path, reason: problem)
            }
            if directory == "/" { break }
            directory = (directory as NSString).deletingLastPathComponent
            isModuleFolder = false
        }
    }

    func loadLibrary(path: String) throws -> LoadedModule {
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
        return LoadedModule(module: module, path: path)
    }

    /// Why a path may not be trusted, or nil.
    func unsafeReason(_ path: String, isDirectory: Bool, allowSticky: Bool = false) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return "cannot stat: \(String(cString: strerror(errno)))" }
        let type = info.st_mode & S_IFMT
        if type == S_IFLNK {
            // A link is as trustworthy as what it points to and where it lives; resolve and check that.
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) else { return "unreadable symbolic link" }
            let absolute = target.hasPrefix("/") ? target : ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(target)
            return unsafeReason(absolute, isDirectory: isDirectory, allowSticky: allowSticky)
        }
        if isDirectory && type != S_IFDIR { return "not a directory" }
        if !isDirectory && type != S_IFREG { return "not a regular file" }
        if !trustedOwners.contains(info.st_uid) {
            return "refused: \(path) is owned by uid \(info.st_uid), not by root or the daemon's user"
        }
        let writableByOthers = info.st_mode & (S_IWGRP | S_IWOTH) != 0
        let sticky = info.st_mode & S_ISVTX != 0
        if writableByOthers && !(allowSticky && sticky && isDirectory) {
            return "refused: \(path) is writable by its group or by others (mode \(String(info.st_mode & 0o7777, radix: 8))); "
                + "run chmod go-w on it"
        }
        return nil
    }
}
