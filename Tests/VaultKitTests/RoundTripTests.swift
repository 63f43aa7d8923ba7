import Foundation
import XCTest
@testable import VaultKit

/// seal → open for every field, Unicode labels, and the limits of FORMAT.md §4–§5.
final class RoundTripTests: XCTestCase {
    let pair = try! KeyPair.generate()

    private func roundTrip(_ payload: Payload) throws -> Payload {
        let text = try Handoff.seal(payload, to: pair.publicKey)
        let outcomes = Handoff.open(Array(text.utf8), keys: [pair], now: Handoff.now())
        XCTAssertEqual(outcomes.count, 1)
        return try outcomes[0].result.get().payload
    }

    func testEveryExactOnlineFieldSurvives() throws {
        var p = samplePayload(to: pair.publicKey, label: "Bäckerei Müller — Café 東京 🍞 e\u{301}")
        p.from = "Jan de Vries <jan@example.nl>"
        p.note = "line one\nline\ttwo"
        p.request = Handoff.newCode()
        p.credentials = .exactOnline(ExactOnlineCredentials(
            clientID: "{936AA40C-CDAA-523D-A8EA-6D21A185CC8E}", clientSecret: secret("a\"b\\c/d~!"),
            webhookSecret: secret("dsUfeHBTYVayMQGQ"), region: .uk,
            redirectURI: "https://static.xpertsuite.nl/OAuthRedirect.html", appName: "NN XS Connect", division: 2_147_483_647))
        let back = try roundTrip(p)
        XCTAssertEqual(back.id, p.id)
        XCTAssertEqual(back.recipient, pair.publicKey.fingerprint)
        XCTAssertEqual(back.created, p.created)
        XCTAssertEqual(back.expires, p.expires)
        XCTAssertTrue(back.label.unicodeScalars.elementsEqual(p.label.unicodeScalars), "label kept code point for code point")
        XCTAssertEqual(back.from, p.from)
        XCTAssertEqual(back.note, p.note)
        XCTAssertEqual(back.request, p.request)
        guard case .exactOnline(let c) = back.credentials else { return XCTFail("type changed") }
        XCTAssertEqual(c.clientID, "936aa40c-cdaa-523d-a8ea-6d21a185cc8e", "stored lower case without braces")
        XCTAssertEqual(utf8String(c.clientSecret), "a\"b\\c/d~!")
        XCTAssertEqual(c.webhookSecret.map(utf8String), "dsUfeHBTYVayMQGQ")
        XCTAssertEqual(c.region, .uk)
        XCTAssertEqual(c.redirectURI, "https://static.xpertsuite.nl/OAuthRedirect.html")
        XCTAssertEqual(c.appName, "NN XS Connect")
        XCTAssertEqual(c.division, 2_147_483_647)
    }

    func testRequiredFieldsOnlyAndGeneric() throws {
        let minimal = try roundTrip(samplePayload(to: pair.publicKey))
        guard case .exactOnline(let c) = minimal.credentials else { return XCTFail() }
        XCTAssertNil(c.webhookSecret); XCTAssertNil(c.region); XCTAssertNil(c.division)
        XCTAssertNil(minimal.from); XCTAssertNil(minimal.note); XCTAssertNil(minimal.request)

        let pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
        let generic = try roundTrip(samplePayload(to: pair.publicKey, credentials: .generic([
            CredentialField(name: "api_key", value: secret("k-123")), CredentialField(name: "tls_key", value: secret(pem)),
            CredentialField(name: "z9_x", value: secret("Ünïcödé\ttab")),
        ])))
        guard case .generic(let fields) = generic.credentials else { return XCTFail() }
        XCTAssertEqual(fields.map(\.name), ["api_key", "tls_key", "z9_x"], "order kept")
        XCTAssertEqual(fields.map { utf8String($0.value) }, ["k-123", pem, "Ünïcödé\ttab"])
    }

    func testSeveralBlocksInOneTextOpenInOrder() throws {
        let a = try Handoff.seal(samplePayload(to: pair.publicKey, label: "A"), to: pair.publicKey)
        let b = try Handoff.seal(samplePayload(to: pair.publicKey, label: "B"), to: pair.publicKey)
        let text = "Hello,\n\n" + a + "\nand the second:\n" + b.split(separator: "\n").map { "> " + $0 + " \r" }.joined(separator: "\n") + "\n-- \nJan\n"
        let outcomes = Handoff.open(Array(text.utf8), keys: [pair], now: Handoff.now())
        XCTAssertEqual(try outcomes.map { try $0.result.get().payload.label }, ["A", "B"])
        let beginLines = text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .filter { $0.element.contains("BEGIN VAULT") }.map { $0.offset + 1 }
        XCTAssertEqual(outcomes.map(\.line), beginLines)
        XCTAssertEqual(beginLines.first, 3)
    }

    func testSealerRefusesWhatAnOpenerWould() throws {
        func refused(_ change: (inout Payload) -> Void) -> PayloadError? {
            var p = samplePayload(to: pair.publicKey)
            change(&p)
            do { _ = try Handoff.seal(p, to: pair.publicKey); return nil } catch { return error as? PayloadError }
        }
        XCTAssertEqual(refused { $0.label = "" }, .field(key: "label", rule: "must not be empty"))
        XCTAssertEqual(refused { $0.label = String(repeating: "é", count: 201) }, .field(key: "label", rule: "must be at most 200 characters"))
        XCTAssertNil(refused { $0.label = String(repeating: "é", count: 200) }, "200 characters, 400 bytes")
        XCTAssertEqual(refused { $0.label = "a\u{85}b" }, .field(key: "label", rule: "must not contain control characters"))
        XCTAssertEqual(refused { $0.expires = $0.created }, .field(key: "expires", rule: "must be later than created"))
        XCTAssertEqual(refused { $0.id = "ABCDEF" }, .field(key: "id", rule: "must be 32 lower-case hex digits"))
        XCTAssertEqual(refused { $0.recipient = Fingerprint(digest: [UInt8](repeating: 0, count: 32)) },
                       .field(key: "recipient", rule: "must be the fingerprint of the key sealed to"))
        XCTAssertEqual(refused { $0.credentials = .exactOnline(ExactOnlineCredentials(clientID: "x", clientSecret: secret("s"))) }?.key,
                       "credentials.client_id")
        XCTAssertEqual(refused { $0.credentials = .exactOnline(ExactOnlineCredentials(
            clientID: "1c07724e-cc1b-9ff3-2f42-4a50582c18c9", clientSecret: secret("same"), webhookSecret: secret("same"))) }?.key,
            "credentials.webhook_secret")
        XCTAssertEqual(refused { $0.credentials = .generic([]) }?.key, "credentials")
        XCTAssertEqual(refused { $0.credentials = .generic([CredentialField(name: "Bad", value: secret("v"))]) }?.key, "credentials.Bad")
    }

    func testPayloadSizeLimit() throws {
        // A generic payload grown until it is one byte past the limit is refused with its size.
        func payload(_ n: Int) -> Payload {
            samplePayload(to: pair.publicKey, credentials: .generic((0..<4).map {
                CredentialField(name: "k\($0)", value: secret(String(repeating: "x", count: $0 == 0 ? n : 4096)))
            }))
        }
        let base = try PayloadCodec.encode(payload(1)).count
        let fitting = 16384 - base + 1
        XCTAssertEqual(try PayloadCodec.encode(payload(fitting)).count, 16384)
        XCTAssertNoThrow(try roundTrip(payload(fitting)))
        XCTAssertThrowsError(try Handoff.seal(payload(fitting + 1), to: pair.publicKey)) {
            XCTAssertEqual($0 as? PayloadError, .tooLarge(size: 16385))
        }
    }

    func testExpiryIsAtOrPast() throws {
        let p = samplePayload(to: pair.publicKey)
        let text = Array(try Handoff.seal(p, to: pair.publicKey).utf8)
        XCTAssertEqual(Handoff.open(text, keys: [pair], now: p.expires).first?.result.failureClass, "expired")
        XCTAssertNil(Handoff.open(text, keys: [pair], now: p.expires.adding(seconds: -1)).first?.result.failureClass)
    }

    func testInspectNeedsNoKey() throws {
        let text = try Handoff.seal(samplePayload(to: pair.publicKey), to: pair.publicKey)
        let frames = Handoff.inspect(Array(text.utf8))
        XCTAssertEqual(frames.count, 1)
        let blob = try frames[0].result.get()
        XCTAssertEqual(blob.recipient, pair.publicKey.fingerprint)
        XCTAssertEqual(blob.bytes, try XCTUnwrap(try? Armor.decode(Array(text.utf8))[0].contents.get()), "re-encodes byte for byte")
    }
}
