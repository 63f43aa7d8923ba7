import Foundation
import XCTest
@testable import VaultKit

/// Unlock methods, re-keying, identities and the label comparison form.
final class KeystoreUnlockMethodTests: XCTestCase {
    func testMethodsAreAddedWithOneSecretAndRemovedWithARekey() async throws {
        let f = try KeystoreFixture(onTestBackEnd: ())
        let ks = try await f.create()
        try await ks.insert(sampleEntry(label: "before"))
        let second = f.dir + "/second.key"
        try KeyFile.create(at: second)
        try await ks.addUnlockMethod(name: "laptop", .keyFile(path: second))
        try await ks.addUnlockMethod(name: "office", .passphrase(secret("office pass"), profile: .interactive))
        expectEqual(try await ks.unlockMethods().map(\.name), ["key-file", "laptop", "office"])
        expectEqual(try await ks.unlockMethods().map(\.kind), [.keyFile, .keyFile, .passphrase])
        let viaPassphrase = try await f.open(.passphrase(secret("office pass")))
        expectEqual(try await viaPassphrase.unlockedMethod().name, "office")
        let oldFile = try await f.image()
        // Removing "laptop" re-keys without any other method's secret.
        try await viaPassphrase.removeUnlockMethod(name: "laptop")
        try await viaPassphrase.insert(sampleEntry(label: "after"))
        await assertThrows(.wrongKeyFile) { try await f.open(.keyFile(path: second)) }
        expectEqual(try await f.open().list().map(\.label), ["after", "before"])
        expectEqual(try await ks.list().map(\.label), ["after", "before"])   // ks's own method stayed
        // The old header (which still has "laptop") spliced onto the new file opens nothing
        // (on PostgreSQL: PostgresKeystoreTests.testSplicedHeaderRowOpensNothing).
        guard !f.isDatabase else { return }
        let new = try f.bytes()
        try f.write(Array(oldFile[0..<Layout(oldFile).headerLength]) + Array(new[Layout(new).headerLength...]))
        do {
            let spliced = try await f.open(.keyFile(path: second))
            let listed = try await spliced.list()
            XCTFail("the removed method read \(listed.map(\.label))")
        } catch {
            guard case KeystoreError.damaged = error else { return XCTFail("\(error)") }
        }
        // An old copy of the whole file still opens with the removed method (SECURITY.md).
        try f.write(oldFile)
        expectEqual(try await f.open(.keyFile(path: second)).list().map(\.label), ["before"])
    }

    func testChangeProtectionKeepsTheNameOfTheSameKindAndTheOthersWork() async throws {
        let f = try KeystoreFixture(onTestBackEnd: ())
        let ks = try await f.create(.passphrase(secret("one"), profile: .interactive))
        try await ks.addUnlockMethod(name: "server", .keyFile(path: f.keyPath))
        try await ks.insert(sampleEntry())
        try await ks.changeProtection(to: .passphrase(secret("two"), profile: .interactive))
        expectEqual(try await ks.unlockMethods().map(\.name), ["passphrase", "server"])
        await assertThrows(.wrongPassphrase(profiles: [.interactive])) { try await f.open(.passphrase(secret("one"))) }
        expectEqual(try await f.open().list().count, 1)
        expectEqual(try await f.open(.passphrase(secret("two"))).list().count, 1)
        // A key file replaces the passphrase: the default name of its kind, unless it is taken.
        await assertThrows(.unlockMethodExists(name: "server")) {
            try await ks.changeProtection(to: .keyFile(path: f.keyPath), name: "server")
        }
        let third = f.dir + "/third.key"
        try KeyFile.create(at: third)
        try await ks.changeProtection(to: .keyFile(path: third))
        expectEqual(try await ks.unlockMethods().map(\.name), ["key-file", "server"])
    }

    func testIdentitiesRotateRetireAndOpenByFingerprint() async throws {
        let f = try KeystoreFixture(onTestBackEnd: ())
        let ks = try await f.create()
        let first = try await ks.identity()
        let created = try await ks.identityCreated()
        let next = try KeyPair.generate()
        await assertThrows(.invalidEntry(detail: "exactly one identity must be current")) {
            try await ks.updateIdentities([IdentityUpdate(keyPair: next, state: .current, created: Timestamp.now())], operation: .rotate)
        }
        try await ks.updateIdentities([IdentityUpdate(keyPair: next, state: .current, created: Timestamp.now()),
                                       IdentityUpdate(keyPair: first, state: .active, created: created)], operation: .rotate)
        let reopened = try await f.open()
        expectEqual(try await reopened.identity().publicKey, next.publicKey)
        expectEqual(try await reopened.identities().map(\.state), [.active, .current])
        expectEqual(try await reopened.openingIdentities().map(\.publicKey), [next.publicKey, first.publicKey])
        expectEqual(try await reopened.identity(fingerprint: first.publicKey.fingerprint).publicKey, first.publicKey)
        try await ks.updateIdentities([IdentityUpdate(keyPair: first, state: .retired, created: created)], operation: .retire)
        let retired = try await f.open()
        let info = try await retired.identities()
        XCTAssertEqual(info.first?.state, .retired)
        await assertThrows(.identityRetired(fingerprint: first.publicKey.fingerprint.canonical, retired: info.first!.changed)) {
            try await retired.identity(fingerprint: first.publicKey.fingerprint)
        }
        let stranger = try KeyPair.generate().publicKey.fingerprint
        await assertThrows(.noSuchIdentity(fingerprint: stranger.canonical)) { try await retired.identity(fingerprint: stranger) }
        try await ks.compact()
        expectEqual(try await f.open().identities().count, 2)
        try await f.open().verify()
    }

    /// Issue 8 item 11: labels equal after NFKC and without default-ignorable code points are
    /// the same label; stored labels stay as written (NFC).
    func testLabelsEqualUnderTheComparisonFormClash() async throws {
        let f = try KeystoreFixture(onTestBackEnd: ())
        let ks = try await f.create()
        try await ks.insert(sampleEntry(label: "Acme BV"))
        for twin in ["Acme BV\u{200B}", "Ac\u{00AD}me BV", "\u{FF21}cme BV", "Acme\u{2060} BV", "Acme BV\u{FE0F}"] {
            await assertThrows(.labelInUse(label: twin.precomposedStringWithCanonicalMapping)) { try await ks.insert(sampleEntry(label: twin)) }
            expectEqual(try await ks.entry(twin).label, "Acme BV")
        }
        // A version stored under a twin label is a version of the same entry; each version keeps
        // the label it was given (NFC), so nothing the sender wrote is silently changed.
        try await ks.insert(sampleEntry(label: "Acme BV\u{200B}"), replace: true)
        expectEqual(try await ks.history("Acme BV").map(\.label), ["Acme BV", "Acme BV\u{200B}"])
        expectEqual(try await ks.list().count, 1)
        try await ks.insert(sampleEntry(label: "ACME BV"))   // still case-sensitive
        expectEqual(try await ks.list().count, 2)
    }

    func testImageIsAKeystoreFile() async throws {
        let f = try KeystoreFixture(onTestBackEnd: ())
        let ks = try await f.create()
        try await ks.insert(sampleEntry())
        try await ks.remove("Acme BV")
        try await ks.insert(sampleEntry(label: "kept"))
        let image = try await ks.image()
        let stored = try await f.image().count
        XCTAssertLessThan(image.count, stored)
        let copy = try await Keystore.open(storage: MemoryKeystoreStorage(image: image), unlock: .keyFile(path: f.keyPath))
        expectEqual(try await copy.list().map(\.label), ["kept"])
        try await copy.verify()
    }
}
