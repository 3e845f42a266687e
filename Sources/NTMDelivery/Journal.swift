import CSystemd
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The native journal protocol, through libsystemd.
public enum Journal {
    public static let socketPath = "/run/systemd/journal/socket"

    /// True when journald is listening here. Without it, ntmwatch logs to stderr.
    /// A socket file alone proves nothing: a stopped journald leaves it behind, and only
    /// `connect` tells a listening socket from a stale one.
    public static var isAvailable: Bool {
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return withUnixAddress(socketPath) { connect(descriptor, $0, $1) == 0 }
    }

    /// Calls `body` with `path` as a Unix-domain socket address, for `connect` or `bind`.
    public static func withUnixAddress<T>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { bytes in
            for (index, byte) in path.utf8.enumerated() where index < bytes.count - 1 { bytes[index] = byte }
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    /// Sends one entry. `fields` are `NAME=value` pairs; names must be upper-case ASCII,
    /// digits and `_`. Values may hold any text, newlines included.
    @discardableResult
    public static func send(_ fields: [(String, String)]) -> Int32 {
        let entries = fields.map { strdup("\($0.0)=\($0.1)")! }
        defer { entries.forEach { free($0) } }
        var vectors = entries.map { iovec(iov_base: UnsafeMutableRawPointer($0), iov_len: strlen($0)) }
        return vectors.withUnsafeMutableBufferPointer { buffer in
            sd_journal_sendv(buffer.baseAddress, Int32(buffer.count))
        }
    }

    /// A journal field name from a free-form key: `due_date` → `DUE_DATE`.
    public static func fieldName(_ key: String) -> String {
        let upper = key.uppercased().unicodeScalars.map { scalar -> Character in
            (("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)) ? Character(scalar) : "_"
        }
        return String(upper)
    }
}
