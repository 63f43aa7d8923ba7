import Foundation
import XCTest
@testable import VaultKit

/// Exact Online's side as a test script: answers queued in order, every request kept. It stands
/// for Exact (another system), not for any part of vault; the real HTTP path is tested against
/// the fake server in ExactHTTPTests and the CLI tests.
final class ScriptedExact: ExactTransport {
    var answers: [Result<(Int, String), ExactTransportError>] = []
    var requests: [String] = []
    var during: (() async -> Void)?

    func post(_ request: ExactHTTPRequest) async throws(ExactTransportError) -> ExactHTTPAnswer {
        requests.append(request.body.withUnsafeBytes { String(decoding: $0, as: UTF8.self) })
        await during?()
        guard !answers.isEmpty else { throw .notSent(reason: "no-answer-scripted") }
        switch answers.removeFirst() {
        case .success(let (status, body)): return ExactHTTPAnswer(status: status, body: try! SecretBytes(Array(body.utf8)))
        case .failure(let e): throw e
        }
    }

    static func tokens(_ n: Int, expiresIn: Int = 600) -> Result<(Int, String), ExactTransportError> {
        .success((200, #"{"access_token":"AT\#(n)","token_type":"bearer","expires_in":"\#(expiresIn)","refresh_token":"RT\#(n)"}"#))
    }

    static let oldToken: Result<(Int, String), ExactTransportError> =
        .success((400, #"{"error":"invalid_grant","error_description":"Old refresh token used."}"#))
}

final class ExactTests: XCTestCase {
    // MARK: HMAC-SHA256 (RFC 4231)

    func testHMACMatchesRFC4231() throws {
        let key = try SecretBytes([UInt8](repeating: 0x0b, count: 20))
        let mac = try Array("Hi There".utf8).withUnsafeBytes { try HMACSHA256.authenticate($0, key: key) }
        XCTAssertEqual(Hex.encode(mac), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        // A key longer than the block is hashed first (case 6).
        let long = try SecretBytes([UInt8](repeating: 0xaa, count: 131))
        let message = Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)
        let mac6 = try message.withUnsafeBytes { try HMACSHA256.authenticate($0, key: long) }
        XCTAssertEqual(Hex.encode(mac6), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
        XCTAssertTrue(try message.withUnsafeBytes { try HMACSHA256.verify(mac6, message: $0, key: long) })
        var changed = mac6
        changed[31] ^= 1
        XCTAssertFalse(try message.withUnsafeBytes { try HMACSHA256.verify(changed, message: $0, key: long) })
        XCTAssertFalse(try message.withUnsafeBytes { try HMACSHA256.verify(Array(mac6.prefix(16)), message: $0, key: long) })
    }

    // MARK: Webhook shape

    func testWebhookContentIsTheTextAsSent() throws {
        let body = Array(#" { "HashCode" : "AB12ab12AB12ab12AB12ab12AB12ab12AB12ab12AB12ab12AB12ab12AB12ab12", "Content":{"b":1, "a" : [2]} , "Extra":0} "#.utf8)
        let shape = try body.withUnsafeBytes { try ExactWebhookBody.parse($0) }
        XCTAssertEqual(String(decoding: body[shape.content], as: UTF8.self), #"{"b":1, "a" : [2]}"#)
        XCTAssertEqual(shape.hashCode.count, 32)
    }

    func testWebhookShapesRefused() {
        let h = String(repeating: "A", count: 64)
        let cases: [(String, ExactWebhookError)] = [
            (#"{"Content":{}}"#, .missing("HashCode")),
            (#"{"HashCode":"\#(h)"}"#, .missing("Content")),
            (#"{"Content":[],"HashCode":"\#(h)"}"#, .wrongKind("Content", "an array")),
            (#"{"Content":{},"HashCode":7}"#, .wrongKind("HashCode", "a number")),
            (#"{"Content":{},"HashCode":"\#(h.dropLast())"}"#, .hashCodeNotHex),
            (#"{"Content":{},"HashCode":"\#(h.dropLast())G"}"#, .hashCodeNotHex),
            (#"{"Content":{},"Content":{},"HashCode":"\#(h)"}"#, .json(.rule(key: "Content", "duplicate key"))),
            (#"[]"#, .json(.rule(key: "(top level)", "is not a JSON object"))),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try Array(text.utf8).withUnsafeBytes { try ExactWebhookBody.parse($0) }, text) {
                XCTAssertEqual($0 as? ExactWebhookError, expected, text)
            }
        }
        XCTAssertThrowsError(try Array(#"{"Content":{},"HashCode":"\#(h)"} x"#.utf8).withUnsafeBytes { try ExactWebhookBody.parse($0) })
    }

    // MARK: Endpoints, forms, redirects, answers

    func testEndpointOverrideOnlyHTTPSOrLoopback() throws {
        for ok in ["https://start.exactonline.nl", "https://x.test/", "http://127.0.0.1:8080", "http://localhost:9", "http://[::1]:443/", "http://127.9.8.7"] {
            XCTAssertNoThrow(try ExactEndpoint(override: ok), ok)
        }
        for bad in ["http://example.com", "http://127.0.0.1.example.com", "ftp://127.0.0.1", "http://user@127.0.0.1", "https://", "http://10.0.0.1",
                    "http://127.0.0.1:99999", "http://localhost.evil", "https://a b", "http://[::2]", "http://127.0.0.1?x"] {
            XCTAssertThrowsError(try ExactEndpoint(override: bad), bad) { XCTAssertEqual($0 as? ExactError, .baseURLRefused(bad)) }
        }
        XCTAssertEqual(try ExactEndpoint(override: "https://x.test/").tokenURL, "https://x.test/api/oauth2/token")
        XCTAssertEqual(ExactEndpoint(region: .uk).base, "https://start.exactonline.co.uk")
    }

    func testAuthorizationURLAndForm() throws {
        let url = ExactEndpoint(region: .nl).authorizationURL(clientID: "1c07724e-cc1b-9ff3-2f42-4a50582c18c9",
                                                               redirectURI: "https://a.test/cb?x=1", state: "00ff")
        XCTAssertEqual(url, "https://start.exactonline.nl/api/oauth2/auth?client_id=1c07724e-cc1b-9ff3-2f42-4a50582c18c9"
                       + "&redirect_uri=https%3A%2F%2Fa.test%2Fcb%3Fx%3D1&response_type=code&state=00ff")
        let form = try FormEncoding.body([("grant_type", .text("refresh_token")), ("refresh_token", .secret(SecretBytes(Array("a+b/c=d&e!".utf8))))])
        XCTAssertEqual(string(form), "grant_type=refresh_token&refresh_token=a%2Bb%2Fc%3Dd%26e%21")
        XCTAssertEqual(ExactEndpoint.loopbackRedirect("http://localhost:8765/cb?x")?.path, "/cb")
        XCTAssertEqual(ExactEndpoint.loopbackRedirect("http://127.0.0.1:8765")?.port, 8765)
        XCTAssertNil(ExactEndpoint.loopbackRedirect("https://localhost:8765/cb"))
    }

    func testAuthorizationResponses() throws {
        let r = try ExactAuthorizationResponse.parse(SecretBytes(Array(" https://a.test/cb?state=ab12&code=stampNL001.x%21IAAA+b \n".utf8)))
        XCTAssertEqual(string(r.code), "stampNL001.x!IAAA+b")
        XCTAssertEqual(r.state, "ab12")
        let bare = try ExactAuthorizationResponse.parse(SecretBytes(Array("stampNL001.abc\n".utf8)))
        XCTAssertEqual(string(bare.code), "stampNL001.abc")
        XCTAssertNil(bare.state)
        XCTAssertThrowsError(try ExactAuthorizationResponse.parse(SecretBytes(Array("https://a.test/cb?error=access_denied&state=1".utf8)))) {
            XCTAssertEqual($0 as? ExactError, .authorizationDenied(error: "access_denied", description: nil))
        }
        for none in ["", "https://a.test/cb?state=1", "two words"] {
            XCTAssertThrowsError(try ExactAuthorizationResponse.parse(SecretBytes(Array(none.utf8))), none) { XCTAssertEqual($0 as? ExactError, .noCode) }
        }
    }

    func testTokenAnswers() throws {
        let a = try ExactTokenAnswer.parse(SecretBytes(Array(#"{"access_token":"A","token_type":"bearer","expires_in":600,"refresh_token":"R"}"#.utf8)))
        XCTAssertEqual(a.expiresIn, 600)
        XCTAssertEqual(string(a.refreshToken), "R")
        for bad in [#"{"token_type":"bearer","expires_in":"600"}"#, #"{"access_token":"A","expires_in":"0"}"#, #"{"access_token":"A b","expires_in":"6"}"#,
                    #"{"access_token":"A","expires_in":"6","token_type":"mac"}"#, "<html>", #"{"access_token":1,"expires_in":6}"#] {
            XCTAssertThrowsError(try ExactTokenAnswer.parse(SecretBytes(Array(bad.utf8))), bad)
        }
        let e = ExactErrorAnswer.parse(try SecretBytes(Array(#"{"error":"invalid_grant","error_description":"bad RT-secret-1"}"#.utf8)),
                                       withholding: [try SecretBytes(Array("RT-secret-1".utf8))])
        XCTAssertEqual(e.error, "invalid_grant")
        XCTAssertEqual(e.description, "(withheld: it repeats a secret)")
    }

    func testHelperWireRoundTrips() throws {
        let request = ExactHTTPRequest(url: "https://x.test/api/oauth2/token", body: try SecretBytes(Array("a=b\nc".utf8)), timeout: 2.5)
        let back = try XCTUnwrap(HTTPHelperWire.decodeRequest(try HTTPHelperWire.encode(request)))
        XCTAssertEqual(back.url, request.url)
        XCTAssertEqual(back.timeout, 2.5)
        XCTAssertEqual(string(back.body), "a=b\nc")
        let answer = HTTPHelperWire.decodeAnswer(try HTTPHelperWire.encode(.success(ExactHTTPAnswer(status: 400, body: try SecretBytes(Array("{}\n".utf8))))))
        XCTAssertEqual(try answer.get().status, 400)
        XCTAssertEqual(string(try answer.get().body), "{}\n")
        for e in [ExactTransportError.notSent(reason: "connection-refused"), .noAnswer(reason: "timeout")] {
            guard case .failure(let back) = HTTPHelperWire.decodeAnswer(try HTTPHelperWire.encode(.failure(e))) else { return XCTFail() }
            XCTAssertEqual(back, e)
        }
        // A helper that died mid-answer: the request may have left.
        guard case .failure(.noAnswer) = HTTPHelperWire.decodeAnswer(try SecretBytes(Array("vault-http/1 ok 200 99\n{".utf8))) else { return XCTFail() }
    }
}
