import Foundation
import XCTest
import VaultKit

/// Issue 8 items 8 and 11: files and folders another user controls are refused, as OpenSSH
/// refuses such keys; each message says what and how to fix it, and nothing is created or
/// changed. Changing owners needs root: skipped otherwise.
final class OwnershipTests: IntegratorTestCase {
    let nobody: uid_t = 65534

    override func setUpWithError() throws {
        try super.setUpWithError()
        try XCTSkipUnless(getuid() == 0, "needs root to give files to another user")
        try makeKeystore()
        try write("a.vault", try sealed("Acme BV"))
        XCTAssertEqual(try vault("open", "a.vault").status, 0)
    }

    func testALockFileSymlinkIsNeverFollowed() throws {
        unlink(path("ks.vault.lock"))
        let elsewhere = dir.appendingPathComponent("../elsewhere-\(UUID().uuidString)").standardized.path
        XCTAssertEqual(symlink(elsewhere, path("ks.vault.lock")), 0)
        let before = try digest(ks)
        for command in [["list"], ["remove", "Acme BV"]] {
            let r = try CLI.run(command + ["--keystore", ks, "--key-file", keyFile], in: dir)
            try assertRefused(r, 1, "ks.vault.lock' is a symlink; refusing to follow it", "rm", unchanged: before)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: elsewhere), "nothing created through the symlink")
    }

    func testALockFileOfAnotherUserIsRefusedWithTheFix() throws {
        XCTAssertEqual(chown(path("ks.vault.lock"), nobody, nobody), 0)
        let before = try digest(ks)
        let r = try vault("list")
        try assertRefused(r, 1, "ks.vault.lock' belongs to another user (uid 65534)", "remove that lock file", unchanged: before)
    }

    func testAKeystoreOrKeyFileOfAnotherUserIsRefused() throws {
        let before = try digest(ks)
        XCTAssertEqual(chown(path(ks), nobody, nobody), 0)
        try assertRefused(try vault("list"), 1, "ks.vault' belongs to another user (uid 65534)", "chown", unchanged: before)
        XCTAssertEqual(chown(path(ks), 0, 0), 0)
        XCTAssertEqual(chown(path(keyFile), nobody, nobody), 0)
        try assertRefused(try vault("list"), 1, "ks.key' belongs to another user (uid 65534)", unchanged: before)
    }

    func testASymlinkOfAnotherUserIsRefusedOneOfOursIsFollowed() throws {
        XCTAssertEqual(symlink(path(ks), path("link.vault")), 0)
        let ours = try CLI.run(["list", "--keystore", "link.vault", "--key-file", keyFile], in: dir)
        XCTAssertEqual(ours.status, 0, ours.stderr)
        XCTAssertEqual(lchown(path("link.vault"), nobody, nobody), 0)
        let before = try digest(ks)
        let theirs = try CLI.run(["list", "--keystore", "link.vault", "--key-file", keyFile], in: dir)
        try assertRefused(theirs, 1, "link.vault' belongs to another user (uid 65534)", unchanged: before)
    }

    func testAFolderOthersMayWriteIsRefusedUnlessSticky() throws {
        let before = try digest(ks)
        XCTAssertEqual(chmod(dir.path, 0o777), 0)
        try assertRefused(try vault("list"), 1, "can be written by group or others (mode 777)", "chmod go-w", unchanged: before)
        XCTAssertEqual(chmod(dir.path, 0o1777), 0)   // as /tmp: others cannot replace our files
        XCTAssertEqual(try vault("list").status, 0)
        XCTAssertEqual(chmod(dir.path, 0o755), 0)
        XCTAssertEqual(chown(dir.path, nobody, nobody), 0)
        try assertRefused(try vault("list"), 1, "belongs to another user (uid 65534)", unchanged: before)
        XCTAssertEqual(chown(dir.path, 0, 0), 0)
    }
}
