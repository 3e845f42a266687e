import ArgumentParser
import CheckKit
import Foundation
import NTMDelivery
import NTMStore
import NTMWatchCore

/// `ntmwatch digest`: prints the digest a receiver gets (or got) for the period ending last
/// before an instant. Reads only; nothing is sent or recorded.
struct DigestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest", abstract: "In bản tin cảnh báo của một receiver / print a receiver's alert digest.")
    @OptionGroup var common: Common

    @Option(help: "The receiver's name.")
    var receiver: String

    @Option(help: "ISO 8601 instant or YYYY-MM-DD (Vietnam time); now by default.")
    var at: String?

    @Flag(help: "Print the HTML version instead of the text.")
    var html = false

    func run() async throws {
        let configuration = try common.loadConfiguration()
        guard let found = configuration.receivers.first(where: { $0.name == receiver }) else {
            throw ValidationError("no receiver named '\(receiver)' in \(configuration.path)")
        }
        guard let settings = found.digest else {
            throw ValidationError("the receiver '\(receiver)' has no digest: add digest: {schedule: \"daily 07:30\"} to it in \(configuration.path)")
        }
        var instant = Date()
        if let at {
            guard let parsed = InstantText.parse(at) else { throw ValidationError("--at: '\(at)' is not an ISO 8601 instant or YYYY-MM-DD") }
            instant = parsed
        }
        guard let state = try await AlertStateStore.openReadOnly(directory: configuration.stateDirectory, logger: common.quietLogger) else {
            common.say("Chưa có trạng thái cảnh báo trong \(configuration.stateDirectory).", "No alert state in \(configuration.stateDirectory) yet.")
            return
        }
        let store = Store(location: configuration.store.location, queryTimeout: configuration.store.queryTimeout, logger: common.quietLogger)
        do {
            let digest = try await DigestBuilder.build(
                receiver: receiver, schedule: settings.schedule, periodEnd: settings.schedule.due(atOrBefore: instant),
                route: configuration.route, state: state, store: store)
            await state.close()
            let model = digest.model(instance: configuration.instance, language: configuration.language)
            print(html ? settings.templates.html.render(model) : settings.templates.text.render(model))
        } catch {
            await state.close()
            throw error
        }
    }
}
