import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import Testing
@testable import NTMDelivery
@testable import NTMWatchCore
@testable import NTMAlerting

@Suite struct HTTPWebhookNotifierUnitTests {
    @Test func theSignatureIsHMACSHA256OverTimestampDotBody() {
        // The same value as Python's hmac.new(b"k3y", b'1700000000.{"a":1}', hashlib.sha256).hexdigest().
        let signature = HTTPWebhookNotifier.signature(secret: SymmetricKey(data: Data("k3y".utf8)), timestamp: "1700000000",
                                                      body: Data(#"{"a":1}"#.utf8))
        #expect(signature == "fd5a70e965043f7df6309c2c3b5ff5a8ffa99b1f5175e9a311459e73c4634d4a")
    }

    @Test func retryAfterTakesSecondsOrAnHTTPDate() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)  // Tue, 14 Nov 2023 22:13:20 GMT
        #expect(HTTPWebhookNotifier.retryAfter("7", now: now) == .seconds(7))
        #expect(HTTPWebhookNotifier.retryAfter("Tue, 14 Nov 2023 22:13:50 GMT", now: now) == .seconds(30))
        #expect(HTTPWebhookNotifier.retryAfter("Tuesday, 14-Nov-23 22:14:20 GMT", now: now) == .seconds(60))
        #expect(HTTPWebhookNotifier.retryAfter("Tue, 14 Nov 2023 22:00:00 GMT", now: now) == .zero)
        #expect(HTTPWebhookNotifier.retryAfter("soon", now: now) == nil)
        #expect(HTTPWebhookNotifier.retryAfter("-3", now: now) == nil)
    }

    @Test func messagesShowTheURLWithoutUserinfoOrQuery() {
        let url = URL(string: "https://ops:hunter2@hooks.example.vn:8443/ntm/hook?token=abc#x")!
        #expect(HTTPWebhookNotifier.redacted(url) == "https://hooks.example.vn:8443/ntm/hook")
    }
}

/// Against `Tests/Peers/flaky_receiver.py`, a real HTTP server that verifies signatures.
@Suite(.serialized) struct HTTPWebhookNotifierTests {
    /// Shared by every test of the bundle and never shut down: a client that is deinitialised
    /// before `shutdown()` (a test that stops early) crashes the whole test process.
    static let client = HTTPWebhookNotifier.makeClient()

    func notifier(_ url: URL, secret: String?, timeout: Duration = .seconds(5), caFile: String? = nil,
                  headers: [String: String] = [:]) throws -> HTTPWebhookNotifier {
        let source = try secret.map { SecretSource.file(try Scratch.secret($0, in: try Scratch.folder())) }
        return HTTPWebhookNotifier(
            receiver: "hook", endpoint: HTTPEndpoint(url: url, headers: headers, secret: source, timeout: timeout, caFile: caFile),
            language: .vi, externalURL: "", client: Self.client, logger: Logger(label: "test"))
    }

    @Test func aSignedGroupIsAcceptedAndAWrongKeyIsRefused() async throws {
        let folder = try Scratch.folder()
        let receiver = try await FlakyReceiver(folder: folder, arguments: ["--secret-file", try Scratch.secret("s3cret-kHz\n", in: folder)])
        defer { receiver.stop() }

        try await notifier(receiver.url, secret: "s3cret-kHz").notify(Fixtures.group(["a", "b"]))
        let failure = await #expect(throws: DeliveryFailure.self) {
            try await notifier(receiver.url, secret: "wrong").notify(Fixtures.group(["c"]))
        }
        await #expect(throws: DeliveryFailure.self) {
            try await notifier(receiver.url, secret: nil).notify(Fixtures.group(["d"]))
        }
        let counts = try receiver.counts()
        #expect(counts.ids == ["a-firing": 1, "b-firing": 1])
        #expect(counts.bad_signatures == 2)
        #expect(failure?.reason.contains("401") == true)
        #expect(failure?.reason.contains("wrong") == false)
    }

    @Test func throttlingGivesTheReceiversRetryAfter() async throws {
        let folder = try Scratch.folder()
        let receiver = try await FlakyReceiver(folder: folder)
        defer { receiver.stop() }
        try receiver.script(["429:3", "503:Wed, 21 Oct 2099 07:28:00 GMT", "500"])
        let hook = try notifier(receiver.url, secret: nil)

        let throttled = await #expect(throws: DeliveryFailure.self) { try await hook.notify(Fixtures.group(["a"])) }
        #expect(throttled?.retryAfter == .seconds(3))
        let unavailable = await #expect(throws: DeliveryFailure.self) { try await hook.notify(Fixtures.group(["a"])) }
        #expect((unavailable?.retryAfter ?? .zero) > .seconds(86_400 * 365))
        let failed = await #expect(throws: DeliveryFailure.self) { try await hook.notify(Fixtures.group(["a"])) }
        #expect(failed?.retryAfter == nil)
        #expect(failed?.reason == "receiver hook: POST \(receiver.url.absoluteString) answered 500 Internal Server Error")
        try await hook.notify(Fixtures.group(["a"]))
        #expect(try receiver.counts().ids == ["a-firing": 1])
    }

    @Test(arguments: ["hang-before", "hang-after"])
    func aHangingReceiverTimesOut(step: String) async throws {
        let folder = try Scratch.folder()
        let receiver = try await FlakyReceiver(folder: folder, arguments: ["--hang-seconds", "120"])
        defer { receiver.stop() }
        try receiver.script([step])
        let started = ContinuousClock.now
        let failure = await #expect(throws: DeliveryFailure.self) {
            try await notifier(receiver.url, secret: nil, timeout: .milliseconds(700)).notify(Fixtures.group(["a"]))
        }
        let took = ContinuousClock.now - started
        #expect(failure?.reason.contains("timeout") == true, "\(String(describing: failure))")
        #expect(took >= .milliseconds(600) && took < .seconds(60), "\(took)")
        #expect(try receiver.counts().accepted == 0)
    }

    /// A receiver that took a group but whose answer never came: the sender cannot tell, sends the
    /// group again, and the same Idempotency-Key lets the receiver answer without taking it twice.
    /// Without the key (as before) the receiver counted the ids twice.
    @Test func aGroupTakenWithoutAnAnswerIsSentAgainUnderItsKeyAndTakenOnce() async throws {
        let folder = try Scratch.folder()
        let receiver = try await FlakyReceiver(folder: folder, arguments: ["--hang-seconds", "20"])
        defer { receiver.stop() }
        try receiver.script(["take-then-hang"])
        let hook = try notifier(receiver.url, secret: nil, timeout: .milliseconds(700))
        let group = Fixtures.group(["a", "b"])
        // A timeout, or on a loaded machine the receiver's close: either way no answer came.
        await #expect(throws: DeliveryFailure.self) { try await hook.notify(group) }
        try await hook.notify(Fixtures.group(["b", "a"]))
        try await hook.notify(Fixtures.group(["c"]))
        let counts = try receiver.counts()
        #expect(counts.ids == ["a-firing": 1, "b-firing": 1, "c-firing": 1])
        #expect(counts.duplicates == 0)
        #expect(counts.replays == 1)
    }

    @Test func headersCarryTheIDsTheGroupKeyAndBasicAuthButNoSecret() async throws {
        let folder = try Scratch.folder()
        let capture = (folder as NSString).appendingPathComponent("capture.py")
        // A server that writes the request's head to a file: the flaky receiver does not keep headers.
        try """
            import http.server, sys
            class H(http.server.BaseHTTPRequestHandler):
                def do_POST(self):
                    self.rfile.read(int(self.headers["Content-Length"]))
                    open(sys.argv[1], "w").write(self.path + "\\n" + str(self.headers))
                    self.send_response(204); self.end_headers()
                def log_message(self, *a): pass
            s = http.server.HTTPServer(("127.0.0.1", 0), H)
            print(s.server_address[1], flush=True)
            s.handle_request()
            """.write(toFile: capture, atomically: true, encoding: .utf8)
        let head = (folder as NSString).appendingPathComponent("head.txt")
        let peer = try PeerProcess("/usr/bin/python3", [capture, head], log: (folder as NSString).appendingPathComponent("capture.log"))
        defer { peer.stop() }
        let port = try await peer.firstLine()
        let url = URL(string: "http://ops:p%40ss@127.0.0.1:\(port)/hook?token=t0k")!
        try await notifier(url, secret: "k", headers: ["X-Office": "Sở NN&PTNT"]).notify(Fixtures.group(["a", "b"]))
        let text = try String(contentsOfFile: head, encoding: .utf8)
        #expect(text.hasPrefix("/hook?token=t0k\n"))
        #expect(text.contains("X-NTMWatch-Notification-IDs: a-firing,b-firing"))
        #expect(text.contains("Idempotency-Key: \"\(Fixtures.group(["a", "b"]).deliveryKey)\""))
        #expect(text.contains("X-NTMWatch-Group-Key: %7B0%7D%3A%7Bcheck%3D%22deadline%22%2Cdistrict%3D%22%C4%90%E1%BA%A1i%20L%E1%BB%99c%22%7D"))
        #expect(text.contains("Authorization: Basic \(Data("ops:p@ss".utf8).base64EncodedString())"))
        #expect(text.contains("X-NTMWatch-Signature: sha256="))
    }

    @Test func tlsWithTheReceiversOwnCA() async throws {
        let folder = try Scratch.folder()
        let cert = (folder as NSString).appendingPathComponent("cert.pem"), key = (folder as NSString).appendingPathComponent("key.pem")
        let made = try Scratch.run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                                                        "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert])
        try #require(made.status == 0, "\(made.output)")
        let receiver = try await FlakyReceiver(folder: folder, tls: (cert, key))
        defer { receiver.stop() }

        // Without the CA the system trust refuses the self-signed certificate.
        let untrusted = await #expect(throws: DeliveryFailure.self) {
            try await notifier(receiver.url, secret: nil).notify(Fixtures.group(["a"]))
        }
        #expect(untrusted?.reason.contains("POST https://127.0.0.1") == true)
        try await notifier(receiver.url, secret: nil, caFile: cert).notify(Fixtures.group(["b"]))
        #expect(try receiver.counts().ids == ["b-firing": 1])
    }
}
