import CheckKit
import Foundation

/// The journald message catalog read for its people's text: per MESSAGE_ID and language, the
/// "what to do" paragraph and the rule's source, which the alert and commune pages show.
struct MessageCatalog: Sendable {
    struct Entry: Sendable { var whatToDo = "", source = "", why = "" }
    private var entries: [String: Entry] = [:]

    init(entries: [String: Entry] = [:]) { self.entries = entries }

    /// An unreadable catalog gives an empty one: the pages say the text is missing and name the
    /// file, rather than stopping the daemon's monitoring.
    static func load(path: String) -> MessageCatalog {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return MessageCatalog() }
        return parse(text)
    }

    static func parse(_ text: String) -> MessageCatalog {
        var entries: [String: Entry] = [:]
        var key: String?
        var entry = Entry()
        func finish() { if let key { entries[key] = entry } }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("-- ") {
                finish()
                let parts = line.dropFirst(3).split(separator: " ")
                key = parts.count > 1 ? "\(parts[0]) \(parts[1])" : String(parts[0])
                entry = Entry()
                continue
            }
            for (prefixes, path) in [(["Cần làm gì: ", "What to do: "], \Entry.whatToDo), (["Căn cứ: ", "Source: "], \Entry.source),
                                     (["Vì sao quan trọng: ", "Why it matters: "], \Entry.why)] {
                if let prefix = prefixes.first(where: { line.hasPrefix($0) }) {
                    entry[keyPath: path] = String(line.dropFirst(prefix.count))
                }
            }
        }
        finish()
        return MessageCatalog(entries: entries)
    }

    func entry(_ messageID: String, _ language: Language) -> Entry? {
        language == .vi ? entries[messageID] : entries["\(messageID) en"] ?? entries[messageID]
    }
}
