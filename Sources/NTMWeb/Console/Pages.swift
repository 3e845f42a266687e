import CheckKit
import Foundation
import NTMAlerting
import NTMDelivery
import NTMStore
import NTMWatchCore

extension Console {
    /// Worst first: the higher severity, firing before pending, open longer; then by fingerprint,
    /// so that equal alerts (a cycle opens thousands at one instant) always come in one order.
    static func precedes(_ a: (Severity, Alert.Status, Date, String), _ b: (Severity, Alert.Status, Date, String)) -> Bool {
        (b.0, a.1 == .firing ? 0 : 1, a.2, a.3) < (a.0, b.1 == .firing ? 0 : 1, b.2, b.3)
    }

    static func order(_ a: Alert, _ b: Alert) -> Bool {
        precedes((a.severity, a.status, a.activeSince, a.fingerprint), (b.severity, b.status, b.activeSince, b.fingerprint))
    }

    static func order(_ a: AlertStateStore.IndexedAlert, _ b: AlertStateStore.IndexedAlert) -> Bool {
        precedes((a.severity, a.status, a.activeSince, a.fingerprint), (b.severity, b.status, b.activeSince, b.fingerprint))
    }

    func badge(_ severity: Severity, _ t: Words) -> HTMLText {
        "<span class=\"sev sev-\(severity.rawValue)\">\(t.severity(severity))</span>"
    }

    func status(_ status: Alert.Status, _ t: Words) -> String {
        switch status {
        case .pending: t("Chờ xác nhận", "Pending")
        case .firing: t("Đang cảnh báo", "Firing")
        case .resolved: t("Đã hết", "Resolved")
        }
    }

    func table(_ headers: [String], _ rows: [HTMLText], empty: String) -> HTMLText {
        guard !rows.isEmpty else { return "<p class=\"muted\">\(empty)</p>" }
        let head = headers.map { header -> HTMLText in "<th scope=\"col\">\(header)</th>" }.joined()
        return "<div class=\"scroll\"><table><thead><tr>\(head)</tr></thead><tbody>\(rows.joined())</tbody></table></div>"
    }

    static let shown: [Severity] = [.critical, .error, .warning, .notice, .info]

    // MARK: Province overview

    /// The body but its first line (the instant) is kept while the alerts, the history and the
    /// store's data stay as they are, per language; a repeated request then costs two queries.
    func overview(_ t: Words) async throws -> Page {
        let now = Date()
        let (placement, placementKey) = try await state.placement(store, now: now)
        let alerts = try await state.alerts()
        // The mark is read before the alerts, so what is kept is at least as new as its key.
        let mark = try await alerts?.changeMark()
        let key = placementKey.flatMap { placement in mark.map { ConsoleState.OverviewKey(alerts: $0, placement: placement) } }
        let asOf: HTMLText = """
            <p class="muted">\(t("Số liệu lúc", "As of")) \(t.instant(now)) \(t("(giờ Việt Nam). Khu vực là đơn vị cấp trên của xã theo địa giới đang có hiệu lực.", "(Vietnam time). An area is the commune's parent unit in force today."))</p>

            """
        let title = t("Tổng quan tỉnh", "Province overview")
        if let key, let body = await state.cachedOverview(key, t.language) { return Page(title: title, body: asOf + body) }
        let body = try await overviewBody(alerts, placement, now: now, t)
        await state.keepOverview(body, key, t.language)
        return Page(title: title, body: asOf + body)
    }

    /// Reads the open alerts' console columns, decodes only the alerts it shows, and reads the
    /// history since the trend's first day.
    func overviewBody(_ alerts: AlertStateStore?, _ placement: Placement, now: Date, _ t: Words) async throws -> HTMLText {
        let open = try await alerts?.openAlertIndex() ?? []
        var byArea: [String: [AlertStateStore.IndexedAlert]] = [:]
        for alert in open { byArea[placement.area(of: alert.unitID), default: []].append(alert) }

        // Trend: open alerts at the end of each of the last 30 days, from the history.
        let today = CivilDate(now)
        let days = (0..<30).map { today.adding(days: $0 - 29) }
        let windowStart = days[0].startInstant()
        let trend = Trend.openPerDay(try await alerts?.openings(since: windowStart) ?? [], area: placement.area(of:), days: days)

        let firing = open.filter { $0.status == .firing }
        let cards = Self.shown.map { severity -> HTMLText in
            "<div class=\"card\">\(badge(severity, t))<b>\(firing.filter { $0.severity == severity }.count)</b></div>"
        }.joined()
        let pendingCard: HTMLText = "<div class=\"card\">\(t("Chờ xác nhận", "Pending"))<b>\(open.count - firing.count)</b></div>"

        func weight(_ alerts: [AlertStateStore.IndexedAlert]) -> [Int] {
            Self.shown.map { severity in alerts.filter { $0.status == .firing && $0.severity == severity }.count }
        }
        let areas = byArea.map { (id: $0.key, alerts: $0.value, weight: weight($0.value), worst: $0.value.sorted(by: Self.order).prefix(3)) }
            .sorted { a, b in
                // Worst first; the daemon's own alerts last, after every place.
                if (a.id == Placement.noArea) != (b.id == Placement.noArea) { return b.id == Placement.noArea }
                return a.weight != b.weight ? b.weight.lexicographicallyPrecedes(a.weight) : placement.name(a.id) < placement.name(b.id)
            }
        // Only the alerts shown are decoded, a few per area.
        let shown = Dictionary(try await alerts?.alerts(fingerprints: areas.flatMap { $0.worst.map(\.fingerprint) }).map { ($0.fingerprint, $0) } ?? [],
                               uniquingKeysWith: { first, _ in first })
        var rows: [HTMLText] = []
        for (index, area) in areas.enumerated() {
            let name = area.id == Placement.noArea ? t("Hệ thống và toàn tỉnh", "Daemon and province-wide") : placement.name(area.id)
            let counts = area.weight.map { count -> HTMLText in "<td class=\"n\">\(count)</td>" }.joined()
            let pending = area.alerts.filter { $0.status == .pending }.count
            let worst = area.worst.map { alert -> HTMLText in
                let full = shown[alert.fingerprint]
                return "<li>\(badge(alert.severity, t)) <a href=\"/alert/\(HTML.segment(alert.fingerprint))\">\(full?.subject.name ?? alert.fingerprint)</a>: \(full?.summary(in: t.language) ?? "")</li>"
            }.joined()
            let spark = Charts.sparkline(id: "trend-\(index)", counts: trend[area.id] ?? Array(repeating: 0, count: days.count), words: t)
            rows.append("""
                <tr><th scope="row"><a href="/area/\(HTML.segment(area.id))">\(name)</a></th>\(counts)<td class="n">\(pending)</td>\
                <td><ul>\(worst)</ul></td><td>\(spark)</td></tr>
                """)
        }
        let headers = [t("Khu vực", "Area")] + Self.shown.map(t.severity) + [t("Chờ", "Pending"), t("Nổi bật nhất", "Worst items"), t("30 ngày", "30 days")]
        return """
            <div class="cards">\(cards)\(pendingCard)</div>
            <h2>\(t("Cảnh báo đang phát theo khu vực", "Firing alerts by area"))</h2>
            \(table(headers, rows, empty: t("Không có cảnh báo nào đang mở.", "No open alerts.")))
            """
    }

    // MARK: Area

    func area(_ id: String, _ t: Words) async throws -> Page {
        let now = Date()
        let (placement, _) = try await state.placement(store, now: now)
        let isSystem = id == Placement.noArea
        guard isSystem || placement.units[id] != nil else {
            throw NotFound(vi: "Không có đơn vị mã \(id).", en: "There is no unit \(id).")
        }
        let alerts = try await state.alerts()
        let inArea = (try await alerts?.openAlertIndex() ?? []).filter { placement.area(of: $0.unitID) == id }
        var byCommune: [String: [AlertStateStore.IndexedAlert]] = [:]
        var other: [String] = []
        for alert in inArea {
            if let commune = placement.commune(of: alert.unitID) { byCommune[commune.id, default: []].append(alert) } else { other.append(alert.fingerprint) }
        }
        let day = CivilDate(now)
        let communes = isSystem ? [] : placement.units.inForce(on: day)
            .filter { $0.level == "commune" && placement.area(of: $0.id) == id }
        func weight(_ alerts: [AlertStateStore.IndexedAlert]) -> [Int] { Self.shown.map { severity in alerts.filter { $0.severity == severity }.count } }
        let ranked = communes.map { (unit: $0, weight: weight(byCommune[$0.id] ?? [])) }.sorted { a, b in
            a.weight != b.weight ? b.weight.lexicographicallyPrecedes(a.weight) : a.unit.name < b.unit.name
        }
        let rows = ranked.map { entry -> HTMLText in
            let counts = entry.weight.map { count -> HTMLText in "<td class=\"n\">\(count)</td>" }.joined()
            return "<tr><th scope=\"row\"><a href=\"/commune/\(HTML.segment(entry.unit.id))\">\(entry.unit.name)</a></th>\(counts)</tr>"
        }
        let name = isSystem ? t("Hệ thống và toàn tỉnh", "Daemon and province-wide") : placement.name(id)
        // Only the alerts listed in full are decoded.
        let others = try await alerts?.alerts(fingerprints: other).filter(\.isOpen) ?? []
        return Page(title: name, body: """
            <h2>\(t("Các xã", "Communes"))</h2>
            \(table([t("Xã", "Commune")] + Self.shown.map(t.severity), rows, empty: t("Không có xã nào trong khu vực này.", "No commune in this area.")))
            <h2>\(t("Cảnh báo không gắn với một xã", "Alerts about no single commune"))</h2>
            \(alertRows(others.sorted(by: Self.order), t))
            """)
    }

    func alertRows(_ alerts: [Alert], _ t: Words, withAdvice: Bool = false) -> HTMLText {
        let rows = alerts.map { alert -> HTMLText in
            let values = alert.values.keys.sorted().filter { !$0.hasSuffix("_en") && !$0.hasSuffix("_vi") || $0.hasSuffix("_\(t.language.rawValue)") }
                .map { key -> HTMLText in "<dt>\(key)</dt><dd>\(alert.values[key]!.formatted(in: t.language))</dd>" }.joined()
            let advice: HTMLText = withAdvice ? "<td>\(catalog.entry(alert.messageID, t.language)?.whatToDo ?? t("(chưa có trong danh mục)", "(not in the catalog)"))</td>" : ""
            return """
                <tr><td>\(badge(alert.severity, t))<br>\(status(alert.status, t))</td>\
                <td><a href="/alert/\(HTML.segment(alert.fingerprint))">\(alert.summary(in: t.language))</a></td>\
                <td><dl>\(values)</dl></td>\(advice)</tr>
                """
        }
        var headers = [t("Mức độ", "Severity"), t("Nội dung", "Message"), t("Số liệu", "Values")]
        if withAdvice { headers.append(t("Cần làm gì", "What to do")) }
        return table(headers, rows, empty: t("Không có cảnh báo nào đang mở.", "No open alerts."))
    }

    // MARK: Commune

    func commune(_ id: String, _ t: Words) async throws -> Page {
        let now = Date()
        let (placement, _) = try await state.placement(store, now: now)
        guard let unit = placement.units[id] else { throw NotFound(vi: "Không có đơn vị mã \(id).", en: "There is no unit \(id).") }
        let day = CivilDate(now)
        let alertState = try await state.alerts()
        let here = (try await alertState?.openAlertIndex() ?? []).filter { placement.commune(of: $0.unitID)?.id == id }
        let alerts = (try await alertState?.alerts(fingerprints: here.map(\.fingerprint)) ?? []).filter(\.isOpen).sorted(by: Self.order)
        struct Facts: Sendable {
            var recognitions: [Recognition], roadmap: [RoadmapEntry], obligations: [Obligation], projects: [Project]
            var plans: [CapitalPlan], surveys: [SatisfactionSurvey]
        }
        let facts = try await store.withReader(asOf: now) { reader in
            Facts(recognitions: try await reader.recognitions().filter { $0.unitID == id },
                  roadmap: try await reader.roadmap().filter { $0.unitID == id },
                  obligations: try await reader.obligations().filter { $0.responsibleUnitID == id || $0.responsibleUnitID == unit.parentID(on: day) },
                  projects: try await reader.projects().filter { $0.communeID == id },
                  plans: try await reader.capitalPlans().filter { $0.unitID == id },
                  surveys: try await reader.surveys().filter { $0.unitID == id })
        }
        let recognitions = facts.recognitions.sorted { $0.recognizedOn < $1.recognizedOn }.map { r -> HTMLText in
            "<tr><td>\(r.tier)</td><td>\(t.day(r.recognizedOn))</td><td>\(r.decision ?? "")</td><td>\(r.revokedOn.map(t.day) ?? "")</td></tr>"
        }
        let roadmap = facts.roadmap.sorted { $0.targetYear < $1.targetYear }.map { r -> HTMLText in
            "<tr><td>\(r.tier)</td><td>\(r.targetYear)</td><td>\(r.note ?? "")</td></tr>"
        }
        let obligations = facts.obligations.filter { $0.status == "open" }.map { o -> HTMLText in
            "<tr><td>\(o.title.text(in: t.language))</td><td>\(o.rawSchedule)</td><td>\(o.legalBasis ?? "")</td></tr>"
        }
        let debts = facts.projects.map { project -> HTMLText in
            // The latest figure of each budget level and period is what is still owed.
            var latest: [String: Project.Debt] = [:]
            for debt in project.debts {
                let key = "\(debt.budgetLevel.rawValue)/\(debt.period)"
                if latest[key].map({ $0.asOf < debt.asOf }) ?? true { latest[key] = debt }
            }
            let owed = latest.values.reduce(Int64(0)) { $0 + $1.outstandingVND }
            return """
                <tr><td>\(project.name)</td><td class="n">\(Value.amountVND(project.totalVND).formatted(in: t.language))</td>\
                <td class="n">\(Value.amountVND(owed).formatted(in: t.language))</td><td>\(project.settlementApprovedOn.map(t.day) ?? "")</td></tr>
                """
        }
        let surveys = facts.surveys.sorted { $0.surveyedOn > $1.surveyedOn }.prefix(5).map { s -> HTMLText in
            let interval = Charts.wilson(satisfied: s.satisfied, respondents: s.respondents)
            return """
                <tr><td>\(t.day(s.surveyedOn))</td><td>\(s.kind)</td><td class="n">\(s.satisfied)/\(s.respondents)</td>\
                <td class="n">\(t.number(Double(s.satisfied) / Double(max(s.respondents, 1)) * 100))%</td>\
                <td class="n">\(t.number(interval.lower * 100))–\(t.number(interval.upper * 100))%</td></tr>
                """
        }
        // The threshold the satisfaction module applied to this commune, else the programme's 90%.
        let threshold = alerts.compactMap { alert -> Double? in
            if case .percent(let p)? = alert.values["threshold"], alert.ruleID.hasPrefix("satisfaction.") { return p } else { return nil }
        }.first ?? 90
        let kind = facts.surveys.max { $0.surveyedOn < $1.surveyedOn }?.kind
        let satisfaction = Charts.satisfaction(id: "satisfaction", surveys: facts.surveys.filter { $0.kind == kind }.map {
            Charts.Survey(on: $0.surveyedOn, respondents: $0.respondents, satisfied: $0.satisfied)
        }, thresholdPercent: threshold, words: t)
        let disbursement = disbursementChart(facts.plans, today: day, milestones: await disbursementMilestones(), t)
        let parent = unit.parentID(on: day).map { placement.name($0) }
        return Page(title: unit.name, body: """
            <p class="muted">\(t("Mã", "Code")) \(unit.id)\(parent.map { " · \(t("thuộc", "in")) \($0)" } ?? "") · \(t.instant(now))</p>
            <h2>\(t("Cảnh báo", "Alerts"))</h2>
            \(alertRows(alerts, t, withAdvice: true))
            <h2>\(t("Công nhận", "Recognitions"))</h2>
            \(table([t("Hạng", "Tier"), t("Ngày", "On"), t("Quyết định", "Decision"), t("Thu hồi", "Revoked")], recognitions, empty: t("Chưa có.", "None.")))
            <h2>\(t("Lộ trình", "Roadmap"))</h2>
            \(table([t("Hạng", "Tier"), t("Năm", "Year"), t("Ghi chú", "Note")], roadmap, empty: t("Chưa có.", "None.")))
            <h2>\(t("Nhiệm vụ có thời hạn đang mở", "Open deadlines"))</h2>
            \(table([t("Nhiệm vụ", "Duty"), t("Lịch", "Schedule"), t("Căn cứ", "Basis")], obligations, empty: t("Không có.", "None.")))
            <h2>\(t("Nợ đọng xây dựng cơ bản", "Construction debt"))</h2>
            \(table([t("Dự án", "Project"), t("Tổng mức", "Total"), t("Còn nợ", "Owed"), t("Quyết toán", "Settled")], debts, empty: t("Không có dự án.", "No projects.")))
            <h2>\(t("Khảo sát sự hài lòng gần nhất", "Latest satisfaction surveys"))</h2>
            \(table([t("Ngày", "On"), t("Loại", "Kind"), t("Hài lòng", "Satisfied"), t("Tỷ lệ", "Rate"), t("Khoảng tin cậy 95%", "95% interval")], Array(surveys), empty: t("Chưa có khảo sát.", "No surveys.")))
            \(satisfaction)
            <h2>\(t("Giải ngân", "Disbursement"))</h2>
            \(disbursement)
            """)
    }

    /// The milestones the `disbursement` check measures against: the `milestones` setting of its
    /// configuration, where the module's declaration supplies the default (50% by 30/6, 100% by
    /// 31/12); none when no disbursement check is configured.
    func disbursementMilestones() async -> [(month: Int, day: Int, percent: Double)] {
        guard let check = await engine.runtime.checks.first(where: { $0.module.descriptor.name == "disbursement" }),
              let table = try? [String: Double](setting: check.settings.value("milestones"), key: "milestones")
        else { return [] }
        return table.compactMap { key, percent in
            // MM-DD, as the module reads it; the daemon validated it when it loaded the check.
            let parts = key.split(separator: "-").compactMap { Int($0) }
            return parts.count == 2 && (1...12).contains(parts[0]) ? (parts[0], parts[1], percent) : nil
        }.sorted { ($0.month, $0.day) < ($1.month, $1.day) }
    }

    /// The latest year of the commune's capital up to this one, summed over its plans, against
    /// the disbursement check's milestones.
    func disbursementChart(_ plans: [CapitalPlan], today: CivilDate, milestones: [(month: Int, day: Int, percent: Double)], _ t: Words) -> HTMLText {
        guard let year = plans.map(\.year).filter({ $0 <= today.year }).max() else {
            return "<p class=\"muted\">\(t("Chưa có kế hoạch vốn.", "No capital plans."))</p>"
        }
        let ofYear = plans.filter { $0.year == year }
        let assigned = ofYear.reduce(Int64(0)) { $0 + $1.assignedVND }
        let days = Set(ofYear.flatMap { $0.disbursed.map(\.on) }).sorted()
        let series = days.map { day in
            (on: day, cumulativeVND: ofYear.reduce(Int64(0)) { sum, plan in
                sum + (plan.disbursed.filter { $0.on <= day }.max { $0.on < $1.on }?.cumulativeVND ?? 0)
            })
        }
        // 29 February is 28 February in a common year, as the module has it.
        let dated = milestones.compactMap { milestone in
            CivilDate(year: year, month: milestone.month, day: min(milestone.day, CivilDate.daysInMonth(year: year, month: milestone.month)))
                .map { (day: $0, percent: milestone.percent) }
        }
        return Charts.disbursement(id: "disbursement", year: year, assignedVND: assigned, disbursed: series, milestones: dated, words: t)
    }

    // MARK: Alert

    func alert(_ fingerprint: String, _ t: Words, principal: ConsoleAuth.Principal?) async throws -> Page {
        guard let state = try await state.alerts(), let alert = try await state.alert(fingerprint: fingerprint) else {
            throw NotFound(vi: "Không có cảnh báo \(fingerprint).", en: "There is no alert \(fingerprint).")
        }
        let labels = alert.notificationLabels.sorted { $0.key < $1.key }.map { "<dt>\($0.key)</dt><dd>\($0.value)</dd>" as HTMLText }.joined()
        let values = alert.values.sorted { $0.key < $1.key }.map { "<dt>\($0.key)</dt><dd>\($0.value.formatted(in: t.language))</dd>" as HTMLText }.joined()
        let entry = catalog.entry(alert.messageID, t.language)
        let history = try await state.transitions(of: fingerprint).map { tr -> HTMLText in
            "<tr><td>\(t.instant(tr.at))</td><td>\(tr.from.map { status($0, t) } ?? "—")</td><td>\(tr.to.map { status($0, t) } ?? "—")</td><td>\(badge(tr.severity, t))</td></tr>"
        }
        var deliveries: [HTMLText] = []
        for notification in try await state.notifications(of: fingerprint) {
            for event in try await state.deliveryEvents(of: notification.id) {
                deliveries.append("""
                    <tr><td>\(t.instant(notification.at))</td><td>\(notification.reason.rawValue)</td><td>\(event.receiver)</td>\
                    <td>\(event.result)</td><td>\(t.instant(event.at))</td><td>\(event.error ?? "")</td></tr>
                    """)
            }
        }
        return Page(title: alert.summary(in: t.language), body: """
            <p>\(badge(alert.severity, t)) \(status(alert.status, t)) · \(t("từ", "since")) \(t.instant(alert.activeSince))\
            \(alert.resolvedAt.map { " · \(t("hết lúc", "resolved")) \(t.instant($0))" } ?? "")</p>
            <h2>\(t("Cần làm gì", "What to do"))</h2>
            <p>\(entry?.whatToDo ?? t("Danh mục thông báo (\(catalogPath)) không có mục này.", "The message catalog (\(catalogPath)) has no entry for it."))</p>
            \(entry.map { "<p class=\"muted\">\(t("Vì sao quan trọng", "Why it matters")): \($0.why)<br>\(t("Căn cứ", "Source")): \($0.source)</p>" as HTMLText } ?? "")
            <h2>\(t("Số liệu", "Values"))</h2><dl>\(values)</dl>
            <h2>\(t("Nhãn", "Labels"))</h2><dl>\(labels)</dl>
            <h2>\(t("Lịch sử chuyển trạng thái", "Transitions"))</h2>
            \(table([t("Lúc", "At"), t("Từ", "From"), t("Sang", "To"), t("Mức độ", "Severity")], history, empty: t("Chưa có.", "None.")))
            <h2>\(t("Thông báo đã gửi", "Notifications"))</h2>
            \(table([t("Lúc", "At"), t("Lý do", "Reason"), t("Nơi nhận", "Receiver"), t("Kết quả", "Result"), t("Lúc gửi", "Sent"), t("Lỗi", "Error")], deliveries, empty: t("Chưa có.", "None.")))
            \(silencesSection(alert, silences: try await state.silences(), t, principal: principal))
            """)
    }

    // MARK: Checks

    func checks(_ t: Words) async throws -> Page {
        let runtime = await engine.runtime
        let runs = Dictionary(try await state.alerts()?.checkRuns().map { ($0.check, $0) } ?? [], uniquingKeysWith: { a, _ in a })
        let rows = runtime.checks.map { check -> HTMLText in
            let run = runs[check.name]
            let next = run.map { t.instant($0.lastRunAt.addingTimeInterval(Double(check.interval.components.seconds))) } ?? t("khi khởi động", "at start")
            let outcome = run.map { $0.outcome == "ok" ? t("được", "ok") : "\($0.outcome): \($0.reason ?? "")" } ?? t("chưa chạy", "not run yet")
            return """
                <tr><th scope="row">\(check.name)</th><td>\(check.module.descriptor.name) \(check.module.descriptor.version)</td>\
                <td>\(run.map { t.instant($0.lastRunAt) } ?? "—")</td><td class="n">\(run?.duration.map { t.number($0, digits: 2) + " s" } ?? "—")</td>\
                <td>\(outcome)</td><td class="n">\(run?.findings.map(String.init) ?? "—")</td>\
                <td class="n">\(run?.consecutiveFailures ?? 0)</td><td>\(next)</td></tr>
                """
        }
        let problems = runtime.problems.map { p -> HTMLText in "<tr><td>\(p.subject)</td><td>\(p.reason)</td></tr>" }
        return Page(title: t("Mô-đun và kiểm tra", "Modules and checks"), body: """
            \(table([t("Kiểm tra", "Check"), t("Mô-đun", "Module"), t("Lần chạy cuối", "Last run"), t("Thời gian", "Duration"),
                     t("Kết quả", "Outcome"), t("Phát hiện", "Findings"), t("Lỗi liên tiếp", "Failures in a row"), t("Lần chạy tới (khoảng)", "Next run (about)")],
                    rows, empty: t("Chưa cấu hình kiểm tra nào.", "No checks configured.")))
            <h2>\(t("Không nạp được", "Could not be loaded"))</h2>
            \(table([t("Tệp hoặc kiểm tra", "File or check"), t("Lý do", "Reason")], problems, empty: t("Không có.", "None.")))
            """)
    }

    // MARK: Data freshness

    func freshness(_ t: Words) async throws -> Page {
        let rows = try await store.withReader(asOf: Date()) { reader in
            try await reader.query("SELECT kind, file, imported_at, inserted, updated, unchanged FROM import_log ORDER BY imported_at", parameters: [])
        }
        var latest: [String: StoreRow] = [:]
        for row in rows { if case .text(let kind)? = row["kind"] { latest[kind] = row } }
        let lines = ImportKind.allCases.map { kind -> HTMLText in
            guard let row = latest[kind.rawValue] else {
                return "<tr><th scope=\"row\">\(kind.rawValue)</th><td class=\"muted\">\(t("chưa nhập", "never imported"))</td><td></td><td></td></tr>"
            }
            let at = row["imported_at"]?.plain ?? ""
            let when = (try? Date(at, strategy: .iso8601)).map(t.instant) ?? at
            let counts = t("\(row["inserted"]?.plain ?? "0") thêm, \(row["updated"]?.plain ?? "0") sửa, \(row["unchanged"]?.plain ?? "0") giữ nguyên",
                           "\(row["inserted"]?.plain ?? "0") added, \(row["updated"]?.plain ?? "0") updated, \(row["unchanged"]?.plain ?? "0") unchanged")
            return "<tr><th scope=\"row\">\(kind.rawValue)</th><td>\(when)</td><td>\((row["file"]?.plain ?? "" as String).split(separator: "/").last.map(String.init) ?? "")</td><td>\(counts)</td></tr>"
        }
        return Page(title: t("Độ mới của dữ liệu", "Data freshness"), body: """
            <p class="muted">\(t("Lần nhập gần nhất của mỗi loại dữ liệu (ntmwatch import).", "The latest import of each kind of data (ntmwatch import)."))</p>
            \(table([t("Loại", "Kind"), t("Nhập lúc", "Imported"), t("Tệp", "File"), t("Thay đổi", "Changes")], lines, empty: ""))
            """)
    }

    // MARK: Targets

    func targets(_ t: Words) async throws -> Page {
        let now = Date()
        let targets = try await store.withReader(asOf: now) { try await $0.provinceTargets() }
        let alerts = try await state.alerts()?.activeAlerts().filter { $0.subject.kind == "target" } ?? []
        func number(_ value: Value?) -> Double? {
            switch value {
            case .number(let x)?, .percent(let x)?: x
            case .integer(let i)?: Double(i)
            default: nil
            }
        }
        var sections: [HTMLText] = []
        for (index, target) in targets.sorted(by: { $0.by < $1.by }).enumerated() {
            let alert = alerts.first { $0.subject.id == target.id }
            let current = number(alert?.values["current"]).map { (on: CivilDate(alert!.activeSince), value: $0) }
            let baseline = target.baseline.map { (on: target.baselineOn ?? CivilDate(now), value: $0) }
            let unit = target.unit == "%" ? "%" : " \(target.unit)"
            let chart = Charts.projection(id: "target-\(index)", title: target.title.text(in: t.language), unit: unit, target: target.target,
                                          by: target.by, baseline: baseline, current: current, projected: number(alert?.values["projected"]), words: t)
            let outlook = alert.map { $0.summary(in: t.language) } ?? t("Không có cảnh báo: đã đạt hoặc đang đúng hướng.", "No alert: met or on track.")
            sections.append("<h2>\(target.title.text(in: t.language))</h2><p>\(outlook)</p>\(chart)")
        }
        return Page(title: t("Mục tiêu của tỉnh", "The province's targets"),
                    body: sections.isEmpty ? "<p class=\"muted\">\(t("Chưa có mục tiêu.", "No targets."))</p>" : sections.joined())
    }
}
