import CheckKit
import Foundation

/// Pictures drawn on the server as SVG: no script, nothing fetched. Each has a `<title>` and a
/// `<desc>` that says in words what the picture shows, for screen readers and for people who
/// would rather read the numbers.
enum Charts {
    /// The 95% Wilson score interval of `satisfied` out of `respondents`, as fractions.
    static func wilson(satisfied: Int, respondents: Int, z: Double = 1.96) -> (lower: Double, upper: Double) {
        guard respondents > 0 else { return (0, 1) }
        let n = Double(respondents), p = Double(satisfied) / n, z2 = z * z
        let centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        let half = z * ((p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()) / (1 + z2 / n)
        return (max(0, centre - half), min(1, centre + half))
    }

    /// A plot area in a 640×260 view box, mapping day numbers and values to points.
    struct Frame {
        let width = 640.0, height = 260.0, left = 56.0, right = 16.0, top = 16.0, bottom = 36.0
        let xs: ClosedRange<Double>, ys: ClosedRange<Double>
        func x(_ value: Double) -> Double {
            let span = max(xs.upperBound - xs.lowerBound, 1)
            return left + (value - xs.lowerBound) / span * (width - left - right)
        }
        func y(_ value: Double) -> Double {
            let span = max(ys.upperBound - ys.lowerBound, 1e-9)
            return height - bottom - (value - ys.lowerBound) / span * (height - top - bottom)
        }
    }

    static func f(_ value: Double) -> String { String(format: "%.1f", value) }

    static func svg(id: String, title: String, description: String, frame: Frame, body: HTMLText) -> HTMLText {
        """
        <svg class="chart" viewBox="0 0 \(f(frame.width)) \(f(frame.height))" role="img" aria-labelledby="\(id)-t \(id)-d" \
        xmlns="http://www.w3.org/2000/svg"><title id="\(id)-t">\(title)</title><desc id="\(id)-d">\(description)</desc>\(body)</svg>
        """
    }

    /// Horizontal grid lines with their labels, and the first and last day under the x axis.
    static func axes(_ frame: Frame, yTicks: [Double], yLabel: (Double) -> String, days: [CivilDate], words: Words) -> HTMLText {
        var out: [HTMLText] = []
        for tick in yTicks {
            let y = f(frame.y(tick))
            out.append("""
                <line class="grid" x1="\(f(frame.left))" x2="\(f(frame.width - frame.right))" y1="\(y)" y2="\(y)"/>\
                <text class="tick" x="\(f(frame.left - 6))" y="\(y)" text-anchor="end" dominant-baseline="middle">\(yLabel(tick))</text>
                """)
        }
        for (index, day) in days.enumerated() {
            let anchor = index == 0 ? "start" : index == days.count - 1 ? "end" : "middle"
            out.append("""
                <text class="tick" x="\(f(frame.x(Double(day.dayNumber))))" y="\(f(frame.height - 12))" text-anchor="\(anchor)">\(words.day(day))</text>
                """)
        }
        return out.joined()
    }

    struct Survey { let on: CivilDate; let respondents: Int; let satisfied: Int }

    /// Satisfaction over time: each survey's rate with its 95% Wilson interval, and the threshold.
    static func satisfaction(id: String, surveys: [Survey], thresholdPercent: Double, words t: Words) -> HTMLText {
        let surveys = surveys.filter { $0.respondents > 0 }.sorted { $0.on < $1.on }
        guard let first = surveys.first, let last = surveys.last else { return "" }
        let intervals = surveys.map { wilson(satisfied: $0.satisfied, respondents: $0.respondents) }
        let lowest = min(intervals.map(\.lower).min()! * 100, thresholdPercent)
        let floor = max(0, (lowest / 10).rounded(.down) * 10 - 10)
        let pad = max(30.0, Double(last.on.dayNumber - first.on.dayNumber) * 0.08)
        let frame = Frame(xs: Double(first.on.dayNumber) - pad...Double(last.on.dayNumber) + pad, ys: floor...100)
        var body = axes(frame, yTicks: stride(from: floor, through: 100, by: 10).map { $0 },
                        yLabel: { "\(Int($0))%" }, days: surveys.count > 1 ? [first.on, last.on] : [first.on], words: t)
        let ty = f(frame.y(thresholdPercent))
        body += """
            <line class="threshold" x1="\(f(frame.left))" x2="\(f(frame.width - frame.right))" y1="\(ty)" y2="\(ty)"/>\
            <text class="label" x="\(f(frame.width - frame.right))" y="\(f(frame.y(thresholdPercent) - 4))" text-anchor="end">\
            \(t("Ngưỡng", "Threshold")) \(t.number(thresholdPercent, digits: 0))%</text>
            """
        let points = surveys.map { survey in
            "\(f(frame.x(Double(survey.on.dayNumber)))),\(f(frame.y(Double(survey.satisfied) / Double(survey.respondents) * 100)))"
        }
        body += "<polyline class=\"series\" points=\"\(points.joined(separator: " "))\"/>"
        var sentences: [String] = []
        for (survey, interval) in zip(surveys, intervals) {
            let x = f(frame.x(Double(survey.on.dayNumber)))
            let rate = Double(survey.satisfied) / Double(survey.respondents) * 100
            body += """
                <line class="interval" x1="\(x)" x2="\(x)" y1="\(f(frame.y(interval.lower * 100)))" y2="\(f(frame.y(interval.upper * 100)))"/>\
                <circle class="point" cx="\(x)" cy="\(f(frame.y(rate)))" r="4"/>
                """
            sentences.append(t("\(t.day(survey.on)): \(t.number(rate))% (\(survey.satisfied)/\(survey.respondents) người), khoảng tin cậy 95% \(t.number(interval.lower * 100))–\(t.number(interval.upper * 100))%",
                               "\(t.day(survey.on)): \(t.number(rate))% (\(survey.satisfied) of \(survey.respondents)), 95% interval \(t.number(interval.lower * 100))–\(t.number(interval.upper * 100))%"))
        }
        let description = t("Ngưỡng \(t.number(thresholdPercent, digits: 0))%. ", "Threshold \(t.number(thresholdPercent, digits: 0))%. ")
            + sentences.joined(separator: "; ") + "."
        return svg(id: id, title: t("Tỷ lệ hài lòng theo thời gian", "Satisfaction over time"), description: description, frame: frame, body: body)
    }

    /// A year's capital: the disbursed share by day against the milestones (percent due by a day).
    static func disbursement(id: String, year: Int, assignedVND: Int64, disbursed: [(on: CivilDate, cumulativeVND: Int64)],
                             milestones: [(day: CivilDate, percent: Double)], words t: Words) -> HTMLText {
        guard assignedVND > 0, let start = CivilDate(year: year, month: 1, day: 1), let end = CivilDate(year: year, month: 12, day: 31)
        else { return "" }
        let frame = Frame(xs: Double(start.dayNumber)...Double(end.dayNumber), ys: 0...100)
        var body = axes(frame, yTicks: [0, 25, 50, 75, 100], yLabel: { "\(Int($0))%" }, days: [start, end], words: t)
        var sentences: [String] = []
        for milestone in milestones {
            let x = f(frame.x(Double(milestone.day.dayNumber)))
            body += """
                <line class="milestone" x1="\(x)" x2="\(x)" y1="\(f(frame.y(0)))" y2="\(f(frame.y(100)))"/>\
                <path class="target" d="M\(x) \(f(frame.y(milestone.percent) - 6))l6 6l-6 6l-6 -6z"/>\
                <text class="label" x="\(x)" y="\(f(frame.y(milestone.percent) - 10))" text-anchor="end">\(milestone.day.day)/\(milestone.day.month): \(t.number(milestone.percent, digits: 0))%</text>
                """
            sentences.append(t("mốc \(milestone.day.day)/\(milestone.day.month): \(t.number(milestone.percent, digits: 0))%",
                               "milestone \(milestone.day.day)/\(milestone.day.month): \(t.number(milestone.percent, digits: 0))%"))
        }
        var points = ["\(f(frame.x(Double(start.dayNumber)))),\(f(frame.y(0)))"]
        for point in disbursed.sorted(by: { $0.on < $1.on }) where point.on.year == year {
            let share = min(100, Double(point.cumulativeVND) / Double(assignedVND) * 100)
            points.append("\(f(frame.x(Double(point.on.dayNumber)))),\(f(frame.y(share)))")
            sentences.append(t("đến \(t.day(point.on)) giải ngân \(t.number(share))%", "\(t.number(share))% disbursed by \(t.day(point.on))"))
        }
        body += "<polyline class=\"series\" points=\"\(points.joined(separator: " "))\"/>"
        let assigned = Value.amountVND(assignedVND).formatted(in: t.language)
        return svg(id: id, title: t("Giải ngân năm \(year) so với các mốc", "Disbursement in \(year) against the milestones"),
                   description: t("Vốn giao \(assigned); ", "Assigned \(assigned); ") + sentences.joined(separator: "; ") + ".",
                   frame: frame, body: body)
    }

    /// A target: its baseline, where it stands now, the projection to its date, and the target.
    static func projection(id: String, title: String, unit: String, target: Double, by: CivilDate,
                           baseline: (on: CivilDate, value: Double)?, current: (on: CivilDate, value: Double)?,
                           projected: Double?, words t: Words) -> HTMLText {
        let known = [baseline, current].compactMap { $0 }
        let firstDay = known.map(\.on).min() ?? by.adding(days: -365)
        let values = known.map(\.value) + [target] + (projected.map { [$0] } ?? [])
        let top = (values.max()! * 1.15).rounded(.up)
        let frame = Frame(xs: Double(firstDay.dayNumber) - 30...Double(by.dayNumber) + 30, ys: 0...max(top, 1))
        let ticks = stride(from: 0.0, through: frame.ys.upperBound, by: max(1, (frame.ys.upperBound / 4).rounded(.up))).map { $0 }
        var body = axes(frame, yTicks: ticks, yLabel: { t.number($0, digits: 0) }, days: [firstDay, by], words: t)
        let ty = f(frame.y(target))
        body += """
            <line class="threshold" x1="\(f(frame.left))" x2="\(f(frame.width - frame.right))" y1="\(ty)" y2="\(ty)"/>\
            <text class="label" x="\(f(frame.left + 4))" y="\(f(frame.y(target) - 4))">\(t("Mục tiêu", "Target")) \(t.number(target, digits: 0))\(unit)</text>
            """
        var sentences = [t("Mục tiêu \(t.number(target, digits: 0))\(unit) đến \(t.day(by))", "Target \(t.number(target, digits: 0))\(unit) by \(t.day(by))")]
        let points = known.sorted { $0.on < $1.on }.map { "\(f(frame.x(Double($0.on.dayNumber)))),\(f(frame.y($0.value)))" }
        if points.count > 1 { body += "<polyline class=\"series\" points=\"\(points.joined(separator: " "))\"/>" }
        for point in known {
            body += "<circle class=\"point\" cx=\"\(f(frame.x(Double(point.on.dayNumber))))\" cy=\"\(f(frame.y(point.value)))\" r=\"4\"/>"
        }
        if let baseline { sentences.append(t("mốc ban đầu \(t.number(baseline.value))\(unit) (\(t.day(baseline.on)))", "baseline \(t.number(baseline.value))\(unit) (\(t.day(baseline.on)))")) }
        if let current { sentences.append(t("hiện nay \(t.number(current.value))\(unit)", "now \(t.number(current.value))\(unit)")) }
        if let projected, let from = current ?? baseline {
            body += """
                <line class="projection" x1="\(f(frame.x(Double(from.on.dayNumber))))" y1="\(f(frame.y(from.value)))" \
                x2="\(f(frame.x(Double(by.dayNumber))))" y2="\(f(frame.y(projected)))"/>\
                <circle class="projected" cx="\(f(frame.x(Double(by.dayNumber))))" cy="\(f(frame.y(projected)))" r="4"/>
                """
            sentences.append(t("dự báo đến \(t.day(by)): \(t.number(projected))\(unit)", "projected by \(t.day(by)): \(t.number(projected))\(unit)"))
        }
        return svg(id: id, title: title, description: sentences.joined(separator: "; ") + ".", frame: frame, body: body)
    }

    /// A small line of daily counts (the overview's trend), with its first and last value in words.
    static func sparkline(id: String, counts: [Int], words t: Words) -> HTMLText {
        guard let first = counts.first, let last = counts.last else { return "" }
        let top = Double(max(counts.max() ?? 1, 1))
        let step = 120.0 / Double(max(counts.count - 1, 1))
        let points = counts.enumerated().map { "\(f(Double($0.offset) * step)),\(f(28 - Double($0.element) / top * 26))" }
        let description = t("\(counts.count) ngày qua: từ \(first) đến \(last) cảnh báo đang mở; cao nhất \(Int(top)).",
                            "Last \(counts.count) days: from \(first) to \(last) open alerts; peak \(Int(top)).")
        return """
            <svg class="spark" viewBox="0 0 120 30" role="img" aria-labelledby="\(id)-t \(id)-d" xmlns="http://www.w3.org/2000/svg">\
            <title id="\(id)-t">\(t("Xu hướng", "Trend"))</title><desc id="\(id)-d">\(description)</desc>\
            <polyline class="series" points="\(points.joined(separator: " "))"/></svg>
            """
    }
}
