import Foundation
import XCTest
@testable import VaultKit

/// Issue 12 at the library's level: identity changes decided under the lock, the backup stream.
final class KeystoreRotationTests: XCTestCase {
    /// Two handles, one rotating after the other read the identities: each rotation is decided
    /// under the exclusive lock on the identities as stored then, never on a handle's stale
    /// view, so exactly one identity is current and none is lost.
    func testRotationsDecideOnTheStoredIdentitiesNotAStaleView() async throws {
        let f = try KeystoreFixture()
        let first = try await f.create()
        let original = try await first.identity().publicKey.fingerprint
        let a = try await f.open(), b = try await f.open()
        _ = try await b.identities()
        let x = try await a.rotateIdentity()
        let y = try await b.rotateIdentity()
        XCTAssertNotEqual(x.fingerprint, y.fingerprint)
        let all = try await first.identities()
        XCTAssertEqual(all.count, 3)
        XCTAssertEqual(all.filter { $0.state == .current }.count, 1)
        XCTAssertEqual(Set(all.filter { $0.state == .active }.map(\.fingerprint)).count, 2)
        XCTAssertTrue(all.contains { $0.fingerprint == original && $0.state == .active })
        try await first.verify()
    }

    func testRetireImportAndExportKeepTheirRules() async throws {
        let f = try KeystoreFixture()
        let ks = try await f.create()
        let first = try await ks.identity()
        await assertThrows(.currentIdentity(fingerprint: first.publicKey.fingerprint.canonical)) {
            try await ks.retireIdentity(fingerprint: first.publicKey.fingerprint)
        }
        try await ks.rotateIdentity()
        let retired = try await ks.retireIdentity(fingerprint: first.publicKey.fingerprint)
        XCTAssertTrue(retired.changed)
        XCTAssertEqual(retired.identity.state, .retired)
        let again = try await ks.retireIdentity(fingerprint: first.publicKey.fingerprint)
        XCTAssertFalse(again.changed, "retiring twice writes nothing")
        XCTAssertEqual(again.identity.changed, retired.identity.changed)
        // The receiver learns when it was retired, and never gets its key to try.
        let receiving = try await ks.receivingIdentities()
        XCTAssertEqual(receiving.retired[first.publicKey.fingerprint], retired.identity.changed)
        XCTAssertFalse(receiving.opening.contains { $0.publicKey.fingerprint == first.publicKey.fingerprint })
        // Export finds it in any state; importing it again only makes it current.
        let exported = try await ks.exportIdentity(fingerprint: first.publicKey.fingerprint)
        XCTAssertEqual(exported.identity.state, .retired)
        await assertThrows(.identityExists(fingerprint: first.publicKey.fingerprint.canonical, state: .retired)) {
            try await ks.importIdentity(exported.keyPair, makeCurrent: false)
        }
        let current = try await ks.importIdentity(exported.keyPair, makeCurrent: true)
        XCTAssertEqual(current.state, .current)
        XCTAssertEqual(current.created, retired.identity.created, "an identity made current again keeps its creation time")
        let states = try await ks.identities().map(\.state)
        XCTAssertEqual(states.filter { $0 == .current }.count, 1)
        XCTAssertEqual(states.count, 2)
    }

    /// The backup's stream: chunks reordered, dropped, repeated or cut, or a FINAL chunk
    /// followed by more, never read as whole.
    func testSecretStreamRefusesEveryReorderingAndCut() throws {
        let key = try SecretBytes.random(count: SecretStream.keyByteCount)
        let push = try SecretStream.push(key: key)
        let parts: [[UInt8]] = [Array("first".utf8), Array("second".utf8), Array("third".utf8)]
        var chunks: [[UInt8]] = []
        for (i, p) in parts.enumerated() {
            chunks.append(try p.withUnsafeBytes { try push.push($0, final: i == parts.count - 1) })
        }
        func read(_ sequence: [[UInt8]]) -> (plain: [[UInt8]], final: Bool, failed: Bool) {
            guard let pull = try? SecretStream.pull(key: key, header: push.header) else { return ([], false, true) }
            var out: [[UInt8]] = [], final = false
            for c in sequence {
                guard let r = try? c.withUnsafeBytes({ try pull.pull($0) }) else { return (out, final, true) }
                out.append(r.plaintext)
                final = r.final
            }
            return (out, final, false)
        }
        let whole = read(chunks)
        XCTAssertEqual(whole.plain, parts)
        XCTAssertTrue(whole.final && !whole.failed)
        XCTAssertTrue(read([chunks[1], chunks[0], chunks[2]]).failed, "reordered")
        XCTAssertTrue(read([chunks[0], chunks[2]]).failed, "one dropped")
        XCTAssertTrue(read([chunks[0], chunks[0]]).failed, "one repeated")
        XCTAssertTrue(read(chunks + [chunks[2]]).failed, "a chunk after the final one")
        let cut = read([chunks[0], chunks[1]])
        XCTAssertFalse(cut.failed)
        XCTAssertFalse(cut.final, "cut at a chunk boundary: no FINAL tag, so the reader knows")
        var flipped = chunks
        flipped[1][3] ^= 1
        XCTAssertTrue(read(flipped).failed, "altered")
        XCTAssertThrowsError(try Array("late".utf8).withUnsafeBytes { try push.push($0, final: false) }, "nothing after FINAL")
    }
}
