import CheckKit
import Foundation
import Testing
@testable import NTMDelivery

/// Digest schedules in civil time in Asia/Ho_Chi_Minh.
@Suite struct DigestScheduleTests {
    func at(_ text: String) -> Date { try! Date(text, strategy: .iso8601) }

    @Test func dailyAndWeeklyDueInstantsAreInVietnamTime() throws {
        let daily = try #require(DigestSchedule("daily 07:30"))
        #expect(daily.description == "daily 07:30")
        // 07:30 in Vietnam is 00:30 UTC.
        #expect(daily.due(atOrBefore: at("2024-10-25T00:30:00Z")) == at("2024-10-25T00:30:00Z"))
        #expect(daily.due(atOrBefore: at("2024-10-25T00:29:59Z")) == at("2024-10-24T00:30:00Z"))
        #expect(daily.previous(at("2024-10-25T00:30:00Z")) == at("2024-10-24T00:30:00Z"))
        // 2024-10-28 is a Monday.
        let weekly = try #require(DigestSchedule("weekly mon 07:30"))
        #expect(weekly.due(atOrBefore: at("2024-10-27T12:00:00Z")) == at("2024-10-21T00:30:00Z"))
        #expect(weekly.due(atOrBefore: at("2024-10-28T01:00:00Z")) == at("2024-10-28T00:30:00Z"))
        #expect(weekly.previous(at("2024-10-28T00:30:00Z")) == at("2024-10-21T00:30:00Z"))
        for bad in ["daily", "daily 24:00", "weekly 07:30", "weekly mo 07:30", "hourly 07:30", "daily 7h30"] {
            #expect(DigestSchedule(bad) == nil, "\(bad)")
        }
    }
}
