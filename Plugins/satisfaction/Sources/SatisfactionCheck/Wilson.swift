import Foundation

/// The Wilson score interval for a proportion: unlike the textbook "p ± z·√(p(1-p)/n)", it stays
/// inside [0, 1] and keeps its coverage for small samples and rates near 100%, which is exactly
/// where satisfaction surveys live (37 of 40, 98 of 100).
struct WilsonInterval: Equatable {
    /// The two-sided 95% normal quantile.
    static let z95 = 1.959963984540054

    let lower: Double
    let upper: Double

    /// `successes` of `trials`, as fractions of 1. `trials` must be positive.
    init(successes: Int, trials: Int, z: Double = WilsonInterval.z95) {
        self.init(rate: Double(successes) / Double(trials), trials: trials, z: z)
    }

    init(rate p: Double, trials: Int, z: Double = WilsonInterval.z95) {
        let n = Double(trials), z2 = z * z
        let denominator = 1 + z2 / n
        let centre = (p + z2 / (2 * n)) / denominator
        let margin = z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot() / denominator
        lower = max(0, centre - margin)
        upper = min(1, centre + margin)
    }

    /// The fewest respondents for which a survey with the same observed rate would have its lower
    /// bound at or above `threshold` (fractions of 1); nil when no sample size can get there
    /// (the rate is not above the threshold).
    static func respondentsNeeded(rate: Double, threshold: Double, z: Double = WilsonInterval.z95) -> Int? {
        guard rate > threshold else { return nil }
        // The lower bound rises with n at a fixed rate, so the smallest n is found by bisection.
        var low = 1, high = 1
        while WilsonInterval(rate: rate, trials: high, z: z).lower < threshold {
            guard high < 1 << 40 else { return nil }
            low = high
            high *= 2
        }
        while low < high {
            let middle = (low + high) / 2
            if WilsonInterval(rate: rate, trials: middle, z: z).lower >= threshold { high = middle } else { low = middle + 1 }
        }
        return high
    }
}
