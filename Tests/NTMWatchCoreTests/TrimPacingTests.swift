import Testing
@testable import NTMWatchCore

/// When the daemon gives freed memory back to the system (issue 21).
struct TrimPacingTests {
    typealias Pacing = DaemonService.TrimPacing
    let start = ContinuousClock.now

    @Test func nothingFreedIsNeverDue() {
        let pacing = Pacing()
        #expect(!pacing.isDue(at: start))
        #expect(!pacing.isDue(at: start + .seconds(3600)))
    }

    @Test func aFirstFreeingIsDueAtOnce() {
        var pacing = Pacing()
        pacing.freed()
        #expect(pacing.isDue(at: start))
    }

    /// The case that left a national first cycle's last deliveries held until the heartbeat:
    /// they were freed a few seconds after the trim that followed the last run.
    @Test func aFreeingSoonAfterATrimWaitsForTheIntervalAndIsNotForgotten() {
        var pacing = Pacing()
        pacing.trimmed(at: start)
        pacing.freed()
        #expect(!pacing.isDue(at: start + .seconds(3)))
        #expect(!pacing.isDue(at: start + .seconds(9)))
        #expect(pacing.isDue(at: start + Pacing.interval))
        pacing.trimmed(at: start + Pacing.interval)
        #expect(!pacing.owed)
        #expect(!pacing.isDue(at: start + .seconds(3600)))
    }

    @Test func anyTrimPaysWhatIsOwed() {
        var pacing = Pacing()
        pacing.freed()
        pacing.trimmed(at: start)
        #expect(!pacing.isDue(at: start + .seconds(60)))
    }

    /// Code pages go back once after a run or a delivery, not at every idle minute (the loop's
    /// own code would be mapped back each time), and not before the first checks start.
    @Test func codePagesGoBackOnceAfterCodeRan() {
        var pacing = Pacing()
        #expect(!pacing.codeRan)
        pacing.ran()
        #expect(pacing.codeRan)
        pacing.trimmed(at: start)
        #expect(!pacing.codeRan)
        pacing.freed()
        #expect(pacing.codeRan)
        pacing.trimmed(at: start + .seconds(60))
        #expect(!pacing.codeRan)
        // A run's code is due as freed memory is: at the first idle tick the pacing allows.
        #expect(!pacing.isDue(at: start + .seconds(600)))
        pacing.ran()
        #expect(!pacing.isDue(at: start + .seconds(65)) && pacing.isDue(at: start + .seconds(60) + Pacing.interval))
    }
}

/// The idle daemon's program pages are unmapped (issue 21: 41 of the quick start's 48 MiB were
/// file pages).
struct CodePagesTests {
    /// Only private, read-only file mappings without an anonymous page: a relocated page unmapped
    /// would come back from the file unrelocated.
    @Test func onlyCleanPrivateReadOnlyFileMappingsAreTaken() {
        func mapping(_ header: String, anonymous: Int = 0, swap: Int = 0) -> String {
            "\(header)\nSize: 2048 kB\nRss: 1024 kB\nAnonymous: \(anonymous) kB\nSwap: \(swap) kB\nVmFlags: rd mr mw me\n"
        }
        let smaps = [
            mapping("55d0c0000000-55d0c0200000 r--p 00000000 fe:01 123                        /usr/bin/ntmwatchd"),
            mapping("55d0c0200000-55d0c0a00000 r-xp 00200000 fe:01 123                        /usr/bin/ntmwatchd"),
            // RELRO: read-only now, relocated while it was writable.
            mapping("55d0c0a00000-55d0c0a10000 r--p 00a00000 fe:01 123                        /usr/bin/ntmwatchd", anonymous: 64),
            mapping("55d0c0a10000-55d0c0a20000 rw-p 00a10000 fe:01 123                        /usr/bin/ntmwatchd", anonymous: 8),
            mapping("55d0c1000000-55d0c2000000 rw-p 00000000 00:00 0                          [heap]", anonymous: 4096),
            mapping("7f0000000000-7f0000100000 rw-s 00000000 fe:01 456                        /var/lib/ntmwatch/alerts.sqlite-shm"),
            mapping("7f0000200000-7f0000300000 r--p 00000000 00:00 0 "),
            mapping("7f0000300000-7f0000380000 r--p 00000000 fe:01 790                        /usr/lib/libswapped.so", swap: 4),
            mapping("7f0000400000-7f0000401000 r-xp 00000000 fe:01 789                        /usr/lib/x86_64-linux-gnu/libc.so.6 (deleted)"),
            mapping("7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0                          [vdso]"),
            // A mapping whose Anonymous line is missing is not taken.
            "7f0000500000-7f0000600000 r-xp 00000000 fe:01 791                        /usr/lib/libcut.so\nSize: 1024 kB\n",
        ].joined()
        let clean = CodePages.cleanFileMappings(smaps)
        #expect(clean.map(\.range) == [
            0x55d0c0000000..<0x55d0c0200000, 0x55d0c0200000..<0x55d0c0a00000, 0x7f0000400000..<0x7f0000401000,
        ])
        #expect(clean.map(\.identity) == ["r--p 00000000 fe:01 123", "r-xp 00200000 fe:01 123", "r-xp 00000000 fe:01 789"])
    }

    /// This process's file pages drop when it asks the second time (the first call only sees
    /// which mappings are there), and it goes on running: its relocated pages were left alone
    /// (were one dropped, its pointers would come back unrelocated).
    @Test func theFilePagesOfThisProcessGoBack() throws {
        func rssFile() throws -> Int {
            let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
            let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("RssFile:") })
            return try #require(Int(line.split(separator: " ").dropFirst().first ?? ""))
        }
        var pages = CodePages()
        #expect(pages.release() == 0)
        let before = try rssFile()
        #expect(pages.release() > 0)
        let after = try rssFile()
        // Tests beside this one map some back at once.
        #expect(after < before / 2, "RssFile \(before) kB -> \(after) kB")
        #expect(CodePages.cleanFileMappings("").isEmpty)
        #expect(String(describing: [1, 2, 3].map { $0 * 2 }) == "[2, 4, 6]")
    }

    /// `/proc/self/smaps` is read whole: the kernel gives a page per read, and reading one page
    /// left most of a daemon's libraries out.
    @Test func procFilesAreReadWhole() throws {
        let smaps = try #require(CodePages.contents(of: "/proc/self/smaps"))
        #expect(smaps.utf8.count > 4096 && smaps.contains("[stack]") && smaps.hasSuffix("\n"))
    }
}
