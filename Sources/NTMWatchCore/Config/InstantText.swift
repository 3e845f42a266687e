import CheckKit
import Foundation

/// Reads `--at`: an ISO 8601 instant, or a civil date meaning its first instant in Vietnam.
public enum InstantText {
    public static func parse(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        if text.count <= 10, let day = CivilDate(text) { return day.startInstant() }
        return nil
    }
}
