import AsyncHTTPClient
import CheckKit
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import NTMAlerting

/// POSTs each notification group as Alertmanager's webhook v4 body to one HTTP receiver, signed
/// with HMAC-SHA256 so that the receiver can tell it came from this daemon and was not replayed.
///
/// Accepted means a 2xx answer. No sender can know whether a request it got no answer to, or
/// whose answer it could not record before a crash, was taken: such a group is sent again, with
/// the same composition and so the same `Idempotency-Key` (the IETF HTTPAPI draft's header) and
/// the same `X-NTMWatch-Notification-IDs`. A receiver that answers a key it has already taken
/// with 2xx, without taking it again, gets every notification exactly once.
public struct HTTPWebhookNotifier: Notifier {
    public let receiver: String
    let endpoint: HTTPEndpoint
    let client: HTTPClient
    /// The URL without userinfo, which goes as basic authentication instead.
    let url: URL
    let headers: [(String, String)]
    let body: WebhookFileSink
    let now: @Sendable () -> Date

    /// The header names, for receivers and the verification recipe in the README.
    public enum Header {
        public static let notificationIDs = "X-NTMWatch-Notification-IDs"
        /// The group's delivery key as a structured-field string (quoted), as the draft writes it.
        public static let idempotencyKey = "Idempotency-Key"
        /// The group key, percent-encoded: label values may be Vietnamese, and header values are ASCII.
        public static let groupKey = "X-NTMWatch-Group-Key"
        public static let timestamp = "X-NTMWatch-Timestamp"
        public static let signature = "X-NTMWatch-Signature"
    }

    public init(receiver: String, endpoint: HTTPEndpoint, language: Language, externalURL: String, client: HTTPClient,
                logger: Logger, now: @escaping @Sendable () -> Date = Date.init) {
        self.receiver = receiver
        self.endpoint = endpoint
        self.client = client
        self.now = now
        // The body is the webhook file's, built by the file notifier (its folder is never used).
        body = WebhookFileSink(receiver: receiver, spool: FileSpool(directory: "", maxAlertsPerFile: endpoint.maxAlerts),
                               language: language, externalURL: externalURL, logger: logger)
        var headers = endpoint.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        var components = URLComponents(url: endpoint.url, resolvingAgainstBaseURL: false)
        if let user = components?.user {
            let credentials = "\(user.removingPercentEncoding ?? user):\(components?.password?.removingPercentEncoding ?? "")"
            headers.append(("Authorization", "Basic \(Data(credentials.utf8).base64EncodedString())"))
            components?.user = nil
            components?.password = nil
        }
        url = components?.url ?? endpoint.url
        self.headers = headers
    }

    /// One client for every HTTP receiver and the Alertmanager push (its owner shuts it down on
    /// stop). Redirects are not followed: a POST that moved is a configuration error to fix.
    public static func makeClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.connectionPool.idleTimeout = .seconds(30)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func notify(_ group: NotificationGroup) async throws {
        let body = try await self.body.payload(for: group).json(pretty: false)
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        request.tlsConfiguration = try tlsConfiguration()
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "ntmwatch")
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        request.headers.add(name: Header.notificationIDs, value: group.ids.joined(separator: ","))
        request.headers.add(name: Header.idempotencyKey, value: "\"\(group.deliveryKey)\"")
        request.headers.add(name: Header.groupKey,
                            value: group.groupKey.addingPercentEncoding(withAllowedCharacters: .urlUnreservedASCII) ?? "")
        if let source = endpoint.secret {
            let secret: Data
            do throws(SecretError) {
                secret = try source.read()
            } catch {
                throw DeliveryFailure(reason: "receiver \(receiver): \(error.message.en)")
            }
            let timestamp = String(Int(now().timeIntervalSince1970))
            request.headers.add(name: Header.timestamp, value: timestamp)
            request.headers.add(name: Header.signature,
                                value: "sha256=" + Self.signature(secret: SymmetricKey(data: secret), timestamp: timestamp, body: body))
        }
        request.body = .bytes(ByteBuffer(bytes: body))

        let target = "POST \(Self.redacted(url))"
        let status: HTTPResponseStatus
        let responseHeaders: HTTPHeaders
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(endpoint.timeout.nanoseconds))
            status = response.status
            responseHeaders = response.headers
            // The status decides; the answer's body is read (bounded: a receiver is not trusted to
            // answer briefly) only so the connection can be reused, and its failure changes nothing.
            _ = try? await response.body.collect(upTo: 64 << 10)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw DeliveryFailure(reason: "receiver \(receiver): \(target): no answer within \(endpoint.timeout) (timeout)")
        } catch {
            throw DeliveryFailure(reason: "receiver \(receiver): \(target) failed: \(error)")
        }
        switch status.code {
        case 200..<300:
            return
        case 429, 503:
            let retryAfter = responseHeaders.first(name: "Retry-After").flatMap { Self.retryAfter($0, now: now()) }
            throw DeliveryFailure(reason: "receiver \(receiver): \(target) answered \(status.code) \(status.reasonPhrase)",
                                  retryAfter: retryAfter)
        default:
            throw DeliveryFailure(reason: "receiver \(receiver): \(target) answered \(status.code) \(status.reasonPhrase)")
        }
    }

    /// The CA file is read for each request, like the secret, so that a renewed CA needs no reload.
    func tlsConfiguration() throws(DeliveryFailure) -> TLSConfiguration? {
        guard let caFile = endpoint.caFile else { return nil }
        do {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            return tls
        } catch {
            throw DeliveryFailure(reason: "receiver \(receiver): cannot read the CA certificates in \(caFile) (ca_file): \(error); give a PEM file")
        }
    }

    /// Hex HMAC-SHA256 of `timestamp + "." + body`: the timestamp is inside the signature so that
    /// a captured request cannot be replayed later with a fresh timestamp.
    static func signature(secret: SymmetricKey, timestamp: String, body: Data) -> String {
        var mac = HMAC<SHA256>(key: secret)
        mac.update(data: Data(timestamp.utf8))
        mac.update(data: Data(".".utf8))
        mac.update(data: body)
        return mac.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// The URL for messages: without user, password and query, which may hold tokens.
    static func redacted(_ url: URL) -> String {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return "(invalid URL)" }
        components.user = nil
        components.password = nil
        components.query = nil
        components.fragment = nil
        return components.string ?? "(invalid URL)"
    }

    /// `Retry-After` as delay-seconds or an HTTP date (RFC 9110 §10.2.3); a date in the past is no wait.
    static func retryAfter(_ value: String, now: Date) -> Duration? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(text), seconds >= 0 { return .seconds(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) {
                return .milliseconds(max(0, Int64((date.timeIntervalSince(now) * 1000).rounded(.up))))
            }
        }
        return nil
    }
}

extension CharacterSet {
    static let urlUnreservedASCII = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}

extension Duration {
    var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}
