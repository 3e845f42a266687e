import Foundation

extension WebhookPayload {
    /// The payload as JSON, byte for byte what `JSONEncoder` writes with `[.sortedKeys,
    /// .withoutEscapingSlashes]` (and `.prettyPrinted` when `pretty`): keys in the order of their
    /// UTF-8 bytes, `"`, `\` and control characters escaped, everything else as it is.
    ///
    /// Written directly rather than through `Codable`: a national first cycle writes tens of
    /// thousands of alerts into its payloads, and `JSONEncoder`'s containers were most of the file
    /// sink's time (371 perf samples of a 10,000-commune first cycle's 6,815; 56 now; issue 21).
    /// `WebhookPayloadJSONTests` compares the two over random payloads and checks that every
    /// stored property is written; decoding is still `Codable`'s.
    public func json(pretty: Bool) -> Data {
        var writer = JSONWriter(pretty: pretty)
        writer.beginObject()
        // Members in sorted order, as `.sortedKeys` puts them.
        writer.key("alerts")
        writer.beginArray()
        for alert in alerts {
            writer.element()
            writer.beginObject()
            writer.key("annotations"); writer.map(alert.annotations)
            writer.key("endsAt"); writer.string(alert.endsAt)
            writer.key("fingerprint"); writer.string(alert.fingerprint)
            writer.key("generatorURL"); writer.string(alert.generatorURL)
            writer.key("labels"); writer.map(alert.labels)
            writer.key("startsAt"); writer.string(alert.startsAt)
            writer.key("status"); writer.string(alert.status)
            writer.endObject()
        }
        writer.endArray()
        writer.key("commonAnnotations"); writer.map(commonAnnotations)
        writer.key("commonLabels"); writer.map(commonLabels)
        writer.key("externalURL"); writer.string(externalURL)
        writer.key("groupKey"); writer.string(groupKey)
        writer.key("groupLabels"); writer.map(groupLabels)
        writer.key("notificationIDs")
        writer.beginArray()
        for id in notificationIDs {
            writer.element()
            writer.string(id)
        }
        writer.endArray()
        writer.key("receiver"); writer.string(receiver)
        writer.key("status"); writer.string(status)
        writer.key("truncatedAlerts"); writer.integer(truncatedAlerts)
        writer.key("version"); writer.string(version)
        writer.endObject()
        return Data(writer.bytes)
    }
}

/// JSON text of strings, integers, string maps and nested containers, in `JSONEncoder`'s layout:
/// compact, or pretty with two spaces per level, `" : "` after keys and `{\n\n}` for an empty
/// container.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    private let pretty: Bool
    private var depth = 0
    /// Whether the container being written has no member or element yet.
    private var empty = true

    init(pretty: Bool) {
        self.pretty = pretty
        bytes.reserveCapacity(4096)
    }

    mutating func beginObject() { open(UInt8(ascii: "{")) }
    mutating func endObject() { close(UInt8(ascii: "}")) }
    mutating func beginArray() { open(UInt8(ascii: "[")) }
    mutating func endArray() { close(UInt8(ascii: "]")) }

    /// Starts a member: the value follows.
    mutating func key(_ name: String) {
        element()
        string(name)
        if pretty { bytes.append(contentsOf: [0x20, UInt8(ascii: ":"), 0x20]) } else { bytes.append(UInt8(ascii: ":")) }
    }

    /// Starts an array element: the value follows.
    mutating func element() {
        if !empty { bytes.append(UInt8(ascii: ",")) }
        empty = false
        if pretty { newline() }
    }

    mutating func integer(_ value: Int) { bytes.append(contentsOf: String(value).utf8) }

    /// An object of strings, keys by their UTF-8 bytes.
    mutating func map(_ map: [String: String]) {
        beginObject()
        for (name, value) in map.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            key(name)
            string(value)
        }
        endObject()
    }

    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var start = 0
            for (index, byte) in utf8.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                start = index + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                default: bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), Self.hex[Int(byte >> 4)], Self.hex[Int(byte & 0xF)]])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static let hex = Array("0123456789abcdef".utf8)

    private mutating func open(_ bracket: UInt8) {
        bytes.append(bracket)
        depth += 1
        empty = true
    }

    private mutating func close(_ bracket: UInt8) {
        depth -= 1
        if pretty {
            // An empty container still gets its own line between the brackets.
            if empty { bytes.append(0x0A) }
            newline()
        }
        bytes.append(bracket)
        // The container just closed was a value of the one around it, which is not empty now.
        empty = false
    }

    private mutating func newline() {
        bytes.append(0x0A)
        bytes.append(contentsOf: repeatElement(0x20, count: 2 * depth))
    }
}
