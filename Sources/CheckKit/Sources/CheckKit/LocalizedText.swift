/// Text for people, in Vietnamese (the default) and English.
public struct LocalizedText: Sendable, Codable, Hashable {
    public var vi: String
    public var en: String

    public init(vi: String, en: String) {
        self.vi = vi
        self.en = en
    }

    public func text(in language: Language) -> String { language == .vi ? vi : en }
}

public enum Language: String, Sendable, Codable, CaseIterable {
    case vi, en
}
