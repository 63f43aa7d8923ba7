import Foundation
import XCTest
@testable import VaultKit

final class KeystoreTests: XCTestCase {
    func testCreateOpenInsertRead() async throws {
        let f = try KeystoreFixture(onTestBackEnd: ())
        let created = try await f.create()
        let pk = try await created.identity().publicKey
        let e = sampleEntry()
        try await created.insert(e)

        let ks = try await f.open()
        expectEqual(try await ks.identity().publicKey, pk)
        let read = try await ks.entry("Acme BV")
        XCTAssertEqual(read.label, "Acme BV")
        XCTAssertEqual(read.type, "exact-online")
        XCTAssertEqual(read.fields.map(\.name), ["client_id", "client_secret", "webhook_secret", "region", "redirect_uri", "app_name"])
        XCTAssertEqual(string(read.field("client_secret")), "EKKQh8KqRptS")
        XCTAssertEqual(read.from, "Jan, payroll")
        XCTAssertEqual(read.note, "first line\nsecond")
        XCTAssertEqual(read.blobID, e.blobID)
        XCTAssertNil(read.request)
        XCTAssertEqual([read.created, read.expires, read.opened], [e.created, e.expires, e.opened])
        expectEqual(try await ks.list().map(\.label), ["Acme BV"])
    }

    func testFileIsPrivateAndNeverOverwritten() async throws {
        let f = try KeystoreFixture(onTestBackEnd: ())
        _ = try await f.create()
        var st = stat()
        if !f.isDatabase {
            XCTAssertEqual(stat(f.path, &st), 0)
            XCTAssertEqual(st.st_mode & 0o777, 0o600)
        }
        let before = try await f.image()
        await assertThrows(.alreadyExists(path: f.path)) { try await f.create() }
        expectEqual(try await f.image(), before)
        XCTAssertEqual(stat(f.keyPath, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o600)
        XCTAssertEqual(st.st_size, 32)
    }

    func testPassphraseUnlockAndChange() async throws {
        let f = try KeystoreFixture(onTestBackEnd: ())
        let ks = try await f.create(.passphrase(secret("correct horse"), profile: .interactive))
        try await ks.insert(sampleEntry())
        _ = try await f.open(.passphrase(secret("correct horse")))
        try await ks.changeProtection(to: .passphrase(secret("battery staple"), profile: .interactive))
        await assertThrows(.wrongPassphrase(profiles: [.interactive])) { try await f.open(.passphrase(secret("correct horse"))) }
        let reopened = try await f.open(.passphrase(secret("battery staple")))
        expectEqual(string(try await reopened.entry("Acme BV").field("client_secret")), "EKKQh8KqRptS")
        // The handle that changed it keeps working, and so does one opened before.
        try await ks.insert(sampleEntry(label: "Other"))
        expectEqual(try await reopened.list().count, 2)
        // Switching to a key file.
        try await ks.changeProtection(to: .keyFile(path: f.keyPath))
        await assertThrows(.unlockMethodNotAvailable(offered: "passphrase", available: ["key file"])) {
            try await f.open(.passphrase(secret("battery staple")))
        }
        expectEqual(try await f.open().list().count, 2)
    }

    func testReplaceKeepsHistory() async throws {
        let f = try KeystoreFixture(onTestBackEnd: ())
        let ks = try await f.create()
        try await ks.insert(sampleEntry(secretValue: "first"))
        await assertThrows(.labelInUse(label: "Acme BV")) { try await ks.insert(sampleEntry(secretValue: "second")) }
        try await ks.insert(sampleEntry(secretValue: "second"), replace: true)
        let other = try await f.open()
        expectEqual(string(try await other.entry("Acme BV").field("client_secret")), "second")
        expectEqual(try await other.history("Acme BV").map { string($0.field("client_secret")) }, ["first", "second"])
        expectEqual(try await other.list().count, 1)
    }

    func testReplayRefusedEvenAfterRemove() async throws {
        let f = try KeystoreFixture(onTestBackEnd: ())
        let ks = try await f.create()
        let id = randomBlobID()
        try await ks.insert(sampleEntry(label: "Acme BV", blobID: id))
        await assertThrows(.replay(blobID: id, label: "Acme BV")) {
            try await ks.insert(sampleEntry(label: "Elsewhere", blobID: id), replace: true)
        }
        try await ks.remove("Acme BV")
        await assertThrows(.noSuchEntry(label: "Acme BV")) { try await ks.entry("Acme BV") }
        expectEqual(try await ks.list().count, 0)
        expectEqual(try await ks.ledgerLabel(blobID: id), "Acme BV")
        try await ks.compact()
        let reopened = try await f.open()
        await assertThrows(.replay(blobID: id, label: "Acme BV")) { try await reopened.insert(sampleEntry(blobID: id)) }
        // The label itself is free again.
        try await reopened.insert(sampleEntry())
        expectEqual(try await reopened.history("Acme BV").count, 1)
    }

    func testLabelsComparedAfterNFCCaseSensitive() async throws {
        let f = try KeystoreFixture(onTestBackEnd: ())
        let ks = try await f.create()
        try await ks.insert(sampleEntry(label: "Caf\u{E9}"))           // precomposed é
        expectEqual(try await ks.entry("Cafe\u{301}").label, "Caf\u{E9}") // e + combining acute
        await assertThrows(.labelInUse(label: "Cafe\u{301}")) { try await ks.insert(sampleEntry(label: "Cafe\u{301}")) }
        await assertThrows(.noSuchEntry(label: "CAF\u{C9}")) { try await ks.entry("CAF\u{C9}") }
        try await ks.insert(sampleEntry(label: "caf\u{E9}"))
        expectEqual(try await ks.list().count, 2)
    }

    func testInvalidEntriesRefused() async throws {
        let f = try KeystoreFixture(onTestBackEnd: ())
        let ks = try await f.create()
        await assertThrows(.invalidEntry(detail: "blob id is not 32 lower-case hex digits")) {
            try await ks.insert(sampleEntry(blobID: "ABC"))
        }
        await assertThrows(.invalidEntry(detail: "label has control characters or is too long")) {
            try await ks.insert(sampleEntry(label: "bad\u{1B}[31m"))
        }
        var t = sampleEntry()
        t.type = "other"
        await assertThrows(.invalidEntry(detail: "type is not exact-online or generic")) { try await ks.insert(t) }
        var e = sampleEntry()
        e.opened = "2026-11-24 00:00:00"
        await assertThrows(.invalidEntry(detail: "opened is not a YYYY-MM-DDTHH:MM:SSZ time")) { try await ks.insert(e) }
    }

    func testBulkInsertIsAllOrNothing() async throws {
        let f = try KeystoreFixture(onTestBackEnd: ())
        let ks = try await f.create()
        let id = randomBlobID()
        try await ks.insert(sampleEntry(label: "taken", blobID: id))
        let before = try await f.image()
        await assertThrows(.replay(blobID: id, label: "taken")) {
            try await ks.insert(contentsOf: [sampleEntry(label: "a"), sampleEntry(label: "b", blobID: id)])
        }
        expectEqual(try await f.image(), before)
        try await ks.insert(contentsOf: (0..<50).map { sampleEntry(label: "bulk \($0)") })
        expectEqual(try await f.open().list().count, 51)
    }

    func testTokenLeaseStoresState() async throws {
        let f = try KeystoreFixture(onTestBackEnd: ())
        let ks = try await f.create()
        try await ks.insert(sampleEntry())
        let first = try await ks.withTokenLease("Acme BV") { state in
            XCTAssertNil(state)
            return TokenState(refreshToken: secret("r1"), accessToken: secret("a1"), accessTokenExpires: "2026-11-24T00:10:00Z")
        }
        XCTAssertEqual(string(first?.refreshToken), "r1")
        // A failing refresh releases the lease and keeps the state.
        struct Refused: Error {}
        do {
            _ = try await ks.withTokenLease("Acme BV") { _ -> TokenState? in throw Refused() }
            XCTFail("expected the body's error")
        } catch is Refused {}
        let other = try await f.open()
        let kept = try await other.withTokenLease("Acme BV", waitAtMost: 1) { state in
            XCTAssertEqual(string(state?.refreshToken), "r1")
            return nil
        }
        XCTAssertEqual(string(kept?.accessToken), "a1")
        await assertThrows(.noSuchEntry(label: "Nobody")) { try await ks.withTokenLease("Nobody") { $0 } }
    }

    func testCompactionKeepsLiveStateAndDropsChurn() async throws {
        let f = try KeystoreFixture(onTestBackEnd: ())
        let ks = try await f.create()
        try await ks.insert(sampleEntry())
        try await ks.insert(sampleEntry(label: "gone"))
        for i in 0..<20 {
            _ = try await ks.withTokenLease("Acme BV") { _ in
                TokenState(refreshToken: secret("r\(i)"), accessToken: secret("a\(i)"), accessTokenExpires: "2026-11-24T00:10:00Z")
            }
        }
        try await ks.remove("gone")
        let before = try await f.image().count
        let log = try await ks.auditLog()
        let stale = f.dir + "/test.vault.tmp-0123abcd"   // what a rewrite killed half-way leaves
        _ = FileManager.default.createFile(atPath: stale, contents: Data([1, 2, 3]))
        try await ks.compact()
        XCTAssertEqual(FileManager.default.fileExists(atPath: stale), f.isDatabase)
        // The superseded leases and token states go; every audit record (two per lease cycle
        // here) stays, so the keystore shrinks by a quarter rather than by half.
        let after = try await f.image().count
        XCTAssertLessThan(after, before * 3 / 4)
        let reopened = try await f.open()
        try await reopened.verify()
        // Compaction keeps the audit log intact: the same records, and its own at the end.
        let kept = try await reopened.auditLog()
        expectEqual(Array(kept.prefix(log.count)), log)
        expectEqual(kept.last?.record.operation, "compact")
        expectEqual(try await reopened.verifyAuditLog().problem, nil)
        expectEqual(try await reopened.list().map(\.label), ["Acme BV"])
        let state = try await reopened.withTokenLease("Acme BV") { $0.map { _ in nil } ?? nil }
        XCTAssertEqual(string(state?.refreshToken), "r19")
    }

    /// Regression (scripts/reliability/crash_loop.py): a `vault passwd` killed while writing
    /// its new file left the `.tmp-` copy until the next rewrite; an append (`vault open`,
    /// `vault remove`) did not remove it, so it could stay for good. Every writer removes it now.
    func testEveryWriterRemovesATemporaryAKilledRewriteLeft() async throws {
        let f = try KeystoreFixture()   // the file back end's own temporaries
        let ks = try await f.create()
        let stale = f.path + ".tmp-4de5ea42e3c85d90"
        _ = FileManager.default.createFile(atPath: stale, contents: Data(try f.bytes()))
        _ = try await ks.list()   // a reader leaves it: it may be a writer's file in progress
        XCTAssertTrue(FileManager.default.fileExists(atPath: stale))
        try await ks.insert(sampleEntry())
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale))
        _ = FileManager.default.createFile(atPath: stale, contents: Data([1, 2, 3]))
        try await ks.remove("Acme BV")
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale))
        let other = f.dir + "/other.vault.tmp-0123abcd"   // another keystore's file is not ours
        _ = FileManager.default.createFile(atPath: other, contents: Data([1]))
        try await ks.insert(sampleEntry(label: "B"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: other))
    }

    func testSymlinkResolvedAndLockBesideRealFile() async throws {
        let f = try KeystoreFixture()   // files only
        _ = try await f.create()
        let link = f.dir + "/link.vault"
        XCTAssertEqual(symlink(f.path, link), 0)
        let ks = try await Keystore.open(at: link, unlock: .keyFile(path: f.keyPath))
        try await ks.insert(sampleEntry())
        XCTAssertTrue(FileManager.default.fileExists(atPath: f.path + ".lock"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: link + ".lock"))
        try await ks.compact()
        var st = stat()
        XCTAssertEqual(lstat(link, &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFLNK) // the rename replaced the real file, not the link
    }

    func testSettingsSupersede() async throws {
        let f = try KeystoreFixture(onTestBackEnd: ())
        let ks = try await f.create()
        expectEqual(try await ks.setting("policy"), nil)
        try await ks.setSetting("policy", to: "one")
        try await ks.setSetting("policy", to: "two")
        expectEqual(try await f.open().setting("policy"), "two")
    }

    func testHandlesFollowEachOthersAppendsAndRewrites() async throws {
        let f = try KeystoreFixture(onTestBackEnd: ())
        let a = try await f.create()
        let b = try await f.open()
        try await a.insert(sampleEntry(label: "one"))
        expectEqual(try await b.list().map(\.label), ["one"])
        try await b.insert(sampleEntry(label: "two"))
        try await b.remove("one")
        try await b.compact()                      // a new file: a's position must not be reused
        expectEqual(try await a.list().map(\.label), ["two"])
        try await a.insert(sampleEntry(label: "three"))
        // A handle opened with another method follows a re-key (its slot gets the new master key).
        let second = f.dir + "/second.key"
        try KeyFile.create(at: second)
        try await a.addUnlockMethod(name: "second", .keyFile(path: second))
        let c = try await f.open(.keyFile(path: second))
        try await a.changeProtection(to: .passphrase(secret("p"), profile: .interactive))
        expectEqual(try await c.list().map(\.label), ["three", "two"])
        try await c.verify()
        // One opened with the replaced method is told so.
        await assertThrows(.unlockMethodChanged(path: f.path)) { try await b.list() }
        try await a.insert(sampleEntry(label: "four"))
        expectEqual(try await c.list().count, 3)
    }

    func testListingManyEntriesHoldsNoSecrets() async throws {
        // Each SecretBytes is a guarded mapping and a process has at most ~65,000 mappings: a
        // list that decoded every value would fail long before 100,000 entries.
        let f = try KeystoreFixture(onTestBackEnd: ())
        let ks = try await f.create()
        for chunk in 0..<4 {
            try await ks.insert(contentsOf: (0..<1000).map { sampleEntry(label: "e\(chunk * 1000 + $0)") })
        }
        let all = try await f.open().list()
        XCTAssertEqual(all.count, 4000)
        XCTAssertEqual(all.first?.fieldNames, ["client_id", "client_secret", "webhook_secret", "region", "redirect_uri", "app_name"])
        XCTAssertEqual(all.first?.versions, 1)
    }
}
