import Foundation

/// The documented vocabulary of who acts (README, "Extracting duties from a plan"): each key with
/// the ways plans write it. Order matters: longer names first, so "Sở Nông nghiệp và PTNT" is not read
/// as "Sở" and "Ngân hàng Chính sách xã hội" never as "xã".
public enum Actors {
    public struct Entry: Sendable { public let key: String; let pattern: String }

    public static let entries: [Entry] = [
        Entry(key: "ubnd_huyen+ubnd_xa", pattern: #"(?:UBND|Ủy ban nhân dân)\s+(?:cấp\s+)?huyện,\s+(?:cấp\s+)?xã"#),
        Entry(key: "ubnd_tinh", pattern: #"(?:UBND|Ủy ban nhân dân)\s+(?:cấp\s+)?tỉnh"#),
        Entry(key: "ubnd_huyen", pattern: #"(?:UBND|Ủy ban nhân dân)\s+(?:cấp\s+huyện|các\s+huyện|huyện)(?:,\s+thị\s+xã,\s+thành\s+phố)?"#),
        Entry(key: "ubnd_xa", pattern: #"(?:UBND|Ủy ban nhân dân)\s+(?:cấp\s+xã|các\s+xã|xã)"#),
        Entry(key: "hdnd_huyen", pattern: #"HĐND\s+cấp\s+huyện"#),
        Entry(key: "so_nn_ptnt", pattern: #"Sở\s+(?:Nông nghiệp\s+và\s+(?:PTNT|Phát triển nông thôn)|NN\s*(?:&|và)\s*PTNT)"#),
        Entry(key: "so_khdt", pattern: #"Sở\s+Kế hoạch\s+và\s+Đầu tư"#),
        Entry(key: "so_tai_chinh", pattern: #"Sở\s+Tài chính"#),
        Entry(key: "so_xay_dung", pattern: #"Sở\s+Xây dựng"#),
        Entry(key: "so_noi_vu", pattern: #"Sở\s+Nội vụ"#),
        Entry(key: "so_tu_phap", pattern: #"Sở\s+Tư pháp"#),
        Entry(key: "so_tnmt", pattern: #"Sở\s+Tài nguyên\s+và\s+Môi trường"#),
        Entry(key: "so_vhttdl", pattern: #"Sở\s+Văn hóa,?\s+Thể thao\s+và\s+Du lịch"#),
        Entry(key: "so_gddt", pattern: #"Sở\s+Giáo dục\s+và\s+Đào tạo"#),
        Entry(key: "so_ldtbxh", pattern: #"Sở\s+Lao động\s*-\s*Thương binh\s+và\s+Xã hội"#),
        Entry(key: "so_yte", pattern: #"Sở\s+Y tế"#),
        Entry(key: "so_khcn", pattern: #"Sở\s+Khoa học\s+và\s+Công nghệ"#),
        Entry(key: "so_nganh", pattern: #"(?:các\s+)?Sở,\s+(?:Ban,\s+)?ngành(?:\s+cấp\s+tỉnh)?|(?:các\s+)?sở,\s+ban,\s+ngành(?:\s+cấp\s+tỉnh)?|(?:các\s+)?Sở,\s+ngành"#),
        Entry(key: "van_phong_dieu_phoi", pattern: #"Văn phòng\s+(?:Điều phối\s+)?(?:Chương trình\s+MTQG\s+xây dựng\s+)?(?:NTM|nông thôn mới)(?:\s+(?:tỉnh|huyện))?"#),
        Entry(key: "ban_dan_toc", pattern: #"Ban\s+Dân tộc(?:\s+tỉnh)?"#),
        Entry(key: "ngan_hang_csxh", pattern: #"Ngân hàng\s+Chính sách\s+xã hội"#),
        Entry(key: "ban_qlda", pattern: #"Ban\s+Quản lý\s+(?:Đầu tư\s+xây dựng|dự án)(?:\s+tỉnh)?"#),
        Entry(key: "thanh_tra", pattern: #"Thanh tra\s+tỉnh"#),
        Entry(key: "mat_tran", pattern: #"(?:Ủy ban\s+)?Mặt trận\s+Tổ quốc(?:\s+Việt Nam)?(?:\s+tỉnh)?|UBMTTQ(?:VN)?(?:\s+tỉnh)?"#),
        Entry(key: "doan_the", pattern: #"Hội(?:,)?\s+đoàn thể(?:\s+liên quan)?|đoàn thể"#),
        Entry(key: "kho_bac", pattern: #"Kho bạc\s+Nhà nước(?:\s+(?:tỉnh|cấp huyện))?"#),
        Entry(key: "ban_chi_dao", pattern: #"Ban\s+Chỉ đạo(?:\s+(?:tỉnh|huyện|xã))?"#),
        Entry(key: "phong_nn_ptnt", pattern: #"Phòng\s+Nông nghiệp\s+và\s+(?:PTNT|Phát triển nông thôn)"#),
        Entry(key: "phong_tc_kh", pattern: #"Phòng\s+Tài chính\s*-\s*Kế hoạch"#),
        Entry(key: "phong_kt_ht", pattern: #"Phòng\s+Kinh tế\s+(?:và\s+)?Hạ tầng"#),
        Entry(key: "phong_vh_tt", pattern: #"Phòng\s+Văn hóa\s+và\s+Thông tin"#),
        Entry(key: "phong_ban", pattern: #"(?:các\s+)?phòng,\s+ban(?:\s+chuyên môn)?"#),
        Entry(key: "ban_phat_trien_thon", pattern: #"Ban\s+Phát triển\s+thôn"#),
        Entry(key: "chu_dau_tu", pattern: #"chủ\s+đầu\s+tư"#),
        Entry(key: "dia_phuong", pattern: #"(?:các\s+)?địa phương(?:\s+liên quan)?"#),
        Entry(key: "ubnd_huyen", pattern: #"(?:Huyện|huyện)(?::)?\s+\p{Lu}\p{Ll}+(?:\s+\p{Lu}\p{Ll}+)*(?:,\s+\p{Lu}\p{Ll}+(?:\s+\p{Lu}\p{Ll}+)*)*|Thành phố\s+\p{Lu}\p{Ll}+(?:\s+\p{Lu}\p{Ll}+)*"#),
        Entry(key: "ubnd_huyen", pattern: #"(?:các\s+)?huyện,\s+(?:thị xã,\s+thành phố|thành phố,\s+thị xã)|cấp\s+huyện|(?:các\s+)?huyện(?=[\s,])"#),
        Entry(key: "ubnd_xa", pattern: #"cấp\s+xã|các\s+xã(?!\s+hội)|xã(?=,?\s+huyện)"#),
        Entry(key: "ubnd_huyen", pattern: #"thị xã|thành phố"#),
    ]

    nonisolated(unsafe) static let compiled: [(key: String, regex: Regex<AnyRegexOutput>)] = entries.map {
        ($0.key, try! Regex("^(?:" + $0.pattern + ")").ignoresCase())
    }

    /// A run of actors at the start of `text` ("Sở Tài chính, Sở Xây dựng và UBND cấp huyện, xã"):
    /// the keys, the words, and where the run ends. Nil when the text does not open with an actor.
    public static func run(at text: Substring) -> (keys: [String], words: String, end: String.Index)? {
        var keys: [String] = []
        var position = text.startIndex
        var lastEnd = text.startIndex
        while position < text.endIndex {
            let rest = text[position...]
            guard let (key, length) = match(rest) else { break }
            for k in key.split(separator: "+").map(String.init) where !keys.contains(k) { keys.append(k) }
            lastEnd = text.index(position, offsetBy: length)
            position = lastEnd
            if let sep = text[position...].prefixMatch(of: /\s*(?:,|và|,\s*và)\s+|\s*,\s{0,}/) {
                position = sep.range.upperBound
            } else { break }
        }
        guard !keys.isEmpty else { return nil }
        return (keys, String(text[text.startIndex..<lastEnd]), lastEnd)
    }

    static func match(_ text: Substring) -> (String, Int)? {
        var best: (String, Int)?
        for (key, regex) in compiled {
            if let m = try? regex.prefixMatch(in: text) {
                let length = text.distance(from: m.range.lowerBound, to: m.range.upperBound)
                if length > (best?.1 ?? 0) { best = (key, length) }
            }
        }
        return best
    }

    /// Every actor run in `text`, with its character offset.
    public static func runs(in text: String) -> [(offset: Int, keys: [String], words: String, endOffset: Int)] {
        var result: [(Int, [String], String, Int)] = []
        var index = text.startIndex
        var offset = 0
        var atWordStart = true
        while index < text.endIndex {
            if atWordStart, let r = run(at: text[index...]) {
                let length = text.distance(from: index, to: r.end)
                result.append((offset, r.keys, r.words, offset + length))
                index = r.end
                offset += length
                atWordStart = false
                continue
            }
            atWordStart = !text[index].isLetter
            index = text.index(after: index)
            offset += 1
        }
        return result
    }
}
