import Foundation

/// A file opened for reading and read at given offsets (`pread`), so that several passes over it
/// each keep their own place and share one descriptor, closed with the last of them.
package final class ReadOnlyFile: Sendable {
    private let descriptor: Int32

    /// Nil when the file cannot be opened, or is not a regular file.
    package init?(path: String) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            return nil
        }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// A read that failed, with the system's error number.
    package struct ReadFailure: Error, Equatable {
        package let code: Int32
    }

    /// Reads into `buffer` from `offset`: how many bytes were read (0 at the end).
    package func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Result<Int, ReadFailure> {
        guard buffer.count > 0 else { return .success(0) }
        while true {
            let count = pread(descriptor, buffer.baseAddress, buffer.count, off_t(offset))
            if count >= 0 { return .success(count) }
            if errno != EINTR { return .failure(ReadFailure(code: errno)) }
        }
    }

    /// What tells a file changed since it was checked: its size and last modification.
    package struct Version: Equatable, Sendable {
        let size: Int
        let modifiedSeconds: Int
        let modifiedNanoseconds: Int
    }

    package var version: Version? {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return nil }
        return Version(size: Int(status.st_size), modifiedSeconds: Int(status.st_mtim.tv_sec),
                       modifiedNanoseconds: Int(status.st_mtim.tv_nsec))
    }
}

/// Well-formed UTF-8 as the Unicode standard defines it (table 3-7: no overlong forms, no
/// surrogates, nothing above U+10FFFF), checked a buffer at a time.
enum UTF8Check {
    enum Outcome: Equatable {
        /// Every byte is part of a complete, well-formed sequence.
        case valid
        /// Well-formed up to here, where a sequence starts that the buffer's end cuts short.
        case cut(at: Int)
        /// The sequence starting here is not UTF-8.
        case invalid(at: Int)
    }

    static func check(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        let count = bytes.count
        var index = 0
        while index < count {
            // Most of a CSV is ASCII: eight bytes at a time while no byte has its high bit set.
            while index + 8 <= count, bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                index += 8
            }
            guard index < count else { break }
            let lead = bytes[index]
            if lead < 0x80 { index += 1; continue }
            let length: Int
            var second: ClosedRange<UInt8> = 0x80...0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; second = 0xA0...0xBF
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; second = 0x80...0x9F
            case 0xF0: length = 4; second = 0x90...0xBF
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; second = 0x80...0x8F
            default: return .invalid(at: index)
            }
            for offset in 1..<length {
                guard index + offset < count else { return .cut(at: index) }
                let byte = bytes[index + offset]
                guard offset == 1 ? second.contains(byte) : (0x80...0xBF).contains(byte) else { return .invalid(at: index) }
            }
            index += length
        }
        return .valid
    }
}
