import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One notifying daemon per state directory: two would each advance the same alerts and send
/// every transition twice. An `flock` on `ntmwatchd.lock` (not on the database, which the CLI
/// and the console still write while the daemon runs) that the kernel releases when the holder
/// dies, so a crash never leaves a stale lock.
public final class InstanceLock: Sendable {
    private let descriptor: Int32
    public let path: String

    public struct Held: Error, CustomStringConvertible {
        public let path: String
        public let holder: String
        public var description: String {
            "another ntmwatchd (\(holder)) is running on this state directory (it holds \(path)); stop it first, or give this one another state_directory"
        }
    }

    public struct Failed: Error, CustomStringConvertible {
        public let path: String, code: Int32
        public var description: String { "cannot open the lock file \(path): \(String(cString: strerror(code)))" }
    }

    public init(stateDirectory: String) throws {
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        path = (stateDirectory as NSString).appendingPathComponent("ntmwatchd.lock")
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Failed(path: path, code: errno) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(descriptor)
            throw Held(path: path, holder: holder.isEmpty ? "pid unknown" : holder)
        }
        let text = "pid \(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = text.withCString { pwrite(descriptor, $0, strlen($0), 0) }
    }

    deinit {
        _ = ftruncate(descriptor, 0)
        close(descriptor)
    }
}
