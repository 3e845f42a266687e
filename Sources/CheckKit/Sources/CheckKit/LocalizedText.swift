/// Text for people, in Vietnamese (the default) and English.
public struct LocalizedText: Sendable, Codable, Hashable {
    public var vi: String
    public var en: String

    public init(vi: String, en: String) {
        self.vi = vi
        self.en = en
    }

    public func text(in language: Language) -> String { language == .vi ? vi : en }

    /// The texts joined in each language: several problems of one record as one value.
    public static func joined(_ texts: [LocalizedText], separator: String = "; ") -> LocalizedText {
        LocalizedText(vi: texts.map(\.vi).joined(separator: separator), en: texts.map(\.en).joined(separator: separator))
    }
}

public enum Language: String, Sendable, Codable, CaseIterable {
    case vi, en
}
