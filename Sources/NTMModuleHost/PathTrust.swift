import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Decides whether a path can be trusted the way sshd's StrictModes does, but through symbolic
/// links: the path is resolved one component at a time, and every folder passed through (the
/// ones holding a link as well as the ones the links lead to, up to `/`) and the final file must
/// be owned by root or a trusted user and writable by nobody else. A sticky world-writable folder
/// such as /tmp is refused too: its other users cannot rename our files, but they can create the
/// names we have not created yet, and a module path is exactly such a name.
public struct PathTrust: Sendable {
    /// Owners besides root whose files are trusted: the daemon's own user.
    public let trustedOwners: Set<uid_t>

    public init(trustedOwners: Set<uid_t>) {
        self.trustedOwners = trustedOwners.union([0])
    }

    public enum Kind: Sendable { case file, directory }

    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// The resolved absolute path when `path` and everything it passes through are trusted.
    public func resolve(_ path: String, as kind: Kind) throws(Refusal) -> String {
        var pending = Self.components(path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path)
        var resolved: [String] = []
        var links = 0
        try check("/", info: try status("/"), kind: .directory)
        while !pending.isEmpty {
            let name = pending.removeFirst()
            if name == "." { continue }
            if name == ".." { _ = resolved.popLast(); continue }
            let candidate = "/" + (resolved + [name]).joined(separator: "/")
            let info = try status(candidate)
            if info.st_mode & S_IFMT == S_IFLNK {
                links += 1
                guard links <= 40 else { throw Refusal(description: "\(path): too many symbolic links") }
                let target = try linkTarget(candidate)
                if target.hasPrefix("/") { resolved = [] }
                pending = Self.components(target) + pending
                continue
            }
            try check(candidate, info: info, kind: pending.isEmpty ? kind : .directory)
            resolved.append(name)
        }
        return "/" + resolved.joined(separator: "/")
    }

    static func components(_ path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    }

    private func status(_ path: String) throws(Refusal) -> stat {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            throw Refusal(description: "cannot stat \(path): \(String(cString: strerror(errno)))")
        }
        return info
    }

    private func linkTarget(_ path: String) throws(Refusal) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { throw Refusal(description: "cannot read the symbolic link \(path)") }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private func check(_ path: String, info: stat, kind: Kind) throws(Refusal) {
        let type = info.st_mode & S_IFMT
        switch kind {
        case .directory where type != S_IFDIR: throw Refusal(description: "refused: \(path) is not a directory")
        case .file where type != S_IFREG: throw Refusal(description: "refused: \(path) is not a regular file")
        default: break
        }
        guard trustedOwners.contains(info.st_uid) else {
            throw Refusal(description: "refused: \(path) is owned by uid \(info.st_uid), not by root or the daemon's user; "
                          + "run chown root on it")
        }
        if info.st_mode & (S_IWGRP | S_IWOTH) != 0 {
            let sticky = info.st_mode & S_ISVTX != 0 ? ", sticky" : ""
            throw Refusal(description: "refused: \(path) is writable by its group or by others (mode "
                          + "\(String(info.st_mode & 0o7777, radix: 8))\(sticky)); run chmod go-w on it, or move the module "
                          + "to a folder only root can write")
        }
    }
}
