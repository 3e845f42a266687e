import CheckKit
import Foundation
import Mustache

/// The subject, plain-text and HTML templates of notification e-mails (or digests) in one
/// language: the bundled defaults, each replaced by `email-subject.<lang>.mustache`,
/// `email-text.<lang>.mustache` or `email-html.<lang>.mustache` (`digest-…` for digests) when the
/// operator's folder has it.
public struct EmailTemplates: Sendable {
    public let subject: MustacheTemplate
    public let text: MustacheTemplate
    public let html: MustacheTemplate

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let file: String
        public let reason: String
        public var description: String { "\(file): \(reason); fix the template or remove it to use the bundled one" }
    }

    public static func load(language: Language, overrides folder: String?) throws(Invalid) -> EmailTemplates {
        try load(prefix: "email", language: language, overrides: folder, bundled: language == .vi ? Bundled.vi : Bundled.en)
    }

    /// `<prefix>-subject|text|html.<lang>.mustache` from `folder` where present, else `bundled`.
    static func load(prefix: String, language: Language, overrides folder: String?,
                     bundled: (subject: String, text: String, html: String)) throws(Invalid) -> EmailTemplates {
        func template(_ kind: String, _ bundled: String) throws(Invalid) -> MustacheTemplate {
            let name = "\(prefix)-\(kind).\(language.rawValue).mustache"
            var source = bundled, file = "bundled \(name)"
            if let folder {
                let path = (folder as NSString).appendingPathComponent(name)
                if let data = FileManager.default.contents(atPath: path) {
                    guard let text = String(data: data, encoding: .utf8) else { throw Invalid(file: path, reason: "not UTF-8 text") }
                    source = text
                    file = path
                }
            }
            do {
                return try MustacheTemplate(string: source)
            } catch {
                throw Invalid(file: file, reason: "not a valid Mustache template: \(error)")
            }
        }
        return EmailTemplates(subject: try template("subject", bundled.subject), text: try template("text", bundled.text),
                              html: try template("html", bundled.html))
    }

    /// The defaults. Text templates use `{{{ }}}`: only HTML is escaped.
    enum Bundled {
        static let vi = (
            subject: "[ntmwatch] {{#has_firing}}{{firing_count}} cảnh báo cần xử lý{{/has_firing}}{{^has_firing}}Đã hết {{resolved_count}} cảnh báo{{/has_firing}}: {{{title}}}",
            text: """
                Kính gửi {{{receiver}}},

                ntmwatch ({{{instance}}}) báo {{count}} thay đổi:
                {{#alerts}}

                - [{{{severity_text}}}] {{{status_text}}}: {{{summary}}}
                  Từ {{{since}}}; mã thông báo {{{notification_id}}}
                {{/alerts}}

                Thư gửi tự động. Để tạm dừng một cảnh báo đã biết: ntmwatch silence add --match subject_id=... --until NGÀY --comment "...".

                """,
            html: """
                <!DOCTYPE html>
                <html lang="vi"><head><meta charset="utf-8"><title>{{title}}</title></head>
                <body>
                <p>Kính gửi {{receiver}},</p>
                <p>ntmwatch ({{instance}}) báo {{count}} thay đổi:</p>
                <table border="1" cellpadding="4" cellspacing="0">
                <tr><th>Mức độ</th><th>Trạng thái</th><th>Nội dung</th><th>Từ</th></tr>
                {{#alerts}}
                <tr><td>{{severity_text}}</td><td>{{status_text}}</td><td>{{summary}}</td><td>{{since}}</td></tr>
                {{/alerts}}
                </table>
                <p><small>Thư gửi tự động. Mã thông báo: {{notification_ids}}</small></p>
                </body></html>

                """)
        static let en = (
            subject: "[ntmwatch] {{#has_firing}}{{firing_count}} alerts to act on{{/has_firing}}{{^has_firing}}{{resolved_count}} alerts resolved{{/has_firing}}: {{{title}}}",
            text: """
                To {{{receiver}}},

                ntmwatch ({{{instance}}}) reports {{count}} changes:
                {{#alerts}}

                - [{{{severity_text}}}] {{{status_text}}}: {{{summary}}}
                  Since {{{since}}}; notification {{{notification_id}}}
                {{/alerts}}

                Sent automatically. To mute a known alert: ntmwatch silence add --match subject_id=... --until DATE --comment "...".

                """,
            html: """
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8"><title>{{title}}</title></head>
                <body>
                <p>To {{receiver}},</p>
                <p>ntmwatch ({{instance}}) reports {{count}} changes:</p>
                <table border="1" cellpadding="4" cellspacing="0">
                <tr><th>Severity</th><th>Status</th><th>What</th><th>Since</th></tr>
                {{#alerts}}
                <tr><td>{{severity_text}}</td><td>{{status_text}}</td><td>{{summary}}</td><td>{{since}}</td></tr>
                {{/alerts}}
                </table>
                <p><small>Sent automatically. Notification ids: {{notification_ids}}</small></p>
                </body></html>

                """)
    }
}

extension Severity {
    public func text(in language: Language) -> String {
        switch (self, language) {
        case (.critical, .vi): "Nghiêm trọng"
        case (.error, .vi): "Lỗi"
        case (.warning, .vi): "Cảnh báo"
        case (.notice, .vi): "Lưu ý"
        case (.info, .vi): "Thông tin"
        case (_, .en): rawValue
        }
    }
}
