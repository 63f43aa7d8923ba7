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

    func assertDamaged(_ what: String, file: StaticString = #filePath, line: UInt = #line, _ body: () async throws -> Void) async {
        do {
            try await body()
            XCTFail("\(what): accepted", file: file, line: line)
        } catch let e as KeystoreError {
            guard case .damaged = e else { return XCTFail("\(what): \(e)", file: file, line: line) }
        } catch { XCTFail("\(what): \(error)", file: file, line: line) }
    }

    func testWrongPassphraseAndWrongKeyFileHaveTheirOwnErrors() async throws {
        let f = try KeystoreFixture()
        _ = try await Keystore.create(at: f.path, protection: .passphrase(secret("right"), profile: .interactive))
        let before = try f.bytes()
        await assertThrows(.wrongPassphrase(profiles: [.interactive])) { try await Keystore.open(at: f.path, unlock: .passphrase(secret("wrong"))) }
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

    /// Issue 8 item 11: a header edited to a weaker KDF profile (checksum recomputed) is refused
    /// as a wrong passphrase *or an altered slot*, naming the profile the slot now asks for.
    func testAKDFProfileEditedDownIsNotCalledIntact() async throws {
        let f = try KeystoreFixture()
        _ = try await Keystore.create(at: f.path, protection: .passphrase(secret("right"), profile: .moderate))
        var b = try f.bytes()
        let slot = 47
        XCTAssertEqual(b[slot], 1)       // a passphrase slot
        XCTAssertEqual(b[slot + 1], 2)   // moderate
        b[slot + 1] = 1                  // edited to interactive
        Layout.fixChecksum(&b)
        try f.write(b)
        await assertThrows(.wrongPassphrase(profiles: [.interactive])) { try await Keystore.open(at: f.path, unlock: .passphrase(secret("right"))) }
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
        let layout = Layout(good)
        try f.write(Array(good[0..<layout.headerLength]))
        await assertDamaged("header only, no state") { _ = try await f.open() }
        // Cut inside the committed log: never read as an older keystore.
        try f.write(Array(good[0..<(layout.logEnd - 10)]))
        do { _ = try await f.open(); XCTFail("a cut log was accepted") } catch KeystoreError.damaged(let detail) {
            XCTAssertTrue(detail.hasPrefix("cut short"), detail)
        }
        var newer = good
        newer[9] = 3
        try f.write(newer)
        await assertThrows(.newerVersion(found: 3, supported: 2)) { try await f.open() }
    }

    func testBitFlipsRefusedAsDamaged() async throws {
        let (f, good) = try await makeKeystore()
        let layout = Layout(good)
        // Any byte of the header after the version: the checksum catches it before any KDF.
        for i in [12, 20, 28, 30, 40, 47, 60, 100, layout.headerLength - 40, layout.headerLength - 1] {
            var bad = good
            bad[i] ^= 0x10
            try f.write(bad)
            await assertDamaged("header flip at \(i)") { _ = try await f.open() }
        }
        // The current state slot flipped reads as a torn write (the other slot, the previous
        // state, is current, and what follows it is reported); both flipped: nothing authenticates.
        var bad = good
        bad[layout.currentStateOffset + 100] ^= 1
        try f.write(bad)
        let fallen = try await f.open()
        expectEqual(try await fallen.list().count, 0)
        XCTAssertGreaterThan(fallen.interruptedWriteBytes, 0)
        bad = good
        bad[layout.headerLength + 100] ^= 1
        bad[layout.headerLength + 356] ^= 1
        try f.write(bad)
        await assertDamaged("both states flipped") { _ = try await f.open() }
        // A record's ciphertext (in the tail): refused when the record is read, and by verify().
        let entry = try XCTUnwrap(layout.frames.first { $0.type == 2 })
        bad = good
        bad[entry.offset + 60] ^= 0x01
        try f.write(bad)
        let ks = try await f.open()
        await assertThrows(.damaged(detail: "record \(entry.sequence) at byte \(entry.offset) does not authenticate")) { try await ks.entry("Acme BV") }
        await assertThrows(.damaged(detail: "record \(entry.sequence) at byte \(entry.offset) does not authenticate")) { try await ks.verify() }
        XCTAssertEqual(try f.bytes(), bad)
        // A frame length or a lookup key in the tail: the state's tail chain no longer matches.
        for o in [entry.offset, entry.offset + 20] {
            bad = good
            bad[o] ^= 0x01
            try f.write(bad)
            await assertDamaged("tail frame byte \(o - entry.offset) flipped") { _ = try await f.open() }
        }
    }

    /// Issue 8 item 5: a record's clear type is never acted on unauthenticated. An entry retyped
    /// as a removal, or a ledger record retyped, is refused as damage — in the tail (the state's
    /// chain) and in the snapshot (the row names the type; the frame must match).
    func testRetypedRecordsAreDetectedNeverActedOn() async throws {
        for compacted in [false, true] {
            let f = try KeystoreFixture()
            let ks = try await f.create()
            let id = randomBlobID()
            try await ks.insert(sampleEntry(blobID: id))
            if compacted { try await ks.compact() }
            let good = try f.bytes()
            let frames = Layout(good).frames
            let entry = try XCTUnwrap(frames.first { $0.type == 2 })
            let ledger = try XCTUnwrap(frames.first { $0.type == 4 })
            var bad = good
            bad[entry.offset + 4] = 3   // entry -> removal
            try f.write(bad)
            do {
                let r = try await f.open()
                let listed = try await r.list()
                XCTFail("compacted \(compacted): the retyped entry was acted on: \(listed.map(\.label))")
            } catch let e as KeystoreError {
                guard case .damaged = e else { XCTFail("\(e)"); continue }
            }
            bad = good
            bad[ledger.offset + 4] = 9  // ledger -> setting: the replay must still be refused
            try f.write(bad)
            do {
                let r = try await f.open()
                let stored = try await r.insert(sampleEntry(label: "again", blobID: id))
                XCTFail("compacted \(compacted): a replay was stored (\(stored))")
            } catch let e as KeystoreError {
                switch e {
                case .damaged, .replay: break
                default: XCTFail("\(e)")
                }
            }
            XCTAssertEqual(try f.bytes(), bad, "nothing was written")
        }
    }

    /// A lease record decides whether a refresh waits, may store, or is in flight: one whose
    /// ciphertext was altered (its clear header, and so the tail digest, intact) is damage before
    /// anything is decided or written, in the snapshot's rows as in the tail.
    func testAnAlteredLeaseRecordDecidesNothing() async throws {
        for compacted in [false, true] {
            let f = try KeystoreFixture()
            let ks = try await f.create()
            try await ks.insert(sampleEntry())
            let state = TokenState(refreshToken: secret("r1"), accessToken: secret("a1"), accessTokenExpires: "2026-11-23T12:10:00Z")
            _ = try await ks.withTokenLease("Acme BV") { _ in state }
            if compacted { try await ks.compact() }
            let good = try f.bytes()
            let lease = try XCTUnwrap(Layout(good).frames.last { $0.type == 6 })
            var bad = good
            bad[lease.offset + Layout.be32(good, lease.offset) - 1] ^= 0x01   // the AEAD tag's last byte
            try f.write(bad)
            let r = try await f.open()
            await assertDamaged("compacted \(compacted): refresh") {
                _ = try await r.refreshTokenState("Acme BV", leaseDuration: 5, waitAtMost: 1, needsRefresh: { _, _ in true }) { _, _ in
                    XCTFail("refreshed on an altered lease"); return .unchanged(CancellationError())
                }
            }
            await assertDamaged("compacted \(compacted): lease") { _ = try await r.withTokenLease("Acme BV", waitAtMost: 1) { $0 } }
            await assertDamaged("compacted \(compacted): status") { _ = try await r.tokenStatus("Acme BV") }
            XCTAssertEqual(try f.bytes(), bad, "compacted \(compacted): nothing was written")
        }
    }

    /// Issue 8 item 6: a sequence number of 2^64-1 (or any out of range) is damage, never a trap.
    func testHugeSequenceNumbersAreDamageNotATrap() async throws {
        for compacted in [false, true] {
            let f = try KeystoreFixture()
            let ks = try await f.create()
            try await ks.insert(sampleEntry())
            if compacted { try await ks.compact() }
            let good = try f.bytes()
            for frame in Layout(good).frames {
                for value in [UInt64.max, 1 << 63, 0] {
                    var bad = good
                    bad.replaceSubrange((frame.offset + 6)..<(frame.offset + 14), with: (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) })
                    try f.write(bad)
                    do {
                        let r = try await f.open()
                        _ = try await r.list()
                        try await r.insert(sampleEntry(label: "next"))
                        try await r.verify()
                        XCTFail("sequence \(value) in frame type \(frame.type) accepted")
                    } catch is KeystoreError {}
                }
            }
        }
    }

    func testInterruptedCommitIsIgnoredThenDropped() async throws {
        let (f, good) = try await makeKeystore()
        let ks = try await f.open()
        try await ks.insert(sampleEntry(label: "second"))
        let two = try f.bytes()
        // A crash after the frames were written, before the state: the new frames sit after the
        // log end of the old state. (The old file's state slots, the new file's frames.)
        let l = Layout(good)
        var crashed = Array(good[0..<l.logEnd]) + Array(two[l.logEnd...])
        crashed.replaceSubrange(l.headerLength..<l.logStart, with: good[l.headerLength..<l.logStart])
        try f.write(crashed)
        let reopened = try await f.open()
        expectEqual(try await reopened.list().map(\.label), ["Acme BV"])
        XCTAssertEqual(reopened.interruptedWriteBytes, two.count - l.logEnd)
        try await reopened.verify()
        // Zeros where the frames should be (a power loss before the data reached the disk).
        try f.write(good + [UInt8](repeating: 0, count: 300))
        expectEqual(try await f.open().list().map(\.label), ["Acme BV"])
        // The next writer drops the remains and commits after the log end.
        try f.write(crashed)
        try await f.open().insert(sampleEntry(label: "third"))
        let after = try await f.open()
        expectEqual(try await after.list().map(\.label), ["Acme BV", "third"])
        XCTAssertEqual(after.interruptedWriteBytes, 0)
        try await after.verify()
    }

    /// A torn write of the state slot being committed: the other slot, the previous state, is current.
    func testATornStateWriteFallsBackToThePreviousState() async throws {
        let (f, _) = try await makeKeystore()
        try await f.open().insert(sampleEntry(label: "second"))
        var b = try f.bytes()
        let torn = Layout(b).currentStateOffset
        for i in 128..<256 { b[torn + i] = 0xa5 }
        try f.write(b)
        let ks = try await f.open()
        expectEqual(try await ks.list().map(\.label), ["Acme BV"])
        XCTAssertGreaterThan(ks.interruptedWriteBytes, 0)
        try await ks.insert(sampleEntry(label: "third"))
        expectEqual(try await f.open().list().map(\.label), ["Acme BV", "third"])
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
        await assertThrows(.lastUnlockMethod(name: "key-file")) { try await ks.removeUnlockMethod(name: "key-file") }
        await assertThrows(.noSuchUnlockMethod(name: "nope")) { try await ks.removeUnlockMethod(name: "nope") }
        await assertThrows(.invalidUnlockMethodName(name: "Bad Name")) {
            try await ks.addUnlockMethod(name: "Bad Name", .keyFile(path: f.keyPath))
        }
        await assertThrows(.unlockMethodExists(name: "key-file")) { try await ks.addUnlockMethod(name: "key-file", .keyFile(path: f.keyPath)) }
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

    /// The header MAC: a slot dropped from the header (checksum recomputed) is refused after
    /// unlock, and a master key sealed by someone else to a slot's public key is refused too
    /// (the binding key's MAC), so nobody without a secret makes your key file open their keystore.
    func testHeaderEditsNeedTheKeys() async throws {
        let f = try KeystoreFixture()
        let ks = try await f.create()
        let second = f.dir + "/second.key"
        try KeyFile.create(at: second)
        try await ks.addUnlockMethod(name: "backup", .keyFile(path: second))
        let good = try f.bytes()
        // Rename the second slot (a name is in clear): the MAC fails.
        var renamed = good
        let nameAt = try XCTUnwrap(renamed.firstRange(of: Array("backup".utf8))).lowerBound
        renamed[nameAt] = UInt8(ascii: "h")
        Layout.fixChecksum(&renamed)
        try f.write(renamed)
        await assertDamaged("renamed slot") { _ = try await f.open() }
        // Replace the sealed master key of the first slot with one sealed to it by "an attacker".
        var forged = good
        let slotLength = 275 + "key-file".utf8.count
        let pkAt = 47 + slotLength - 32 - 80 - 32
        let pk = try PublicKey(bytes: Array(forged[pkAt..<(pkAt + 32)]))
        let sealed = try SealedBox.seal(try SecretBytes.random(count: 32), to: pk)
        forged.replaceSubrange((pkAt + 32)..<(pkAt + 112), with: sealed)
        Layout.fixChecksum(&forged)
        try f.write(forged)
        await assertThrows(.damaged(detail: "unlock slot key-file: its sealed master key was not made by this keystore")) { try await f.open() }
        // The second method still opens the intact file.
        try f.write(good)
        _ = try await Keystore.open(at: f.path, unlock: .keyFile(path: second))
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
