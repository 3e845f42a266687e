import CheckKit
import Foundation

/// Compares proposed duties with a gold list. A duty matches when section, responsible keys (as a
/// set), last day and recurrence agree; each gold duty matches at most once.
public struct Evaluation: Sendable {
    public let gold: Int, proposed: Int, matched: Int
    /// Pairs that agree on section, responsible and recurrence, and how many of them have the right last day.
    public let datePairs: Int, datesRight: Int
    public let missed: [String], extra: [String]

    public var precision: Double { proposed == 0 ? (gold == 0 ? 1 : 0) : Double(matched) / Double(proposed) }
    public var recall: Double { gold == 0 ? 1 : Double(matched) / Double(gold) }
    public var dateAccuracy: Double { datePairs == 0 ? 1 : Double(datesRight) / Double(datePairs) }

    struct Key: Hashable { let section: String, keys: String, lastDay: String, recurrence: String
        var loose: String { "\(section)|\(keys)|\(recurrence)" }
        var text: String { "\(section) \(keys) \(lastDay) \(recurrence)" }
    }

    static func normalisedKeys(_ text: String) -> String {
        Set(text.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }).sorted().joined(separator: ";")
    }

    /// Gold rows from the CSV (columns as `ProposalCSV` writes them, at least section,
    /// responsible_key, last_day, recurrence).
    public static func goldKeys(_ csv: String) -> [(String, String, String, String)] {
        let rows = ProposalCSV.parse(csv)
        guard let header = rows.first else { return [] }
        func col(_ name: String) -> Int { header.firstIndex(of: name) ?? -1 }
        let s = col("section"), k = col("responsible_key"), l = col("last_day"), r = col("recurrence")
        return rows.dropFirst().filter { $0.count == header.count }.map { ($0[s], $0[k], $0[l], $0[r]) }
    }

    public init(gold: [(String, String, String, String)], duties: [Duty]) {
        let goldKeys = gold.map { Key(section: $0.0, keys: Self.normalisedKeys($0.1), lastDay: $0.2, recurrence: $0.3) }
        let proposedKeys = duties.map { Key(section: $0.section, keys: Self.normalisedKeys($0.responsibleKey),
                                            lastDay: $0.deadline.lastDay.description, recurrence: $0.deadline.recurrence) }
        var remaining = goldKeys
        var unmatched: [Key] = []
        for key in proposedKeys {
            if let i = remaining.firstIndex(of: key) { remaining.remove(at: i) } else { unmatched.append(key) }
        }
        self.gold = goldKeys.count
        self.proposed = proposedKeys.count
        self.matched = proposedKeys.count - unmatched.count
        // Date accuracy: among duties that found their gold duty on everything but the date, how many dates are right.
        var looseRemaining = remaining
        var wrongDates = 0
        for key in unmatched {
            if let i = looseRemaining.firstIndex(where: { $0.loose == key.loose }) { looseRemaining.remove(at: i); wrongDates += 1 }
        }
        self.datePairs = matched + wrongDates
        self.datesRight = matched
        self.missed = remaining.map(\.text)
        self.extra = unmatched.map(\.text)
    }
}

/// The evaluation of every plan in a folder that has a gold list (`gold/<name>.csv` next to `<name>.txt`).
public struct FolderEvaluation: Sendable {
    public struct Document: Sendable { public let name: String; public let evaluation: Evaluation }
    public let documents: [Document]

    public init(folder: String) throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".txt") }.sorted()
        var documents: [Document] = []
        for file in files {
            let name = String(file.dropLast(4))
            let goldPath = "\(folder)/gold/\(name).csv"
            guard let gold = try? String(contentsOfFile: goldPath, encoding: .utf8) else { continue }
            let text = try DocumentReader.text(of: "\(folder)/\(file)")
            documents.append(Document(name: name, evaluation: Evaluation(gold: Evaluation.goldKeys(gold),
                                                                         duties: Extractor.extract(text).duties)))
        }
        self.documents = documents
    }

    /// All documents' duties pooled.
    public var total: Evaluation {
        Evaluation(pooling: documents.map(\.evaluation))
    }

    /// One line per document and a total: gold, proposed, matched, precision, recall, date accuracy.
    public func report(verbose: Bool) -> String {
        func pct(_ x: Double) -> String { String(format: "%5.1f%%", x * 100) }
        var lines = ["document                          gold  found  match  precision  recall  dates"]
        for d in documents + [Document(name: "TOTAL", evaluation: total)] {
            let e = d.evaluation
            lines.append(d.name.padding(toLength: 32, withPad: " ", startingAt: 0)
                         + String(format: "  %4d  %5d  %5d", e.gold, e.proposed, e.matched)
                         + "     \(pct(e.precision))  \(pct(e.recall))  \(pct(e.dateAccuracy))")
            if verbose, d.name != "TOTAL" {
                lines += e.missed.map { "    missed: \($0)" } + e.extra.map { "    extra:  \($0)" }
            }
        }
        return lines.joined(separator: "\n")
    }
}

extension Evaluation {
    init(pooling parts: [Evaluation]) {
        gold = parts.map(\.gold).reduce(0, +)
        proposed = parts.map(\.proposed).reduce(0, +)
        matched = parts.map(\.matched).reduce(0, +)
        datePairs = parts.map(\.datePairs).reduce(0, +)
        datesRight = parts.map(\.datesRight).reduce(0, +)
        missed = parts.flatMap(\.missed)
        extra = parts.flatMap(\.extra)
    }
}
