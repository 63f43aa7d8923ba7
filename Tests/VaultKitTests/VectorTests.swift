import Foundation
import XCTest
@testable import VaultKit

/// Every vector of ../shared/vectors (through the project's copy), through every layer that can see it.
final class VectorTests: XCTestCase {
    func testValidKeysInEveryDirection() throws {
        let keys = try TestData.json("keys.json")
        let valid = try XCTUnwrap(keys["valid"] as? [[String: String]])
        XCTAssertFalse(valid.isEmpty)
        for v in valid {
            let pair = keyPair(v["secret_key_hex"]!)
            XCTAssertEqual(pair.publicKey.bytes, hex(v["public_key_hex"]!), "secret → public")
            XCTAssertEqual(pair.publicKey.recipient, v["recipient"], "public → recipient")
            XCTAssertEqual(try PublicKey(recipient: v["recipient"]!).bytes, pair.publicKey.bytes, "recipient → public")
            XCTAssertEqual(pair.publicKey.fingerprint.canonical, v["fingerprint"], "public → fingerprint")
            XCTAssertEqual(utf8String(try SecretKeyText.encode(pair)), v["secret_key"], "secret → secret-key string")
            let back = try SecretKeyText.decode(secret(v["secret_key"]!))
            XCTAssertTrue(back.secretKey.constantTimeEquals(pair.secretKey), "secret-key string → secret")
            XCTAssertTrue(try SecretKeyText.decode(secret(v["secret_key"]!.lowercased())).secretKey.constantTimeEquals(pair.secretKey))
        }
        let upper = try XCTUnwrap(keys["upper_case_recipient_is_valid"] as? String)
        XCTAssertEqual(try PublicKey(recipient: upper).recipient, upper.lowercased())
    }

    func testInvalidRecipientsGiveTheirClass() throws {
        let cases = try XCTUnwrap(try TestData.json("keys.json")["invalid_recipients"] as? [[String: String]])
        XCTAssertFalse(cases.isEmpty)
        for c in cases {
            do {
                _ = try PublicKey(recipient: c["input"]!)
                XCTFail("accepted \(c["input"]!)")
            } catch {
                XCTAssertEqual(error.className, c["error"], c["input"]!)
            }
        }
    }

    func testBlobs() throws {
        let cases = try XCTUnwrap(try TestData.json("blobs.json")["cases"] as? [[String: Any]])
        XCTAssertGreaterThan(cases.count, 50)
        var openedCount = 0
        for c in cases {
            let name = c["name"] as! String
            let pair = keyPair(c["secret_key_hex"] as! String)
            let now = try XCTUnwrap(UTCTime(exact: c["now"] as! String))
            let outcomes = Handoff.open(Array((c["armored"] as! String).utf8), keys: [pair], now: now)
            XCTAssertEqual(outcomes.count, 1, name)
            let expect = c["expect"] as! String
            switch outcomes[0].result {
            case .success(let opened):
                XCTAssertEqual(expect, "ok", "\(name): opened, expected \(expect)")
                guard expect == "ok" else { continue }
                openedCount += 1
                var expected = c["payload"] as! [String: Any]
                if let stored = c["stored_client_id"] as? String {
                    guard case .exactOnline(let creds) = opened.payload.credentials else { XCTFail(name); continue }
                    XCTAssertEqual(creds.clientID, stored, name)
                    var credentials = expected["credentials"] as! [String: Any]
                    credentials["client_id"] = stored
                    expected["credentials"] = credentials
                }
                // What we read, written back by our own encoder, is the object that was sealed.
                XCTAssertEqual(try foundationObject(opened.payload), expected as NSDictionary, name)
            case .failure(let error):
                XCTAssertEqual(error.className, expect, "\(name): \(error)")
            }
        }
        XCTAssertEqual(openedCount, cases.filter { $0["expect"] as? String == "ok" }.count)
    }

    func testRequests() throws {
        let cases = try XCTUnwrap(try TestData.json("requests.json")["requests"] as? [[String: String]])
        XCTAssertFalse(cases.isEmpty)
        for c in cases {
            let name = c["name"]!
            let result = Result { try HandoffRequests.read(Array(c["text"]!.utf8)) }
            switch (result, c["expect"]) {
            case (.success(let r), "ok"):
                XCTAssertEqual(KeyText.recipient(r.recipient), c["recipient"], name)
                XCTAssertEqual(r.label, c["label"], name)
                XCTAssertEqual(r.code, c["code"], name)
                XCTAssertEqual(r.expires.text, c["expires"], name)
                // Written back, it reads the same.
                let pk = try PublicKey(bytes: r.recipient)
                XCTAssertEqual(try HandoffRequests.read(Array(r.text(fingerprint: pk.fingerprint).utf8)), r, name)
            case (.failure, "error"): break
            default: XCTFail("\(name): \(result)")
            }
        }
    }

    /// The copy under Tests/ must be the vectors of ../shared when that exists (a developer's
    /// machine, CI): a vector changed there and not here fails.
    func testCopiedVectorsMatchShared() throws {
        let shared = TestData.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/vectors")
        guard FileManager.default.fileExists(atPath: shared.path) else {
            throw XCTSkip("no ../shared/vectors beside the package (a user's clone): nothing to compare")
        }
        let files = try XCTUnwrap(FileManager.default.subpathsOfDirectory(atPath: shared.path))
        for file in files {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: shared.appendingPathComponent(file).path, isDirectory: &isDirectory)
            XCTAssertTrue(exists, "../shared/vectors/\(file) is listed but cannot be read")
            if !exists || isDirectory.boolValue { continue }
            let theirs = try Data(contentsOf: shared.appendingPathComponent(file))
            let ours = try? Data(contentsOf: TestData.vectors.appendingPathComponent(file))
            XCTAssertEqual(ours, theirs, "Tests/VaultKitTests/Vectors/\(file) differs from ../shared/vectors/\(file): copy it again")
        }
    }
}

extension Error {
    /// The vector class of any error the format throws.
    var className: String {
        switch self {
        case let e as Bech32Error: e.className
        case let e as OpenError: e.className
        default: "\(self)"
        }
    }
}
