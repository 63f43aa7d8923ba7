import Foundation
import XCTest
@testable import VaultKit

/// The broker over a real keystore file: refresh only when needed, the in-flight mark written
/// before the refresh token leaves, and each way a refresh can end recorded for the next call.
final class ExactBrokerTests: XCTestCase {
    var fixture: KeystoreFixture!
    var store: Keystore!
    var exact: ScriptedExact!
    var connector: ExactConnector!

    override func setUp() async throws {
        fixture = try KeystoreFixture()
        store = try await fixture.create()
        try await store.insert(sampleEntry())
        exact = ScriptedExact()
        connector = ExactConnector(keystore: store, transport: exact, timeout: 2)
    }

    /// Connects through the scripted consent: begin, then the redirect with the recorded state.
    func connect(expiresIn: Int = 600) async throws {
        let auth = try await connector.beginAuthorization("Acme BV")
        XCTAssertTrue(auth.url.hasPrefix("https://start.exactonline.es/api/oauth2/auth?client_id="))
        exact.answers = [ScriptedExact.tokens(1, expiresIn: expiresIn)]
        let r = try ExactAuthorizationResponse.parse(SecretBytes(Array("\(auth.redirectURI)?code=C0DE&state=\(auth.state)".utf8)))
        let done = try await connector.completeAuthorization("Acme BV", response: r)
        XCTAssertTrue(done.stateChecked)
        XCTAssertTrue(exact.requests.last!.contains("grant_type=authorization_code&code=C0DE&redirect_uri="))
        XCTAssertTrue(exact.requests.last!.contains("client_secret=EKKQh8KqRptS"))
    }

    func phase() async throws -> TokenRefreshPhase { try await fixture.open().tokenStatus("Acme BV").phase }

    func testConnectThenTokensRefreshOnlyWhenNeeded() async throws {
        try await connect()
        let first = try await connector.accessToken("Acme BV", minValid: 60)
        XCTAssertEqual(string(first.token), "AT1")
        XCTAssertFalse(first.refreshed)
        XCTAssertEqual(exact.requests.count, 1, "a valid token needs no request")
        // Asking for more than is left refreshes, with the stored refresh token.
        exact.answers = [ScriptedExact.tokens(2, expiresIn: 900)]
        let second = try await connector.accessToken("Acme BV", minValid: 700)
        XCTAssertEqual(string(second.token), "AT2")
        XCTAssertTrue(second.refreshed)
        XCTAssertTrue(exact.requests.last!.hasPrefix("grant_type=refresh_token&refresh_token=RT1&"))
        // The state was stored before the token came back: another handle reads it.
        let stored = try await fixture.open().tokenStatus("Acme BV")
        XCTAssertEqual(string(stored.state?.refreshToken), "RT2")
        XCTAssertEqual(stored.phase, .clean)
        XCTAssertNotNil(stored.state?.refreshTokenIssuedAt)
        XCTAssertNotNil(stored.state?.refreshedAt)
    }

    func testTheRefreshIsMarkedInFlightBeforeTheTokenLeaves() async throws {
        try await connect(expiresIn: 30)
        var seen: TokenRefreshPhase?
        exact.during = { seen = try? await self.phase() }
        exact.answers = [ScriptedExact.tokens(2)]
        _ = try await connector.accessToken("Acme BV", minValid: 60)
        guard case .inFlight? = seen else { return XCTFail("phase during the request: \(String(describing: seen))") }
        expectEqual(try await phase(), .clean)
    }

    func testALostAnswerThenOldTokenIsReportedAsBurntAndLaterCallsDoNotAskAgain() async throws {
        try await connect(expiresIn: 30)
        exact.answers = [.failure(.noAnswer(reason: "timeout"))]
        do {
            _ = try await connector.accessToken("Acme BV", minValid: 60)
            XCTFail("no error")
        } catch let e as ExactError { XCTAssertEqual(e, .transport(.noAnswer(reason: "timeout"))) }
        guard case .uncertain = try await phase() else { return XCTFail("not uncertain") }
        exact.answers = [ScriptedExact.oldToken]
        do {
            _ = try await connector.accessToken("Acme BV", minValid: 60)
            XCTFail("no error")
        } catch ExactError.refreshTokenRefused(_, let previous, let error, _) {
            guard case .uncertain = previous else { return XCTFail("previous \(previous)") }
            XCTAssertEqual(error, "invalid_grant")
        }
        let requests = exact.requests.count
        do {
            _ = try await connector.accessToken("Acme BV", minValid: 60)
            XCTFail("no error")
        } catch ExactError.refusedEarlier {}
        XCTAssertEqual(exact.requests.count, requests, "a refused token is not sent again")
        let status = try await connector.status("Acme BV")
        XCTAssertFalse(status.connected)
        // Connecting again clears it.
        try await connect()
        expectEqual(try await phase(), .clean)
        let connected = try await connector.status("Acme BV").connected
        XCTAssertTrue(connected)
    }

    func testAServerErrorIsUncertainAndASuccessfulRetryRecovers() async throws {
        try await connect(expiresIn: 30)
        exact.answers = [.success((500, "oops"))]
        do { _ = try await connector.accessToken("Acme BV", minValid: 60); XCTFail() } catch ExactError.serverError(500) {}
        exact.answers = [ScriptedExact.tokens(2)]
        let t = try await connector.accessToken("Acme BV", minValid: 60)
        guard case .uncertain? = t.recovered else { return XCTFail("not reported as recovered") }
        expectEqual(try await phase(), .clean)
    }

    func testNothingSentOrWrongClientLeavesThePhase() async throws {
        try await connect(expiresIn: 30)
        exact.answers = [.failure(.notSent(reason: "connection-refused"))]
        do { _ = try await connector.accessToken("Acme BV", minValid: 60); XCTFail() } catch ExactError.transport(.notSent) {}
        expectEqual(try await phase(), .clean)
        exact.answers = [.success((401, #"{"error":"invalid_client"}"#))]
        do { _ = try await connector.accessToken("Acme BV", minValid: 60); XCTFail() } catch ExactError.rejected(401, "invalid_client", _) {}
        expectEqual(try await phase(), .clean)
        exact.answers = [.success((429, ""))]
        do { _ = try await connector.accessToken("Acme BV", minValid: 60); XCTFail() } catch ExactError.rateLimited {}
        expectEqual(try await phase(), .clean)
    }

    func testAHolderKilledInFlightIsFoundByTheNext() async throws {
        try await connect(expiresIn: 30)
        // A real process that marked its refresh and died inside it (its lease lasts 0.5 s).
        let p = Process()
        p.executableURL = productsDirectory().appendingPathComponent("keystore-stress")
        guard FileManager.default.isExecutableFile(atPath: p.executableURL!.path) else { throw XCTSkip("keystore-stress not built") }
        p.arguments = ["refresh-crash", fixture.path, fixture.keyPath, "Acme BV"]
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 3)
        guard case .inFlight = try await phase() else { return XCTFail("no in-flight mark left") }
        exact.answers = [ScriptedExact.oldToken]
        do {
            _ = try await connector.accessToken("Acme BV", minValid: 60)
            XCTFail("no error")
        } catch ExactError.refreshTokenRefused(_, .inFlight, _, _) {}
    }

    func testWithTokenLeaseKeepsARefusal() async throws {
        try await connect(expiresIn: 30)
        exact.answers = [ScriptedExact.oldToken]
        do { _ = try await connector.accessToken("Acme BV", minValid: 60); XCTFail() } catch ExactError.refreshTokenRefused {}
        _ = try await store.withTokenLease("Acme BV") { _ in nil }
        guard case .refused = try await phase() else { return XCTFail("the refusal was lost") }
    }

    func testAStateFromAnotherAttemptIsRefused() async throws {
        let auth = try await connector.beginAuthorization("Acme BV")
        let forged = try ExactAuthorizationResponse.parse(SecretBytes(Array("\(auth.redirectURI)?code=C&state=\(String(repeating: "0", count: 32))".utf8)))
        do { _ = try await connector.completeAuthorization("Acme BV", response: forged); XCTFail() } catch ExactError.stateMismatch {}
        XCTAssertTrue(exact.requests.isEmpty, "nothing is sent for a forged state")
        let pending = try await connector.pendingAuthorization("Acme BV")
        XCTAssertNotNil(pending, "the real answer may still come")
    }

    /// The begun authorisation is found under any form of the label that names the entry (format
    /// 2 compares labels without default-ignorable code points): begun as `Acme BV`, finished as
    /// the same label with a zero-width space, its state is still checked.
    func testABegunAuthorizationIsFoundUnderTheSameLabelInAnotherForm() async throws {
        let auth = try await connector.beginAuthorization("Acme BV")
        let twin = "Acme\u{200B} BV"
        let pending = try await connector.pendingAuthorization(twin)
        XCTAssertEqual(pending?.state, auth.state)
        exact.answers = [ScriptedExact.tokens(1, expiresIn: 600)]
        let r = try ExactAuthorizationResponse.parse(SecretBytes(Array("\(auth.redirectURI)?code=C0DE&state=\(auth.state)".utf8)))
        let done = try await connector.completeAuthorization(twin, response: r)
        XCTAssertTrue(done.stateChecked)
        let after = try await connector.pendingAuthorization("Acme BV")
        XCTAssertNil(after, "finishing under either form clears it")
    }

    /// The broker's records (issue 13): connecting, every access token handed out, every
    /// refresh; its own uses of the client and webhook secrets, and a status, are not reads.
    func testTheBrokerLogsConnectsRefreshesAndEveryTokenHandedOut() async throws {
        let start = try await store.auditLog().count
        try await connect()
        _ = try await connector.accessToken("Acme BV", minValid: 60)
        exact.answers = [ScriptedExact.tokens(2, expiresIn: 900)]
        _ = try await connector.accessToken("Acme BV", minValid: 700)
        _ = try await connector.status("Acme BV")
        _ = try await connector.verifyWebhook("Acme BV", body: Array(#"{"Content":{},"HashCode":"\#(String(repeating: "0", count: 64))"}"#.utf8))
        let log = try await store.auditLog().dropFirst(start).map(\.record)
        XCTAssertEqual(log.map(\.operation), ["connect-begin", "token-lease", "token-store", "connect", "token-read",
                                              "token-refresh-start", "token-refresh", "token-read"])
        XCTAssertEqual(log.map(\.label), Array(repeating: "Acme BV", count: 8))
        XCTAssertEqual(log[6].detail, "stored")
        XCTAssertEqual(log[7].detail, "refreshed")
        XCTAssertEqual(log[4].fields, ["access_token"])
        // The connect's random state never reaches the log.
        for r in log { XCTAssertNil(r.subject) }
    }

    func testWebhookVerification() async throws {
        let content = #"{"Topic":"Accounts","ClientId":"x"}"#
        let key = try SecretBytes(Array("dsUfeHBTYVayMQGQ".utf8))
        let mac = try Array(content.utf8).withUnsafeBytes { try HMACSHA256.authenticate($0, key: key) }
        let body = Array(#"{"Content":\#(content),"HashCode":"\#(Hex.encode(mac).uppercased())"}"#.utf8)
        let range = try await connector.verifyWebhook("Acme BV", body: body)
        XCTAssertEqual(range.map { String(decoding: body[$0], as: UTF8.self) }, content)
        var changed = body
        changed[14] ^= 0x01
        let none = try await connector.verifyWebhook("Acme BV", body: changed)
        XCTAssertNil(none)
    }
}
