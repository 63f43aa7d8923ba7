import Foundation
import XCTest
@testable import VaultKit

/// Where the tests' data lives: the copies under Tests/, not ../shared (a user's clone has none).
enum TestData {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let vectors = testsDirectory.appendingPathComponent("Vectors")
    static let packageRoot = testsDirectory.deletingLastPathComponent().deletingLastPathComponent()

    static func json(_ relative: String) throws -> [String: Any] {
        let data = try Data(contentsOf: vectors.appendingPathComponent(relative))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}

func hex(_ s: String) -> [UInt8] { Hex.decode(s)! }
func secret(_ s: String) -> SecretBytes { try! SecretBytes(Array(s.utf8)) }
func utf8String(_ s: SecretBytes) -> String { s.withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }

/// A key pair from a hex secret key.
func keyPair(_ secretHex: String) -> KeyPair { try! KeyPair(secretKey: try! SecretBytes(hex(secretHex))) }

/// A valid payload to `key`, with every field that `fill` sets.
func samplePayload(to key: PublicKey, label: String = "Acme BV",
                   credentials: Credentials? = nil, created: UTCTime = Handoff.now()) -> Payload {
    Payload(id: Handoff.newCode(), recipient: key.fingerprint, created: created,
            expires: created.adding(seconds: 30 * 86400), label: label,
            credentials: credentials ?? .exactOnline(ExactOnlineCredentials(
                clientID: "1c07724e-cc1b-9ff3-2f42-4a50582c18c9", clientSecret: secret("EKKQh8KqRptS"))))
}

/// The payload re-encoded by VaultKit, as a Foundation object for comparison.
func foundationObject(_ payload: Payload) throws -> NSDictionary {
    let bytes = try PayloadCodec.encode(payload)
    return try bytes.withUnsafeBytes { try JSONSerialization.jsonObject(with: Data($0)) as! NSDictionary }
}
