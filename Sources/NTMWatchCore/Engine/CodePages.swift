import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The daemon's code and read-only data as the kernel holds them between runs.
///
/// An idle daemon's memory is mostly pages of its program and libraries: of the quick start's
/// 49 MiB, 42 MiB were file pages (the binary 15 MiB, Swift's runtime and Foundation 20 MiB),
/// mapped in by start-up and by the last run, and counted against the service until the kernel
/// needs them (issue 21). Between runs an hour apart they are not used. `MADV_PAGEOUT` (Linux
/// 5.4) asks the kernel to reclaim them now; the next run reads back what it runs.
///
/// Only private, read-only, file-backed mappings are asked about: code, constants and the
/// relocated read-only data (whose changed pages are anonymous: without swap the kernel keeps
/// them, with swap it would write them out, never drop them). Writable mappings and shared ones
/// (SQLite's `-shm`) are left alone, and the kernel itself skips pages another process maps.
/// Advice only: what the kernel does not do is no error.
enum CodePages {
    /// Asks the kernel to reclaim the pages of every private, read-only file mapping of this
    /// process; the bytes of the mappings it took the advice for (0 before Linux 5.4).
    @discardableResult
    static func pageOut(maps: String = "/proc/self/maps") -> Int {
        guard let text = contents(of: maps) else { return 0 }
        var advised = 0
        for mapping in readOnlyFileMappings(text) {
            guard let start = UnsafeMutableRawPointer(bitPattern: mapping.lowerBound) else { continue }
            // EINVAL also for a locked mapping, not only from a kernel before 5.4.
            if madvise(start, mapping.count, MADV_PAGEOUT) == 0 { advised += mapping.count }
        }
        return advised
    }

    /// A file of `/proc` whole. Its size is 0 and the kernel gives it a page per read:
    /// `String(contentsOfFile:)` read the first 4 KiB only, 17 of a daemon's 91 mappings.
    static func contents(of path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(contentsOf: chunk[..<count])
        }
    }

    /// The address ranges of `/proc/PID/maps` lines that map a file privately and read-only
    /// (`r-xp`, `r--p`): "start-end perms offset dev inode path".
    static func readOnlyFileMappings(_ maps: String) -> [Range<Int>] {
        maps.split(separator: "\n").compactMap { line in
            // The path is padded to a column: it is the sixth field, not what follows the fifth space.
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count == 6, fields[1] == "r-xp" || fields[1] == "r--p", fields[5].drop(while: { $0 == " " }).hasPrefix("/")
            else { return nil }
            let bounds = fields[0].split(separator: "-")
            guard bounds.count == 2, let start = Int(bounds[0], radix: 16), let end = Int(bounds[1], radix: 16), start < end else { return nil }
            return start..<end
        }
    }
}
