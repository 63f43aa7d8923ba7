import Foundation
import XCTest
@testable import VaultKit

/// The pure format layer, piece by piece: strictness where the spec is strict, tolerance where it
/// is tolerant, and byte-exact re-encoding.
final class FormatTests: XCTestCase {
    private func parse(_ text: String) -> Result<JSONValue, JSONError> {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { b in
            var reader = JSONReader(b)
            return Result { () throws(JSONError) in try reader.parseDocument() }
        }
    }

    func testJSONReaderIsStrict() {
        for good in [#"{}"#, #" {"a":1} "#, #"{"a":[1,-0,2.5e-3,true,false,null,"x"]}"#, #"{"a":"\ud83d\ude00\u00e9\n"}"#] {
            if case .failure(let e) = parse(good) { XCTFail("\(good): \(e)") }
        }
        let bad: [(String, String)] = [
            ("\u{FEFF}{}", "byte-order mark"), (#"{"a":1,"a":2}"#, "duplicate key"), (#"{"a":"\ud800"}"#, "lone surrogate"),
            (#"{"a":"\udc00x"}"#, "lone surrogate"), (#"{"a":1} x"#, "text after"), (#"{"a":01}"#, "leading zero"),
            (#"{"a":1.}"#, "bare fraction"), (#"{"a":"x\#u{01}"}"#, "raw control"), (#"{"a":'x'}"#, "single quotes"),
            (#"{"a":1,}"#, "trailing comma"), (#"{"a":NaN}"#, "NaN"), (#"{"a":"\x"}"#, "bad escape"), ("", "empty"),
            (String(repeating: "[", count: 40) + String(repeating: "]", count: 40), "too deep"),
        ]
        for (text, why) in bad {
            if case .success = parse(text) { XCTFail("accepted \(why): \(text)") }
        }
        // Duplicate keys are code points, not canonical equivalence: é and e + U+0301 are two keys.
        if case .failure(let e) = parse("{\"\u{e9}\":1,\"e\u{301}\":2}") { XCTFail("\(e)") }
        // Invalid UTF-8: an overlong slash, a UTF-8-encoded surrogate, a lone continuation byte.
        for bytes: [UInt8] in [[0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0x22, 0x7d],
                               [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d],
                               [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0x80, 0x22, 0x7d]] {
            let r = bytes.withUnsafeBytes { b in var reader = JSONReader(b); return Result { () throws(JSONError) in try reader.parseDocument() } }
            if case .success = r { XCTFail("accepted invalid UTF-8 \(bytes)") }
        }
    }

    func testPayloadErrorsNameTheKey() throws {
        let fp = "SHA256:" + String(repeating: "a", count: 64)
        func decode(_ json: String) -> PayloadError? {
            do { _ = try PayloadCodec.decode(try SecretBytes(Array(json.utf8))); return nil } catch { return error as? PayloadError }
        }
        let base = #""v":1,"type":"exact-online","id":"0123456789abcdef0123456789abcdef","recipient":"\#(fp)","created":"2026-11-23T12:00:00Z","expires":"2026-12-23T12:00:00Z","label":"L""#
        let creds = #""credentials":{"client_id":"1c07724e-cc1b-9ff3-2f42-4a50582c18c9","client_secret":"EKKQh8KqRptS""#
        XCTAssertNil(decode("{\(base),\(creds)}}"))
        XCTAssertEqual(decode("{\(base),\(creds),\"division\":5.0}}")?.key, "credentials.division")
        XCTAssertEqual(decode("{\(base),\(creds),\"division\":true}}")?.key, "credentials.division")
        XCTAssertEqual(decode("{\(base),\(creds),\"region\":null}}")?.key, "credentials.region")
        XCTAssertEqual(decode("{\(base),\(creds),\"extra\":\"x\"}}")?.key, "credentials.extra")
        XCTAssertEqual(decode("{\(base),\"from\":\"a\\ud800\",\(creds)}}")?.key, "from")
        XCTAssertEqual(decode("{\(base),\(creds),\"client_secret\":\"x\"}}")?.key, "credentials.client_secret")
        XCTAssertEqual(decode("{\(base),\(creds),\"redirect_uri\":\"http://localhost.evil.com/\"}}")?.key, "credentials.redirect_uri")
        XCTAssertNil(decode("{\(base),\(creds),\"redirect_uri\":\"http://localhost\"}}"))
        XCTAssertNil(decode("{\(base),\(creds),\"redirect_uri\":\"http://127.0.0.1:8080/x\"}}"))
        XCTAssertEqual(decode("[1]"), .field(key: "(top level)", rule: "must be a JSON object"))
        // No error message carries a value: the secret of a refused payload is not in it.
        let error = decode("{\(base),\"credentials\":{\"client_id\":\"x\",\"client_secret\":\"TopSecret12345\"}}")
        XCTAssertFalse("\(String(describing: error))".contains("TopSecret"))
    }

    func testFingerprintForms() throws {
        let digest = (0..<32).map { UInt8($0 * 7 & 0xff) }
        let f = Fingerprint(digest: digest)
        XCTAssertEqual(f.canonical, "SHA256:" + Hex.encode(digest))
        XCTAssertEqual(f.grouped.split(separator: " ").count, 16)
        XCTAssertEqual(f.grouped, f.grouped.uppercased())
        for typed in [f.canonical, f.canonical.uppercased(), "sha256:" + Hex.encode(digest), f.grouped,
                      Hex.encode(digest), f.grouped.replacingOccurrences(of: " ", with: "-"),
                      f.grouped.replacingOccurrences(of: " ", with: ":\t")] {
            XCTAssertEqual(try Fingerprint(typed: typed), f, typed)
        }
        XCTAssertThrowsError(try Fingerprint(typed: "SHA256:" + String(Hex.encode(digest).dropLast()))) {
            XCTAssertEqual($0 as? FingerprintError, .malformed)
        }
        XCTAssertThrowsError(try Fingerprint(typed: " " + Hex.encode(digest)))
        XCTAssertThrowsError(try Fingerprint(typed: "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s")) {
            XCTAssertEqual($0 as? FingerprintError, .openSSHForm)
        }
        XCTAssertThrowsError(try Fingerprint(canonical: f.canonical.uppercased()))
        XCTAssertEqual(try Fingerprint(canonical: f.canonical), f)
    }

    func testArmorToleranceAndStrictness() {
        let body = Base64.encode(Array(0..<100))
        func blocks(_ text: String) -> [Result<[UInt8], ArmorError>] { Armor.decode(Array(text.utf8)).map(\.contents) }
        let b = Armor.sealedBegin, e = Armor.sealedEnd
        XCTAssertEqual(blocks("hi\n> > \t\(b)  \r\n>  \(body.prefix(10)) \(body.dropFirst(10))\r\n>\(e)\r\nbye"), [.success(Array(0..<100))])
        XCTAssertEqual(blocks("no armor here"), [.failure(.noBlock)])
        XCTAssertEqual(blocks("\(b)\n\(body)\n"), [.failure(.missingEnd)])
        XCTAssertEqual(blocks("\(b)\n\(body)\n\(b)\n\(body)\n\(e)\n"), [.failure(.nestedBegin)])
        XCTAssertEqual(blocks("\(e)\n\(b)\n\(body)\n\(e)\n\(e)\n"), [.success(Array(0..<100))], "stray END lines are text")
        XCTAssertEqual(blocks("\(b)\n\(body)\n\(e)\n\(b)\nAAA\n\(e)\n").count, 2)
        XCTAssertEqual(blocks("\(b)\nAAA\n\(e)\n"), [.failure(.base64)])
        // 100 bytes are 136 base64 characters: lines of 64, 64 and 8.
        let lengths: [Int] = Armor.encode(Array(0..<100)).split(separator: "\n").map(\.count)
        XCTAssertEqual(lengths, [b.count, 64, 64, 8, e.count])
    }

    func testBase64IsCanonical() {
        XCTAssertEqual(Base64.decode(Array("AAE=".utf8)), [0, 1])
        XCTAssertNil(Base64.decode(Array("AAF=".utf8)), "non-zero trailing bits")
        XCTAssertNil(Base64.decode(Array("AA==AA==".utf8)), "padding in the middle")
        XCTAssertNil(Base64.decode(Array("AAE".utf8)), "padding missing")
        XCTAssertNil(Base64.decode(Array("AA-_".utf8)), "URL alphabet")
        for n in 0..<40 {
            let bytes = (0..<n).map { UInt8(($0 * 37 + n) & 0xff) }
            XCTAssertEqual(Base64.decode(Array(Base64.encode(bytes).utf8)), bytes)
        }
    }

    func testUTCTime() {
        for good in ["2024-02-29T23:59:59Z", "2000-02-29T00:00:00Z", "1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"] {
            XCTAssertEqual(UTCTime(exact: good)?.text, good)
        }
        for bad in ["1900-02-29T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-23t12:00:00Z", "2026-11-23T12:00:00z",
                    "2026-11-23T24:00:00Z", "2026-11-23T12:00:60Z", "2026-11-23T12:00:00.5Z", "2026-11-23 12:00:00Z",
                    "0000-01-01T00:00:00Z", "2026-13-01T00:00:00Z", "+026-11-23T12:00:00Z"] {
            XCTAssertNil(UTCTime(exact: bad), bad)
        }
        XCTAssertEqual(UTCTime(exact: "1970-01-02T00:00:01Z")?.seconds, 86401)
    }

    func testBech32RoundTripsAndRefusesEveryMutation() throws {
        for seed in 0..<20 {
            let key = (0..<32).map { UInt8(($0 * 31 + seed * 17) & 0xff) }
            let text = KeyText.recipient(key)
            XCTAssertEqual(text.count, 64)
            XCTAssertEqual(try KeyText.parseRecipient(text), key)
            XCTAssertEqual(try KeyText.parseRecipient(text.uppercased()), key)
            // Any single substituted data character breaks the checksum.
            var chars = Array(text)
            chars[10 + seed] = chars[10 + seed] == "q" ? "p" : "q"
            XCTAssertThrowsError(try KeyText.parseRecipient(String(chars))) { XCTAssertEqual($0 as? Bech32Error, .checksum) }
        }
        XCTAssertThrowsError(try KeyText.parseRecipient("vault1\u{e9}")) { XCTAssertEqual($0 as? Bech32Error, .character) }
        XCTAssertThrowsError(try KeyText.parseRecipient("vaultqqqqqqqq")) { XCTAssertEqual($0 as? Bech32Error, .checksum) }
        XCTAssertThrowsError(try KeyText.parseRecipient(String(repeating: "q", count: 91))) { XCTAssertEqual($0 as? Bech32Error, .checksum) }
    }

    func testPublicKeyFile() throws {
        let pair = try KeyPair.generate(), other = try KeyPair.generate()
        let text = PublicKeyFile.text(recipient: pair.publicKey.bytes, fingerprint: pair.publicKey.fingerprint, created: Handoff.now())
        XCTAssertEqual(try PublicKey(publicKeyFile: Array(("\n  " + text + "\n\n").utf8)), pair.publicKey)
        XCTAssertEqual(try PublicKey(publicKeyFile: Array(("# a comment\n" + pair.publicKey.recipient).utf8)), pair.publicKey)
        let edited = text.replacingOccurrences(of: pair.publicKey.recipient, with: other.publicKey.recipient)
        XCTAssertThrowsError(try PublicKey(publicKeyFile: Array(edited.utf8))) {
            XCTAssertEqual($0 as? PublicKeyFileError, .fingerprintMismatch(stated: pair.publicKey.fingerprint, actual: other.publicKey.fingerprint))
        }
        XCTAssertThrowsError(try PublicKey(publicKeyFile: Array((text + other.publicKey.recipient).utf8))) {
            XCTAssertEqual($0 as? PublicKeyFileError, .severalRecipients)
        }
        XCTAssertThrowsError(try PublicKey(publicKeyFile: Array("# only a comment\n".utf8))) {
            XCTAssertEqual($0 as? PublicKeyFileError, .noRecipient)
        }
    }

    func testRequestLabelsMustTravelIntact() throws {
        let key = try KeyPair.generate().publicKey.bytes
        XCTAssertThrowsError(try HandoffRequest(recipient: key, label: " Acme", code: Handoff.newCode(), expires: Handoff.now()))
        XCTAssertThrowsError(try HandoffRequest(recipient: key, label: "Acme", code: "short", expires: Handoff.now()))
        let r = try HandoffRequest(recipient: key, label: "Bäckerei Müller", code: Handoff.newCode(), expires: Handoff.now())
        let text = r.text(fingerprint: try PublicKey(bytes: key).fingerprint)
        XCTAssertEqual(try HandoffRequests.read(Array(text.utf8)), r)
        XCTAssertThrowsError(try HandoffRequests.read(Array((text + text).utf8)), "two requests in one text")
    }

    func testSecretBytesNeverPrintTheirContents() throws {
        let s = secret("hunter2hunter2")
        XCTAssertEqual("\(s)", "SecretBytes(14 bytes)")
        XCTAssertEqual(String(reflecting: s), "SecretBytes(14 bytes)")
        XCTAssertTrue(s.constantTimeEquals(secret("hunter2hunter2")))
        XCTAssertFalse(s.constantTimeEquals(secret("hunter2hunter3")))
        XCTAssertFalse(s.constantTimeEquals(secret("hunter2")))
    }
}

/// The label comparison form (Label.comparisonKey).
final class LabelFormTests: XCTestCase {
    func testComparisonKey() {
        XCTAssertEqual(Label.comparisonKey("Acme BV\u{200B}"), "Acme BV")
        XCTAssertEqual(Label.comparisonKey("\u{FF21}cme"), "Acme")          // full-width A
        XCTAssertEqual(Label.comparisonKey("e\u{200D}\u{301}"), "\u{E9}")     // a joiner between e and its accent
        XCTAssertEqual(Label.comparisonKey("\u{FB01}le"), "file")             // ligature
        XCTAssertNotEqual(Label.comparisonKey("Acme"), Label.comparisonKey("acme"))
        for s in ["Acme BV\u{200B}", "Ａｃｍｅ", "Caf\u{E9}", "x\u{FEFF}y"] {
            XCTAssertEqual(Label.comparisonKey(Label.comparisonKey(s)), Label.comparisonKey(s), "idempotent")
        }
        // As scalars: String's == is canonical equivalence, true of the input itself.
        XCTAssertEqual(Array(Label.normalized("Cafe\u{301}").unicodeScalars), Array("Caf\u{E9}".unicodeScalars))
    }
}
