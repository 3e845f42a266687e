import Foundation

/// Removes secrets from text that may be printed or logged: store locations, URLs, and errors that
/// quote them. Every place that prints one of those goes through ``redact(_:)``.
///
/// It works on the text, not on a parsed URL, because the dangerous case is the URL that does not
/// parse: `postgres//u:pw@h/db` is a relative path to URLComponents, which then keeps the password.
public enum Redaction {
    public static let mask = "***"

    // `user:secret@host`, wherever it starts (after `//`, a quote, `=`, a blank or the start; a
    // `scheme:` followed by `//` is not a user);
    // the secret runs to the last `@` before the next blank, since an unencoded `@` is a typo we
    // must not leak either.
    private static let userinfo = try! NSRegularExpression(
        pattern: #"((?:^|[\s/'"=(<])[^\s/:@'"<>]*:(?!//))\S*(@[^\s@'"<>]*)"#)
    // `password=...`, `pwd: ...` (libpq key/value strings, URL queries, YAML).
    private static let keyValue = try! NSRegularExpression(
        pattern: #"((?:password|passwd|pwd|secret|token)\s*[=:]\s*)('[^']*'|"[^"]*"|[^\s&;,'"]+)"#,
        options: [.caseInsensitive])

    public static func redact(_ text: String) -> String {
        var result = text
        for (expression, template) in [(userinfo, "$1\(mask)$2"), (keyValue, "$1\(mask)")] {
            result = expression.stringByReplacingMatches(in: result, range: NSRange(result.startIndex..., in: result),
                                                         withTemplate: template)
        }
        return result
    }
}
