import Testing
@testable import SatisfactionCheck

/// The first four cases are the published worked examples of Newcombe (1998), "Two-sided
/// confidence intervals for the single proportion", Statistics in Medicine 17:857-872, Table I,
/// method 3 (score interval without continuity correction). The others are the cases,
/// computed from the closed form outside this code base; all to four decimals.
@Suite struct WilsonTests {
    func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) < 0.00005 }

    @Test(arguments: [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        (92, 100, 0.8500, 0.9589),
        (23, 25, 0.7503, 0.9778),
        (37, 40, 0.8014, 0.9742),
        (10, 10, 0.7225, 1.0),
    ])
    func boundsMatchReferenceValues(successes: Int, trials: Int, lower: Double, upper: Double) {
        let interval = WilsonInterval(successes: successes, trials: trials)
        #expect(close(interval.lower, lower), "lower \(interval.lower)")
        #expect(close(interval.upper, upper), "upper \(interval.upper)")
    }

    @Test func respondentsNeededIsTheSmallestConclusiveSample() throws {
        let needed = try #require(WilsonInterval.respondentsNeeded(rate: 0.925, threshold: 0.90))
        #expect(WilsonInterval(rate: 0.925, trials: needed).lower >= 0.90)
        #expect(WilsonInterval(rate: 0.925, trials: needed - 1).lower < 0.90)
    }

    @Test func noSampleSettlesARateAtOrBelowTheThreshold() {
        #expect(WilsonInterval.respondentsNeeded(rate: 0.90, threshold: 0.90) == nil)
        #expect(WilsonInterval.respondentsNeeded(rate: 0.85, threshold: 0.90) == nil)
    }
}
