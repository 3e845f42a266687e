import Foundation

/// A MIME message as the `sendmail` interface takes it: LF line ends (sendmail and msmtp turn
/// them into CRLF), UTF-8 bodies in base64 so no line is too long or 8-bit, and non-ASCII
/// headers as RFC 2047 encoded words.
struct EmailMessage {
    var from: String
    var to: [String]
    var subject: String
    var date: Date
    var messageID: String
    var extraHeaders: [(String, String)]
    var text: String
    var html: String

    func rendered() -> Data {
        let boundary = "ntmwatch-\(messageID.filter { $0.isLetter || $0.isNumber })"
        var lines = [
            "From: \(from)",
            "To: \(to.joined(separator: ", "))",
            "Subject: \(Self.encodedWords(subject))",
            "Date: \(Self.rfc5322(date))",
            "Message-ID: <\(messageID)>",
            "MIME-Version: 1.0",
            "Auto-Submitted: auto-generated",
        ]
        lines += extraHeaders.map { "\($0.0): \($0.1)" }
        lines += [
            "Content-Type: multipart/alternative; boundary=\"\(boundary)\"",
            "",
            "--\(boundary)",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "",
            Self.base64Lines(text),
            "--\(boundary)",
            "Content-Type: text/html; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "",
            Self.base64Lines(html),
            "--\(boundary)--",
            "",
        ]
        return Data(lines.joined(separator: "\n").utf8)
    }

    /// RFC 2047 `B` words of at most 75 characters, split between characters (never inside one
    /// UTF-8 sequence), folded onto continuation lines. Plain ASCII stays as it is.
    static func encodedWords(_ text: String) -> String {
        guard text.contains(where: { !$0.isASCII }) || text.contains("=?") else { return text }
        var words: [String] = [], chunk = ""
        for character in text {
            if chunk.utf8.count + character.utf8.count > 45 {
                words.append(chunk)
                chunk = ""
            }
            chunk.append(character)
        }
        if !chunk.isEmpty { words.append(chunk) }
        return words.map { "=?UTF-8?B?\(Data($0.utf8).base64EncodedString())?=" }.joined(separator: "\n ")
    }

    static func base64Lines(_ text: String) -> String {
        Data(text.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithLineFeed])
    }

    static func rfc5322(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Asia/Ho_Chi_Minh")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.string(from: date)
    }
}
