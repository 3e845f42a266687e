import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The daemon's code and read-only data as its page tables hold them between runs.
///
/// An idle daemon's memory is mostly pages of its program and libraries: of the quick start's
/// 48 MiB, 41 MiB were file pages (the binary 15 MiB, Swift's runtime and Foundation 20 MiB),
/// mapped in by start-up and by the last run and counted in its RSS until the next (issue 21).
/// `MADV_DONTNEED` unmaps them: they stay in the page cache, and the next run maps back what it
/// runs (minor faults). `MADV_PAGEOUT` would also evict them, but Linux does that only for the
/// file's owner or a process that could write it: not for `ntmwatch` running a binary root owns.
///
/// A page of a private file mapping is either the file's own page or an anonymous copy made by a
/// write: the relocations of RELRO data and of text. Unmapped, the first comes back from the file
/// as it was; the second would come back unrelocated. So only mappings that are read-only and
/// have no anonymous page (`Anonymous: 0 kB`, `Swap: 0 kB` in `smaps`) are unmapped, and only
/// those that were there, the same, at the last call too: a library that another thread is
/// loading (glibc's NSS, say) is mapped read-only across its whole span for a moment before its
/// segments are mapped over it and relocated, and a range read once might be that moment. A
/// settled read-only mapping gains no anonymous page: the loader writes RELRO while it is still
/// writable (`rw-p`, skipped), and the daemon loads its modules on its loop, never beside this.
struct CodePages {
    /// A mapping as `smaps` heads it: its range, and its permissions, offset, device and inode.
    struct Mapping: Hashable {
        let range: Range<Int>
        let identity: String
    }

    /// The clean mappings of the last call.
    private var settled: Set<Mapping> = []

    /// Unmaps every private, read-only file mapping of this process that holds no anonymous
    /// page and was the same at the last call; the bytes unmapped. The first call only looks.
    @discardableResult
    mutating func release(smaps: String = "/proc/self/smaps") -> Int {
        guard let text = Self.contents(of: smaps) else { return 0 }
        let clean = Self.cleanFileMappings(text)
        var released = 0
        for mapping in clean where settled.contains(mapping) {
            guard let start = UnsafeMutableRawPointer(bitPattern: mapping.range.lowerBound) else { continue }
            if madvise(start, mapping.range.count, MADV_DONTNEED) == 0 { released += mapping.range.count }
        }
        settled = Set(clean)
        return released
    }

    /// A file of `/proc` whole. Its size is 0 and the kernel gives it a page per read:
    /// `String(contentsOfFile:)` read the first 4 KiB only, 17 of a daemon's 91 mappings.
    static func contents(of path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(contentsOf: chunk[..<count])
        }
    }

    /// The `/proc/PID/smaps` mappings that map a file privately and read-only (`r-xp`, `r--p`)
    /// and hold no anonymous page. Each mapping is a line "start-end perms offset dev inode path",
    /// then lines "Name: value kB".
    static func cleanFileMappings(_ smaps: String) -> [Mapping] {
        var mappings: [Mapping] = []
        var current: Mapping?
        // Until its Anonymous and Swap lines say 0, a mapping is not taken.
        var anonymous: Int?, swapped: Int?
        func finish() {
            if let range = current, anonymous == 0, swapped == 0 { mappings.append(range) }
            (current, anonymous, swapped) = (nil, nil, nil)
        }
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard let first = fields.first else { continue }
            if first.hasSuffix(":") {
                guard current != nil, fields.count >= 2 else { continue }
                if first == "Anonymous:" { anonymous = Int(fields[1]) }
                if first == "Swap:" { swapped = Int(fields[1]) }
                continue
            }
            finish()
            // The path is padded to a column: it is the sixth field, not what follows the fifth space.
            guard fields.count == 6, fields[1] == "r-xp" || fields[1] == "r--p", fields[5].drop(while: { $0 == " " }).hasPrefix("/")
            else { continue }
            let bounds = first.split(separator: "-")
            guard bounds.count == 2, let start = Int(bounds[0], radix: 16), let end = Int(bounds[1], radix: 16), start < end else { continue }
            current = Mapping(range: start..<end, identity: fields[1...4].joined(separator: " "))
        }
        finish()
        return mappings
    }
}
