import CheckKit
import Foundation
import Hummingbird
import NTMAlerting
import NTMDelivery

/// Silences from the alert page: listed to everyone, created and expired only by a signed-in
/// user, through forms that carry the session's CSRF token. The daemon reads them from the
/// state file at each cycle, as it does the ones `ntmwatch silence` adds.
extension Console {
    /// The matchers a silence made from an alert's page gets: the rule and the subject, so it
    /// mutes this problem of this place and nothing else.
    static func matchers(for alert: Alert) throws -> [LabelMatcher] {
        try ["check", "rule", "subject_id"].compactMap { name in
            try alert.labels[name].map { try LabelMatcher(name: name, op: .equal, value: $0) }
        }
    }

    func silencesSection(_ alert: Alert, silences: [Silence], _ t: Words, principal: ConsoleAuth.Principal?) -> HTMLText {
        let now = Date()
        let matching = silences.filter { $0.matchers.matches(alert.notificationLabels) }
        let rows = matching.map { silence -> HTMLText in
            let state = silence.state(at: now)
            let stateText = switch state {
            case .pending: t("Chưa bắt đầu", "Pending")
            case .active: t("Đang tạm dừng", "Active")
            case .expired: t("Đã hết", "Expired")
            }
            var action: HTMLText = ""
            if let principal, state != .expired {
                action = """
                    <form method="post" action="/silences/\(HTML.segment(silence.id))/expire" class="inline">\
                    <input type="hidden" name="csrf" value="\(auth.csrfToken(for: principal))">\
                    <input type="hidden" name="back" value="\(alert.fingerprint)">\
                    <button type="submit">\(t("Kết thúc", "Expire"))</button></form>
                    """
            }
            return """
                <tr><td>\(stateText)</td><td>\(t.instant(silence.startsAt))</td><td>\(t.instant(silence.endsAt))</td>\
                <td>\(silence.createdBy)</td><td>\(silence.comment)</td><td>\(silence.matchers.map(\.description).joined(separator: ", "))</td><td>\(action)</td></tr>
                """
        }
        var form: HTMLText = ""
        if let principal {
            let until = CivilDate(now).adding(days: 7)
            form = """
                <form method="post" action="/silences" class="login"><input type="hidden" name="csrf" value="\(auth.csrfToken(for: principal))">\
                <input type="hidden" name="fingerprint" value="\(alert.fingerprint)">\
                <label>\(t("Tạm dừng đến hết ngày", "Silence until the end of")) <input type="date" name="until" value="\(until.description)" required></label>\
                <label>\(t("Lý do", "Comment")) <input name="comment" required maxlength="500"></label>\
                <button type="submit">\(t("Tạm dừng cảnh báo này", "Silence this alert"))</button></form>
                """
        } else if auth.loginConfigured {
            form = "<p><a href=\"/login\">\(t("Đăng nhập để tạm dừng cảnh báo", "Log in to silence alerts"))</a></p>"
        }
        return """
            <h2>\(t("Tạm dừng (silence)", "Silences"))</h2>
            \(table([t("Trạng thái", "State"), t("Từ", "From"), t("Đến", "Until"), t("Người tạo", "By"), t("Lý do", "Comment"), t("Điều kiện", "Matchers"), ""],
                    rows, empty: t("Không có lệnh tạm dừng nào khớp cảnh báo này.", "No silence matches this alert.")))
            \(form)
            """
    }

    func registerSilences(on router: Hummingbird.Router<ConsoleRequestContext>) {
        router.post("/silences") { request, context in try await createSilence(request, context) }
        router.post("/silences/:id/expire") { request, context in
            try await expireSilence(context.parameters.get("id") ?? "", request, context)
        }
    }

    /// The state file opened for writing, as `ntmwatch silence` opens it, for one change.
    func withWritableState<T: Sendable>(_ body: (AlertStateStore) async throws -> T) async throws -> T {
        try await AlertStateStore.open(directory: stateDirectory).closing(after: body)
    }

    func createSilence(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        guard let (principal, fields) = try await authorize(request, context) else {
            return Self.refused("403: not signed in, or the form's token or origin is not this console's")
        }
        let fingerprint = fields["fingerprint"] ?? ""
        let comment = (fields["comment"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard let until = fields["until"].flatMap(CivilDate.init), !comment.isEmpty else {
            return Self.badRequest("until must be a date (YYYY-MM-DD) and comment must not be empty")
        }
        return try await withWritableState { state in
            guard let alert = try await state.alert(fingerprint: fingerprint) else {
                return Self.badRequest("there is no alert \(fingerprint)")
            }
            let now = Date()
            let silence: Silence
            do {
                silence = try Silence(matchers: try Self.matchers(for: alert), startsAt: now, endsAt: until.adding(days: 1).startInstant(),
                                      createdBy: principal.user, comment: comment, updatedAt: now)
            } catch {
                return Self.badRequest("\(error)")
            }
            try await state.save([silence])
            return Self.redirect("/alert/\(HTML.segment(fingerprint))")
        }
    }

    func expireSilence(_ id: String, _ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        guard let (principal, fields) = try await authorize(request, context) else {
            return Self.refused("403: not signed in, or the form's token or origin is not this console's")
        }
        return try await withWritableState { state in
            guard let silence = try await state.silences().first(where: { $0.id == id }) else {
                return Self.badRequest("there is no silence \(id)")
            }
            let now = Date()
            // Ends now; one that had not started yet ends before it starts, as Alertmanager's expiry does.
            let expired = try Silence(id: silence.id, matchers: silence.matchers, startsAt: min(silence.startsAt, now.addingTimeInterval(-1)),
                                      endsAt: now, createdBy: silence.createdBy,
                                      comment: silence.comment + " — \(principal.user) kết thúc / expired", updatedAt: now)
            try await state.save([expired])
            return Self.redirect(fields["back"].map { "/alert/\(HTML.segment($0))" } ?? "/")
        }
    }

    static func badRequest(_ why: String) -> Response { StatusServer.text(.badRequest, why + "\n") }
}
