import Foundation
import XCTest
@testable import VaultKit

/// Project Wycheproof through the project's own libsodium wrapper, not around it.
final class WycheproofTests: XCTestCase {
    private func tests(_ file: String) throws -> [[String: Any]] {
        let json = try TestData.json("wycheproof/\(file)")
        let groups = try XCTUnwrap(json["testGroups"] as? [[String: Any]])
        return groups.flatMap { $0["tests"] as! [[String: Any]] }
    }

    func testX25519() throws {
        let cases = try tests("x25519_test.json")
        XCTAssertEqual(cases.count, 518)
        var refused = 0
        for t in cases {
            let id = "tcId \(t["tcId"]!)"
            let flags = t["flags"] as? [String] ?? []
            let result = Result {
                try X25519.sharedSecret(secret: try SecretBytes(hex(t["private"] as! String)), point: hex(t["public"] as! String))
            }
            switch result {
            case .success(let shared):
                XCTAssertFalse(flags.contains("ZeroSharedSecret"), "\(id): an all-zero secret must be refused")
                XCTAssertTrue(shared.constantTimeEquals(hex(t["shared"] as! String)), id)
            case .failure(let error):
                // libsodium refuses exactly the all-zero shared secrets; the wrapper refuses too.
                XCTAssertEqual(error as? SodiumError, .scalarMultRefused, id)
                XCTAssertTrue(flags.contains("ZeroSharedSecret"), "\(id): refused \(flags)")
                XCTAssertEqual(t["shared"] as? String, String(repeating: "0", count: 64), id)
                refused += 1
            }
        }
        XCTAssertGreaterThan(refused, 0)
    }

    func testXChaCha20Poly1305() throws {
        let cases = try tests("xchacha20_poly1305_test.json")
        XCTAssertEqual(cases.count, 315)
        for t in cases {
            let id = "tcId \(t["tcId"]!)"
            let key = try SecretBytes(hex(t["key"] as! String))
            let nonce = hex(t["iv"] as! String), aad = hex(t["aad"] as! String)
            let msg = hex(t["msg"] as! String), sealed = hex(t["ct"] as! String) + hex(t["tag"] as! String)
            let opened = Result { try XChaCha20Poly1305.open(sealed, associatedData: aad, nonce: nonce, key: key) }
            if t["result"] as! String == "valid" {
                XCTAssertTrue(try opened.get().constantTimeEquals(msg), id)
                XCTAssertEqual(try XChaCha20Poly1305.seal(SecretBytes(msg), associatedData: aad, nonce: nonce, key: key), sealed, id)
            } else {
                // A nonce of the wrong size is refused by the wrapper's own check, the rest by libsodium.
                let expected: SodiumError = nonce.count != XChaCha20Poly1305.nonceByteCount
                    ? .invalidLength(what: "nonce", expected: 24, actual: nonce.count) : .authenticationFailed
                XCTAssertThrowsError(try opened.get(), id) { XCTAssertEqual($0 as? SodiumError, expected, id) }
            }
        }
    }

    func testWrapperChecksLengthsBeforeCallingC() throws {
        let key = try SecretBytes(count: 31)
        XCTAssertThrowsError(try XChaCha20Poly1305.open([UInt8](repeating: 0, count: 16), associatedData: [],
                                                          nonce: [UInt8](repeating: 0, count: 24), key: key)) {
            XCTAssertEqual($0 as? SodiumError, .invalidLength(what: "key", expected: 32, actual: 31))
        }
        XCTAssertThrowsError(try X25519.sharedSecret(secret: try SecretBytes(count: 32), point: [1, 2, 3]))
        XCTAssertThrowsError(try PublicKey(bytes: [UInt8](repeating: 9, count: 31)))
        XCTAssertEqual(SealedBox.overhead, SealedBlob.sealOverhead)
    }
}

