import CheckKit
import Crypto
import Foundation
import NTMProcess
#if canImport(Glibc)
import Glibc
#endif

/// Loads a shared library module in a short-lived child first (`ntmwatchd --probe-module PATH`),
/// so that a damaged file (truncated, zero bytes, not a library) kills the child, not the daemon:
/// `dlopen` maps the file, and touching a page past the end of a truncated file is SIGBUS. The
/// daemon opens the library only after the child opened it, checked the ABI and created the module.
///
/// Verdicts are cached in the state folder by file identity (device, inode, size, mtime and the
/// SHA-256 of the content), so a restart with unchanged modules spawns no child.
public struct ModuleProbe: Sendable {
    public static let flag = "--probe-module"
    /// `ntmwatchd`, which runs the probe.
    public let executable: String
    /// Where verdicts are kept; nil keeps none.
    public let cacheFile: String?
    public var timeout: Duration = .seconds(15)

    public init(executable: String, cacheFile: String?) {
        self.executable = executable
        self.cacheFile = cacheFile
    }

    /// In the child: opens the library as the daemon would, prints one line of JSON
    /// (`{"ok": true, "name": ...}` or `{"ok": false, "reason": ...}`) and exits.
    public static func probeMain(path: String) -> Never {
        let verdict: [String: Any]
        do {
            let module = try ModuleLoader.openLibrary(path: path)
            verdict = ["ok": true, "name": module.descriptor.name, "version": module.descriptor.version]
        } catch {
            verdict = ["ok": false, "reason": (error as? ModuleLoadFailure)?.reason ?? "\(error)"]
        }
        let data = (try? JSONSerialization.data(withJSONObject: verdict, options: [.sortedKeys])) ?? Data("{}".utf8)
        FileHandle.standardOutput.write(data + Data("\n".utf8))
        exit(0)
    }

    /// What identifies one version of a file.
    struct Identity: Codable, Hashable {
        let device: UInt64
        let inode: UInt64
        let size: Int64
        let modified: String
        let sha256: String

        init(path: String) throws(ModuleLoadFailure) {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw ModuleLoadFailure(path: path, reason: "cannot open: \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw ModuleLoadFailure(path: path, reason: "cannot stat: \(String(cString: strerror(errno)))") }
            var hash = SHA256()
            // Modules are a few hundred KB; a megabyte zeroed per module was most of the hashing's
            // cost at every start (issue 21).
            var buffer = [UInt8](repeating: 0, count: 64 << 10)
            while true {
                let count = read(fd, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                guard count >= 0 else { throw ModuleLoadFailure(path: path, reason: "cannot read: \(String(cString: strerror(errno)))") }
                if count == 0 { break }
                hash.update(data: buffer[..<count])
            }
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
            size = Int64(info.st_size)
            modified = "\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
            let hex = Array("0123456789abcdef".utf8)
            sha256 = String(decoding: hash.finalize().flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 0xF)]] }, as: UTF8.self)
        }
    }

    struct Entry: Codable {
        let identity: Identity
        /// nil when the probe succeeded, otherwise why the library was refused.
        let refusal: String?
    }

    /// The verdicts of one loading pass: read once, written once if something changed.
    final class Cache {
        private(set) var entries: [String: Entry]
        private(set) var changed = false
        /// How many libraries needed a child this pass (the rest came from the cache).
        private(set) var probes = 0

        init(file: String?, trust: PathTrust) {
            entries = [:]
            // A cache that someone else could write could vouch for a damaged library.
            guard let file, (try? trust.resolve(file, as: .file)) != nil,
                  let data = FileManager.default.contents(atPath: file),
                  let decoded = try? JSONDecoder().decode([String: Entry].self, from: data) else { return }
            entries = decoded
        }

        func record(_ path: String, _ entry: Entry) {
            entries[path] = entry
            changed = true
            probes += 1
        }

        func save(to file: String?) {
            guard let file, changed, let data = try? JSONEncoder().encode(entries) else { return }
            let temporary = file + ".tmp"
            guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else { return }
            if rename(temporary, file) != 0 { unlink(temporary) }
        }
    }

    /// Nil when the library at `path` may be opened in this process, otherwise why not.
    func refusal(for path: String, cache: Cache) throws(ModuleLoadFailure) -> String? {
        let identity = try Identity(path: path)
        if let entry = cache.entries[path], entry.identity == identity { return entry.refusal }
        let refusal = run(path)
        cache.record(path, Entry(identity: identity, refusal: refusal))
        return refusal
    }

    private func run(_ path: String) -> String? {
        let outcome: Subprocess.Outcome
        do {
            // A crash is the expected failure here: no seconds spent printing the child's backtrace.
            outcome = try Subprocess(arguments: [executable, Self.flag, path], environment: Subprocess.cleanEnvironment(["SWIFT_BACKTRACE": "enable=no"]),
                                     input: Data(), timeout: timeout, maxOutput: 64 * 1024).runNow()
        } catch {
            return "a test load in a separate process failed: \(error)"
        }
        if let signal = outcome.signal {
            return "a test load in a separate process was killed by signal \(signal) (\(String(cString: strsignal(signal)))): "
                + "the file is damaged or not a shared library (truncated or still being copied?); it was not loaded. "
                + "Rebuild or copy it again, then reload"
        }
        guard outcome.exitStatus == 0,
              let line = String(decoding: outcome.stdout, as: UTF8.self).split(separator: "\n").last,
              let verdict = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let ok = verdict["ok"] as? Bool else {
            let detail = String(decoding: outcome.stderr.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return "a test load in a separate process ended with status \(outcome.exitStatus ?? -1) and no verdict"
                + (detail.isEmpty ? "" : ": \(detail)")
        }
        return ok ? nil : (verdict["reason"] as? String ?? "refused by the test load")
    }
}

/// Programs of this installation, found beside the running executable (`/proc/self/exe`), so that
/// `ntmwatch`, `ntmwatchd` and the tests all use the `ntmwatchd` they were installed or built with.
public enum SiblingExecutable {
    public static func path(_ name: String) -> String? {
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        let candidate = ((executable as NSString).deletingLastPathComponent as NSString).appendingPathComponent(name)
        return access(candidate, X_OK) == 0 ? candidate : nil
    }
}
