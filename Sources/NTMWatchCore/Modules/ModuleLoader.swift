import CheckKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A module library loaded into the daemon.
public struct LoadedModule: Sendable {
    public let module: any CheckModule
    public let path: String
    public var descriptor: ModuleDescriptor { module.descriptor }
}

/// A module file that could not be loaded, and why.
public struct ModuleLoadFailure: Sendable, Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

/// Finds module libraries (`*.so`) in the configured folders and loads them with `dlopen`.
///
/// Like sshd's StrictModes, a file is refused unless it, its folder and every folder above it
/// are owned by root or the daemon's user and writable by nobody else (a world-writable folder
/// with the sticky bit, like /tmp, is allowed above the module folder: others cannot rename
/// what is in it). Loaded libraries are never closed: Swift code cannot be unloaded safely.
public struct ModuleLoader: Sendable {
    public let directories: [String]
    /// The owners allowed besides root; the daemon's own user by default.
    public let trustedOwners: Set<uid_t>

    public init(directories: [String], trustedOwners: Set<uid_t> = [getuid()]) {
        self.directories = directories
        self.trustedOwners = trustedOwners.union([0])
    }

    /// Every `*.so` in the folders, loaded or with the reason it was not, in a stable order.
    public func loadAll() -> (modules: [LoadedModule], failures: [ModuleLoadFailure]) {
        var modules: [LoadedModule] = []
        var failures: [ModuleLoadFailure] = []
        for directory in directories {
            guard FileManager.default.fileExists(atPath: directory) else { continue }
            if let problem = unsafeReason(directory, isDirectory: true) {
                failures.append(.init(path: directory, reason: problem))
                continue
            }
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".so") }.sorted()
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
