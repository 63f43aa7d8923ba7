import Foundation
import XCTest
@testable import VaultKit

/// The API over a back end other than the file (what a PostgreSQL back end implements): it
/// stores only the header and sealed records, byte-compatible with the file.
final class KeystoreStorageTests: XCTestCase {
    func testTheAPIRunsOverAnotherBackEnd() async throws {
        let f = try KeystoreFixture() // only for its key file
        let storage = MemoryKeystoreStorage()
        let ks = try await Keystore.create(storage: storage, protection: .keyFile(path: f.keyPath))
        try await ks.insert(sampleEntry(secretValue: "one"))
        try await ks.insert(sampleEntry(secretValue: "two"), replace: true)
        _ = try await ks.withTokenLease("Acme BV") { _ in
            TokenState(refreshToken: secret("r"), accessToken: secret("a"), accessTokenExpires: "2026-11-24T00:00:00Z")
        }
        let other = try await Keystore.open(storage: storage, unlock: .keyFile(path: f.keyPath))
        expectEqual(try await other.history("Acme BV").map { string($0.field("client_secret")) }, ["one", "two"])
        try await other.compact()
        expectEqual(try await ks.list().map(\.label), ["Acme BV"])
        // Nothing secret, and no label, reaches the back end in clear.
        for needle in ["two", "Acme BV", "1c07724e", "EKKQ", "Jan, payroll"] {
            XCTAssertNil(storage.image.firstRange(of: Array(needle.utf8)), "\(needle) stored in clear")
        }
        // The same bytes are a keystore file.
        try f.write(storage.image)
        expectEqual(try await f.open().history("Acme BV").count, 2)
    }

    func testAFileImageOpensInMemory() async throws {
        let f = try KeystoreFixture(onTestBackEnd: ())
        let ks = try await f.create()
        try await ks.insert(sampleEntry())
        let created = try await ks.identityCreated()
        XCTAssertTrue(Timestamp.isValid(created))
        let mem = try await Keystore.open(storage: MemoryKeystoreStorage(image: try await f.image()), unlock: .keyFile(path: f.keyPath))
        expectEqual(try await mem.identity().publicKey, try await ks.identity().publicKey)
        expectEqual(try await mem.identityCreated(), created)
        expectEqual(try await mem.list().map(\.label), ["Acme BV"])
    }
}
