import ArgumentParser
import CheckKit
import Foundation
import NTMAlerting
import NTMDelivery
import NTMWatchCore

/// `ntmwatch silence`, as amtool's: the daemon reads the silences from the state file at each
/// run of a check, so they take effect without a reload.
struct SilenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "silence",
        abstract: "Tạm dừng thông báo cho cảnh báo khớp điều kiện / mute the notifications of matching alerts.",
        subcommands: [Add.self, List.self, Expire.self, ImportFile.self, Export.self])

    static func open(_ common: Common) async throws -> AlertStateStore {
        let configuration = try common.loadConfiguration()
        return try await AlertStateStore.open(directory: configuration.stateDirectory, logger: common.quietLogger)
    }

    /// The stored silences, without the expired ones unless asked.
    static func silences(_ common: Common, expired: Bool, at now: Date) async throws -> [Silence] {
        let state = try await open(common)
        let silences = try await state.silences()
        await state.close()
        return silences.filter { expired || $0.state(at: now) != .expired }
    }

    static func fail(_ text: String) -> ExitCode {
        FileHandle.standardError.write(Data("ntmwatch silence: \(text)\n".utf8))
        return ExitCode(2)
    }

    static func describe(_ silence: Silence, common: Common, now: Date) -> String {
        let state: String = switch (silence.state(at: now), common.language) {
        case (.pending, .vi): "chưa bắt đầu"
        case (.active, .vi): "đang hiệu lực"
        case (.expired, .vi): "đã hết hạn"
        case (let other, _): other.rawValue
        }
        let starts = Value.instant(silence.startsAt).formatted(in: common.language)
        let ends = Value.instant(silence.endsAt).formatted(in: common.language)
        let matchers = silence.matchers.map(\.description).joined(separator: ",")
        return "\(silence.id)\t\(state)\t\(starts)\t\(ends)\t\(silence.createdBy)\t{\(matchers)}\t\(silence.comment)"
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Thêm một lệnh tạm dừng / add a silence.",
            discussion: "Example: ntmwatch silence add --match rule=deadline.overdue --match commune=20107 --until 2025-01-31 --comment \"Gia hạn đến 31/01\"")
        @OptionGroup var common: Common

        @Option(name: .customLong("match"), help: "A label matcher: name=value, name!=value, name=~regex, name!~regex. Repeat for more.")
        var matchers: [String] = []

        @Option(help: "Last day (YYYY-MM-DD, to its end in Vietnam time) or an ISO 8601 instant.")
        var until: String?

        @Option(name: .customLong("for"), help: "How long, e.g. 14d or 12h (instead of --until).")
        var duration: String?

        @Option(help: "Start: ISO 8601 instant or YYYY-MM-DD (Vietnam time); now by default.")
        var starts: String?

        @Option(help: "Why the alerts are muted.")
        var comment: String

        @Option(help: "Who adds it; the login name by default.")
        var author: String?

        func run() async throws {
            var parsed: [LabelMatcher] = []
            for text in matchers {
                do {
                    parsed.append(try LabelMatcher(parsing: text))
                } catch {
                    throw SilenceCommand.fail("--match \(error)")
                }
            }
            let now = Date()
            var startsAt = now
            if let starts {
                guard let instant = InstantText.parse(starts) else { throw SilenceCommand.fail("--starts: '\(starts)' is not YYYY-MM-DD or an ISO 8601 instant") }
                startsAt = instant
            }
            let endsAt: Date
            switch (until, duration) {
            case (let until?, nil):
                if until.count <= 10, let day = CivilDate(until) {
                    endsAt = day.adding(days: 1).startInstant()
                } else if let instant = try? Date(until, strategy: .iso8601) {
                    endsAt = instant
                } else {
                    throw SilenceCommand.fail("--until: '\(until)' is not YYYY-MM-DD or an ISO 8601 instant")
                }
            case (nil, let text?):
                guard let length = DurationText.parse(text), length > .zero else { throw SilenceCommand.fail("--for: '\(text)' is not a duration such as 14d or 12h") }
                endsAt = startsAt.addingTimeInterval(length.seconds)
            default:
                throw SilenceCommand.fail("give exactly one of --until and --for")
            }
            let environment = ProcessInfo.processInfo.environment
            let silence: Silence
            do {
                silence = try Silence(matchers: parsed, startsAt: startsAt, endsAt: endsAt,
                                      createdBy: author ?? environment["SUDO_USER"] ?? environment["USER"] ?? "ntmwatch",
                                      comment: comment, updatedAt: now)
            } catch {
                throw SilenceCommand.fail(error.description)
            }
            let state = try await SilenceCommand.open(common)
            do {
                try await state.save([silence])
                let matching = try await state.activeAlerts().filter { silence.matchers.matches($0.notificationLabels) }
                await state.close()
                // Unbuffered, so the id comes before the warnings on stderr: scripts read its first line.
                FileHandle.standardOutput.write(Data("\(silence.id)\n".utf8))
                if matching.isEmpty {
                    FileHandle.standardError.write(Data((common.language == .vi
                        ? "cảnh báo: hiện không có cảnh báo nào khớp \(parsed.map(\.description).joined(separator: ",")); vẫn đã tạo lệnh tạm dừng\n"
                        : "warning: no current alert matches \(parsed.map(\.description).joined(separator: ",")); the silence was created anyway\n").utf8))
                } else {
                    common.say("Tạm dừng \(matching.count) cảnh báo đang theo dõi.", "Mutes \(matching.count) tracked alerts.")
                }
                if endsAt <= now {
                    FileHandle.standardError.write(Data((common.language == .vi
                        ? "cảnh báo: lệnh tạm dừng đã kết thúc trước bây giờ; nó chỉ có tác dụng khi chạy lại một ngày đã qua (--at)\n"
                        : "warning: the silence has already ended; it only applies to runs of past days (--at)\n").utf8))
                }
            } catch {
                await state.close()
                throw error
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Liệt kê lệnh tạm dừng / list silences.")
        @OptionGroup var common: Common

        @Flag(help: "Include expired silences.")
        var expired = false

        func run() async throws {
            let now = Date()
            let shown = try await SilenceCommand.silences(common, expired: expired, at: now)
            for silence in shown { print(SilenceCommand.describe(silence, common: common, now: now)) }
            if shown.isEmpty { common.say("Không có lệnh tạm dừng.", "No silences.") }
        }
    }

    struct Expire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Kết thúc lệnh tạm dừng ngay / end silences now.")
        @OptionGroup var common: Common

        @Argument(help: "Silence ids.")
        var ids: [String]

        func run() async throws {
            let state = try await SilenceCommand.open(common)
            let now = Date()
            var silences = try await state.silences()
            var changed: [Silence] = []
            var missing: [String] = []
            for id in ids {
                guard let index = silences.firstIndex(where: { $0.id == id }) else { missing.append(id); continue }
                // As Alertmanager: a silence that has not started ends before it starts.
                if silences[index].startsAt > now { silences[index].startsAt = now }
                if silences[index].endsAt > now { silences[index].endsAt = now }
                silences[index].updatedAt = now
                changed.append(silences[index])
            }
            try await state.save(changed)
            await state.close()
            for silence in changed { common.say("Đã kết thúc \(silence.id).", "Expired \(silence.id).") }
            if !missing.isEmpty { throw SilenceCommand.fail("no silence with id \(missing.joined(separator: ", ")); see ntmwatch silence list --expired") }
        }
    }

    struct ImportFile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Nhập lệnh tạm dừng từ JSON của Alertmanager / import silences from Alertmanager's JSON (amtool silence query -o json).")
        @OptionGroup var common: Common

        @Argument(help: "The JSON file: an array of silences, or one silence.")
        var file: String

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else { throw SilenceCommand.fail("cannot read \(file)") }
            let decoded: [AlertmanagerSilence]
            do {
                if let array = try? JSONDecoder().decode([AlertmanagerSilence].self, from: data) {
                    decoded = array
                } else {
                    decoded = [try JSONDecoder().decode(AlertmanagerSilence.self, from: data)]
                }
            } catch {
                throw SilenceCommand.fail("\(file): not Alertmanager silence JSON: \(error)")
            }
            var silences: [Silence] = []
            for (index, entry) in decoded.enumerated() {
                do {
                    silences.append(try entry.silence(position: "\(file): [\(index)]"))
                } catch {
                    throw SilenceCommand.fail(error.description)
                }
            }
            let state = try await SilenceCommand.open(common)
            try await state.save(silences)
            await state.close()
            common.say("Đã nhập \(silences.count) lệnh tạm dừng.", "Imported \(silences.count) silences.")
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Xuất lệnh tạm dừng ra JSON của Alertmanager / export silences as Alertmanager's JSON.")
        @OptionGroup var common: Common

        @Flag(help: "Include expired silences.")
        var expired = false

        func run() async throws {
            let now = Date()
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            let exported = try await SilenceCommand.silences(common, expired: expired, at: now).map { AlertmanagerSilence($0, at: now) }
            print(String(decoding: try encoder.encode(exported), as: UTF8.self))
        }
    }
}
