import Foundation
import XCTest
@testable import VaultKit

/// Every refusal has its own error, and no failing operation changes a byte of the file.
final class KeystoreDamageTests: XCTestCase {
    /// A keystore with one entry, and its bytes.
    func makeKeystore() async throws -> (KeystoreFixture, [UInt8]) {
        let f = try KeystoreFixture()
        let ks = try await f.create()
        try await ks.insert(sampleEntry())
        return (f, try f.bytes())
    }

    /// Offsets of the record frames in a keystore file.
    func frameOffsets(_ b: [UInt8]) -> [Int] {
        var o = Int(b[10]) << 8 | Int(b[11])
        var out: [Int] = []
        while o + 4 <= b.count {
            out.append(o)
            o += Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3])
        }
        return out
    }

    func testWrongPassphraseAndWrongKeyFileHaveTheirOwnErrors() async throws {
        let f = try KeystoreFixture()
        _ = try await Keystore.create(at: f.path, protection: .passphrase(secret("right"), profile: .interactive))
        let before = try f.bytes()
        await assertThrows(.wrongPassphrase) { try await Keystore.open(at: f.path, unlock: .passphrase(secret("wrong"))) }
        await assertThrows(.emptyPassphrase) { try await Keystore.open(at: f.path, unlock: .passphrase(try SecretBytes(count: 0))) }
        await assertThrows(.emptyPassphrase) {
            try await Keystore.create(at: f.dir + "/new.vault", protection: .passphrase(try SecretBytes(count: 0), profile: .interactive))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: f.dir + "/new.vault"))
        await assertThrows(.unlockMethodNotAvailable(offered: "key file", available: ["passphrase"])) { try await f.open() }
        XCTAssertEqual(try f.bytes(), before)

        let g = try KeystoreFixture()
        _ = try await g.create()
        let other = g.dir + "/other.key"
        try KeyFile.create(at: other)
        let gBefore = try g.bytes()
        await assertThrows(.wrongKeyFile) { try await Keystore.open(at: g.path, unlock: .keyFile(path: other)) }
        XCTAssertEqual(try g.bytes(), gBefore)
    }

    func testKeyFileChecks() async throws {
        let f = try KeystoreFixture()
        _ = try await f.create()
        await assertThrows(.alreadyExists(path: f.keyPath)) { try KeyFile.create(at: f.keyPath) }
        chmod(f.keyPath, 0o644)
        await assertThrows(.permissionsTooOpen(path: f.keyPath, mode: 0o644)) { try await f.open() }
        let short = f.dir + "/short.key"
        _ = FileManager.default.createFile(atPath: short, contents: Data(repeating: 7, count: 31), attributes: [.posixPermissions: 0o600])
        await assertThrows(.invalidKeyFile(path: short, size: 31)) { try await Keystore.open(at: f.path, unlock: .keyFile(path: short)) }
    }

    func testPermissionsTooOpenRefused() async throws {
        let (f, before) = try await makeKeystore()
        for mode: mode_t in [0o644, 0o640, 0o604, 0o620] {
            chmod(f.path, mode)
            await assertThrows(.permissionsTooOpen(path: f.path, mode: UInt32(mode))) { try await f.open() }
        }
        XCTAssertEqual(try f.bytes(), before)
    }

    func testEmptyForeignTruncatedAndNewerFilesEachRefused() async throws {
        let (f, good) = try await makeKeystore()
        try f.write([])
        await assertThrows(.emptyFile(path: f.path)) { try await f.open() }
        try f.write(Array("-----BEGIN VAULT SEALED CREDENTIALS-----\n".utf8))
        await assertThrows(.notAKeystore(path: f.path)) { try await f.open() }
        try f.write(Array(good[0..<5]))
        await assertThrows(.truncated(path: f.path)) { try await f.open() }
        try f.write(Array(good[0..<100]))
        await assertThrows(.truncated(path: f.path)) { try await f.open() }
        let headerLength = Int(good[10]) << 8 | Int(good[11])
        try f.write(Array(good[0..<headerLength]))
        await assertThrows(.truncated(path: f.path)) { try await f.open() }
        var newer = good
        newer[9] = 2
        try f.write(newer)
        await assertThrows(.newerVersion(found: 2, supported: 1)) { try await f.open() }
    }

    func testBitFlipsRefusedAsDamaged() async throws {
        let (f, good) = try await makeKeystore()
        let headerLength = Int(good[10]) << 8 | Int(good[11])
        // Any byte of the header after the version: the checksum catches it before any KDF.
        for i in [12, 20, 28, 30, 40, 60, 100, headerLength - 1] {
            var bad = good
            bad[i] ^= 0x10
            try f.write(bad)
            do {
                _ = try await f.open()
                XCTFail("flip at \(i) accepted")
            } catch let e as KeystoreError {
                guard case .damaged = e else { XCTFail("flip at \(i): \(e)"); continue }
            }
        }
        // A record's ciphertext: refused when the record is read, and by verify().
        let entryFrame = frameOffsets(good)[1]
        var bad = good
        bad[entryFrame + 60] ^= 0x01
        try f.write(bad)
        let ks = try await f.open()
        await assertThrows(.damaged(detail: "record 2 does not authenticate")) { try await ks.entry("Acme BV") }
        await assertThrows(.damaged(detail: "record 2 does not authenticate")) { try await ks.verify() }
        XCTAssertEqual(try f.bytes(), bad)
        // A frame length.
        bad = good
        bad[entryFrame] = 0xff
        try f.write(bad)
        do { _ = try await f.open(); XCTFail("damaged length accepted") } catch let e as KeystoreError {
            guard case .damaged = e else { return XCTFail("\(e)") }
        }
    }

    func testInterruptedAppendIsIgnoredThenDropped() async throws {
        let (f, good) = try await makeKeystore()
        let ks = try await f.open()
        try await ks.insert(sampleEntry(label: "second"))
        let two = try f.bytes()
        // A crash half-way through the second insert: only part of its frames reached the file.
        for cut in [good.count + 3, good.count + 70, two.count - 1] {
            try f.write(Array(two[0..<cut]))
            let reopened = try await f.open()
            expectEqual(try await reopened.list().map(\.label), ["Acme BV"])
            try await reopened.verify()
        }
        // Zeros where the append should be (a power loss before the data reached the disk).
        try f.write(good + [UInt8](repeating: 0, count: 300))
        expectEqual(try await f.open().list().map(\.label), ["Acme BV"])
        // The entry record without the ledger record that commits it is not read either.
        let lastFrame = frameOffsets(two).last!
        try f.write(Array(two[0..<lastFrame]))
        let reopened = try await f.open()
        expectEqual(try await reopened.list().map(\.label), ["Acme BV"])
        // The next writer drops the remains and appends after the last commit.
        try await reopened.insert(sampleEntry(label: "third"))
        expectEqual(try await f.open().list().map(\.label), ["Acme BV", "third"])
        try await f.open().verify()
    }

    func testFailingOperationsLeaveTheFileByteIdentical() async throws {
        let (f, _) = try await makeKeystore()
        let ks = try await f.open()
        let id = try await ks.entry("Acme BV").blobID
        let before = try f.bytes()
        await assertThrows(.replay(blobID: id, label: "Acme BV")) { try await ks.insert(sampleEntry(label: "x", blobID: id)) }
        await assertThrows(.labelInUse(label: "Acme BV")) { try await ks.insert(sampleEntry()) }
        await assertThrows(.noSuchEntry(label: "nobody")) { try await ks.remove("nobody") }
        await assertThrows(.noSuchEntry(label: "nobody")) { try await ks.withTokenLease("nobody") { $0 } }
        await assertThrows(.notFound(path: f.dir + "/missing.key")) {
            try await ks.changeProtection(to: .keyFile(path: f.dir + "/missing.key"))
        }
        await assertThrows(.wrongKeyFile) {
            let other = f.dir + "/other.key"
            try KeyFile.create(at: other)
            return try await Keystore.open(at: f.path, unlock: .keyFile(path: other))
        }
        XCTAssertEqual(try f.bytes(), before)
    }

    func testAnotherKeystoreSwappedInIsNotRead() async throws {
        let (f, _) = try await makeKeystore()
        let ks = try await f.open()
        let g = try KeystoreFixture()
        _ = try await Keystore.create(at: g.path, protection: .keyFile(path: f.keyPath))
        XCTAssertEqual(rename(g.path, f.path), 0)
        await assertThrows(.damaged(detail: "the file now holds a different keystore")) { try await ks.list() }
    }

    func testLockTimeoutIsClear() async throws {
        let (f, before) = try await makeKeystore()
        let ks = try await Keystore.open(at: f.path, unlock: .keyFile(path: f.keyPath), lockTimeout: 0.3)
        // flock locks belong to an open file description: a second open in this process contends.
        let fd = open(f.path + ".lock", O_RDWR)
        XCTAssertEqual(flock(fd, LOCK_EX), 0)
        await assertThrows(.lockTimeout(path: f.path + ".lock", seconds: 0.3)) { try await ks.insert(sampleEntry(label: "y")) }
        close(fd)
        XCTAssertEqual(try f.bytes(), before)
        try await ks.insert(sampleEntry(label: "y"))
    }
}
