import CheckKit
import Foundation

extension EmailTemplates {
    /// Digest templates: `digest-subject|text|html.<lang>.mustache` in the operator's folder, or
    /// the bundled ones.
    public static func digest(language: Language, overrides folder: String?) throws(Invalid) -> EmailTemplates {
        try load(prefix: "digest", language: language, overrides: folder, bundled: language == .vi ? DigestBundled.vi : DigestBundled.en)
    }
}

enum DigestBundled {
    static let vi = (
        subject: "[ntmwatch] Bản tin {{receiver}} đến {{to}}: {{new_count}} mới, {{firing_count}} đang xảy ra, {{resolved_count}} đã hết",
        text: """
            Bản tin cảnh báo của {{{receiver}}}, từ {{{from}}} đến {{{to}}}

            MỚI ({{new_count}})
            {{#new}}
            - [{{{severity_text}}}] {{{summary}}} (từ {{{since}}})
            {{/new}}
            {{^has_new}}
            - không có
            {{/has_new}}

            ĐANG XẢY RA ({{firing_count}})
            {{#firing}}
            {{{parent}}}
            {{#units}}
              {{{unit}}}
            {{#alerts}}
              - [{{{severity_text}}}] {{{summary}}} (từ {{{since}}})
            {{/alerts}}
            {{/units}}
            {{/firing}}

            ĐÃ HẾT ({{resolved_count}})
            {{#resolved}}
            - {{{summary}}} (hết lúc {{{resolved_at}}})
            {{/resolved}}

            ĐANG TẠM DỪNG ({{silenced_count}})
            {{#silenced}}
            - {{{summary}}} (đến {{{until}}})
            {{/silenced}}

            """,
        html: """
            <!DOCTYPE html>
            <html lang="vi"><head><meta charset="utf-8"><title>Bản tin cảnh báo {{receiver}}</title></head>
            <body>
            <h1>Bản tin cảnh báo của {{receiver}}</h1>
            <p id="period">Từ {{from}} đến {{to}}</p>
            <h2>Mới ({{new_count}})</h2>
            <ul id="new">{{#new}}<li>[{{severity_text}}] {{summary}} (từ {{since}})</li>{{/new}}</ul>
            <h2>Đang xảy ra ({{firing_count}})</h2>
            <div id="firing">
            {{#firing}}<h3>{{parent}}</h3>
            {{#units}}<h4>{{unit}}</h4><ul>{{#alerts}}<li>[{{severity_text}}] {{summary}} (từ {{since}})</li>{{/alerts}}</ul>
            {{/units}}{{/firing}}
            </div>
            <h2>Đã hết ({{resolved_count}})</h2>
            <ul id="resolved">{{#resolved}}<li>{{summary}} (hết lúc {{resolved_at}})</li>{{/resolved}}</ul>
            <h2>Đang tạm dừng ({{silenced_count}})</h2>
            <ul id="silenced">{{#silenced}}<li>{{summary}} (đến {{until}})</li>{{/silenced}}</ul>
            </body></html>

            """)
    static let en = (
        subject: "[ntmwatch] {{receiver}} digest to {{to}}: {{new_count}} new, {{firing_count}} firing, {{resolved_count}} resolved",
        text: """
            Alert digest for {{{receiver}}}, {{{from}}} to {{{to}}}

            NEW ({{new_count}})
            {{#new}}
            - [{{{severity_text}}}] {{{summary}}} (since {{{since}}})
            {{/new}}

            STILL FIRING ({{firing_count}})
            {{#firing}}
            {{{parent}}}
            {{#units}}
              {{{unit}}}
            {{#alerts}}
              - [{{{severity_text}}}] {{{summary}}} (since {{{since}}})
            {{/alerts}}
            {{/units}}
            {{/firing}}

            RESOLVED ({{resolved_count}})
            {{#resolved}}
            - {{{summary}}} (at {{{resolved_at}}})
            {{/resolved}}

            SILENCED ({{silenced_count}})
            {{#silenced}}
            - {{{summary}}} (until {{{until}}})
            {{/silenced}}

            """,
        html: """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Alert digest {{receiver}}</title></head>
            <body>
            <h1>Alert digest for {{receiver}}</h1>
            <p id="period">{{from}} to {{to}}</p>
            <h2>New ({{new_count}})</h2>
            <ul id="new">{{#new}}<li>[{{severity_text}}] {{summary}} (since {{since}})</li>{{/new}}</ul>
            <h2>Still firing ({{firing_count}})</h2>
            <div id="firing">
            {{#firing}}<h3>{{parent}}</h3>
            {{#units}}<h4>{{unit}}</h4><ul>{{#alerts}}<li>[{{severity_text}}] {{summary}} (since {{since}})</li>{{/alerts}}</ul>
            {{/units}}{{/firing}}
            </div>
            <h2>Resolved ({{resolved_count}})</h2>
            <ul id="resolved">{{#resolved}}<li>{{summary}} (at {{resolved_at}})</li>{{/resolved}}</ul>
            <h2>Silenced ({{silenced_count}})</h2>
            <ul id="silenced">{{#silenced}}<li>{{summary}} (until {{until}})</li>{{/silenced}}</ul>
            </body></html>

            """)
}
