/// Names of units as letters and alerts write them: with their kind ("huyện Đại Lộc", "xã Đại
/// Chánh"), because a bare "Đại Lộc" may be the district, the town or a commune of that name.
extension AdministrativeUnit {
    /// The Vietnamese kind word of each level; a name that already starts with a kind word
    /// ("Thành phố Hội An", "Thị trấn Nam Phước") is written as it is.
    static let kindWords = ["province": "tỉnh", "district": "huyện", "commune": "xã", "village": "thôn"]
    static let writtenKinds = ["tỉnh ", "thành phố ", "huyện ", "thị xã ", "quận ", "xã ", "phường ", "thị trấn ", "thôn ", "bản ", "tổ dân phố "]

    /// "xã Đại Chánh", "huyện Đại Lộc", "Thành phố Hội An": Vietnamese names are proper names in
    /// both languages, so English text uses this form too.
    public var nameWithKind: String {
        let lowered = name.lowercased()
        if Self.writtenKinds.contains(where: { lowered.hasPrefix($0) }) { return name }
        guard let kind = Self.kindWords[level] else { return name }
        return "\(kind) \(name)"
    }
}
