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

    /// Code pages go back once after start-up, a run or a delivery, not at every idle minute:
    /// the loop's own code would be read back each time.
    @Test func codePagesGoBackOnceAfterCodeRan() {
        var pacing = Pacing()
        #expect(pacing.codeRan)
        pacing.trimmed(at: start)
        #expect(!pacing.codeRan)
        pacing.ran()
        #expect(pacing.codeRan)
        pacing.trimmed(at: start + .seconds(60))
        pacing.freed()
        #expect(pacing.codeRan)
    }
}

/// The idle daemon's program pages go back to the kernel (issue 21: 42 of the quick start's
/// 49 MiB were file pages).
struct CodePagesTests {
    @Test func onlyPrivateReadOnlyFileMappingsAreAskedAbout() {
        let maps = """
            55d0c0000000-55d0c0200000 r--p 00000000 fe:01 123                        /usr/bin/ntmwatchd
            55d0c0200000-55d0c0a00000 r-xp 00200000 fe:01 123 /usr/bin/ntmwatchd
            55d0c0a00000-55d0c0a10000 rw-p 00a00000 fe:01 123 /usr/bin/ntmwatchd
            55d0c1000000-55d0c2000000 rw-p 00000000 00:00 0 [heap]
            7f0000000000-7f0000100000 rw-s 00000000 fe:01 456 /var/lib/ntmwatch/alerts.sqlite-shm
            7f0000200000-7f0000300000 r--p 00000000 00:00 0
            7f0000400000-7f0000401000 r-xp 00000000 fe:01 789 /usr/lib/x86_64-linux-gnu/libc.so.6 (deleted)
            7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0 [vdso]
            """
        #expect(CodePages.readOnlyFileMappings(maps) == [
            0x55d0c0000000..<0x55d0c0200000, 0x55d0c0200000..<0x55d0c0a00000, 0x7f0000400000..<0x7f0000401000,
        ])
    }

    /// This process's file pages drop when it asks, and its code still runs after.
    @Test func theFilePagesOfThisProcessGoBack() throws {
        func rssFile() throws -> Int {
            let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
            let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("RssFile:") })
            return try #require(Int(line.split(separator: " ").dropFirst().first ?? ""))
        }
        let before = try rssFile()
        #expect(CodePages.pageOut() > 0)
        let after = try rssFile()
        // Not all: the test runner maps the same libraries (the kernel skips shared pages), and
        // tests beside this one bring some back.
        #expect(after < before * 7 / 8, "RssFile \(before) kB -> \(after) kB")
        #expect(CodePages.readOnlyFileMappings("").isEmpty)
    }

    /// `/proc/self/maps` is read whole: the kernel gives a page per read, and reading one page
    /// left most of a daemon's libraries out.
    @Test func theMapsAreReadWhole() throws {
        let maps = try #require(CodePages.contents(of: "/proc/self/maps"))
        #expect(maps.utf8.count > 4096 && maps.contains("[stack]") && maps.hasSuffix("\n"))
    }
}
