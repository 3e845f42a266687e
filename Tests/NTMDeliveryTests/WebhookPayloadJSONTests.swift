import Foundation
import NTMAlertingTestSupport
import Testing
@testable import NTMDelivery

/// The payload's own writer against the encoder it replaced: the same bytes, pretty (spool files)
/// and compact (HTTP bodies, which receivers sign and check byte for byte).
@Suite struct WebhookPayloadJSONTests {
    static let alphabet = Array("aZ09_-. /:\"\\\u{0}\u{1}\u{8}\u{9}\u{a}\u{b}\u{c}\u{d}\u{1f}\u{7f}ăĐữ\u{2028}😀") + ["e\u{301}"]

    static func text(_ generator: inout some RandomNumberGenerator, maxLength: Int = 12) -> String {
        String((0..<Int.random(in: 0...maxLength, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
    }

    static func map(_ generator: inout some RandomNumberGenerator) -> [String: String] {
        var map: [String: String] = [:]
        for _ in 0..<Int.random(in: 0...8, using: &generator) { map[text(&generator)] = text(&generator, maxLength: 40) }
        return map
    }

    static func payload(_ generator: inout some RandomNumberGenerator) -> WebhookPayload {
        let alerts = (0..<Int.random(in: 0...4, using: &generator)).map { _ in
            WebhookPayload.Alert(status: text(&generator), labels: map(&generator), annotations: map(&generator),
                                 startsAt: text(&generator), endsAt: text(&generator), generatorURL: text(&generator),
                                 fingerprint: text(&generator))
        }
        return WebhookPayload(
            groupKey: text(&generator), truncatedAlerts: Int.random(in: -5...Int.max, using: &generator), status: text(&generator),
            receiver: text(&generator), groupLabels: map(&generator), commonLabels: map(&generator),
            commonAnnotations: map(&generator), externalURL: text(&generator), alerts: alerts,
            notificationIDs: (0..<Int.random(in: 0...5, using: &generator)).map { _ in text(&generator) })
    }

    @Test(arguments: [true, false])
    func sameBytesAsJSONEncoder(pretty: Bool) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        let seed = UInt64.random(in: 0...UInt64.max)
        var generator = SplitMix(seed: seed)
        for _ in 0..<500 {
            let payload = Self.payload(&generator)
            let expected = try encoder.encode(payload), written = payload.json(pretty: pretty)
            #expect(written == expected, "seed \(seed)\n\(String(decoding: written, as: UTF8.self))\n---\n\(String(decoding: expected, as: UTF8.self))")
            if written != expected { return }
            #expect(try JSONDecoder().decode(WebhookPayload.self, from: written) == payload)
        }
    }

    /// Every stored property is written: a field added to the payload, even an optional one the
    /// random payloads would leave nil, must be added to the writer too.
    @Test func everyStoredPropertyIsWritten() throws {
        var generator = SplitMix(seed: 21)
        var payload = Self.payload(&generator)
        payload.alerts = [WebhookPayload.Alert(status: "firing", labels: [:], annotations: [:], startsAt: "", endsAt: "",
                                               generatorURL: "", fingerprint: "")]
        let object = try #require(try JSONSerialization.jsonObject(with: payload.json(pretty: false)) as? [String: Any])
        #expect(Set(object.keys) == Set(Mirror(reflecting: payload).children.compactMap(\.label)))
        let alert = try #require((object["alerts"] as? [[String: Any]])?.first)
        #expect(Set(alert.keys) == Set(Mirror(reflecting: payload.alerts[0]).children.compactMap(\.label)))
    }
}
