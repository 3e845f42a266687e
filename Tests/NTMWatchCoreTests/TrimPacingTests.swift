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
}
