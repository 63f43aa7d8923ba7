import Foundation
import XCTest
import VaultKit

/// The integrator at a terminal, driven through a pseudo-terminal by Scripts/interactive.py:
/// the passphrase asked with echo off, twice for a new one.
final class IntegratorInteractiveTests: IntegratorTestCase {
    func scenario(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        guard let python = InteractiveTests.python else { throw XCTSkip("python3 with pexpect is not available") }
        var output = ""
        let status = InteractiveTests.shell([python, InteractiveTests.script, name, CLI.binary, dir.path, pub, "-", "-"],
                                            output: &output)
        XCTAssertEqual(status, 0, output, file: file, line: line)
    }

    func testInitAsksThePassphraseTwice() throws {
        try scenario("init_passphrase")
        // The passphrase typed (the second, matching time) unlocks it.
        try write("pass.txt", passphrase)
        let r = try plain(["recipient", "--keystore", ks, "--passphrase-file", "pass.txt"])
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    /// Issue 9 item 14: a trivially weak passphrase is refused at the prompt, saying why.
    func testInitRefusesAWeakPassphraseAtThePrompt() throws {
        try scenario("init_weak")
        XCTAssertTrue(try files().contains("weak.vault"))
    }

    func testPasswdAsksTheOldPassphraseThenTheNewOneTwice() throws {
        try makePassphraseKeystore()
        try scenario("passwd_passphrase")
        try write("new.txt", "new " + passphrase)
        XCTAssertEqual(try plain(["list", "--keystore", ks, "--passphrase-file", "new.txt"]).status, 0)
        XCTAssertEqual(try plain(["list", "--keystore", ks, "--passphrase-file", "pass.txt"]).status, 1)
    }

    /// Found trying vault by hand: a mistyped passphrase is asked again, not the end of the run.
    func testAWrongPassphraseAtTheTerminalIsAskedAgain() throws {
        try makePassphraseKeystore()
        try write("acme.vault", try sealed("Acme BV"))
        try scenario("open_retry_passphrase")
        XCTAssertEqual(try plain(["list", "--json", "--keystore", ks, "--passphrase-file", "pass.txt"]).stdout.contains("Acme BV"), true)
    }

    func testOpenAsksThePassphrase() throws {
        try makePassphraseKeystore()
        try write("acme.vault", try sealed("Acme BV"))
        let before = try digest(ks)
        try scenario("open_wrong_passphrase")
        XCTAssertEqual(try digest(ks), before)
        try scenario("open_passphrase")
        let r = try plain(["list", "--json", "--keystore", ks, "--passphrase-file", "pass.txt"])
        XCTAssertTrue(r.stdout.contains("Acme BV"), r.stdout)
    }

    func testOpenOfSeveralFilesShowsProgressOnlyAtATerminal() throws {
        try makePassphraseKeystore()
        for name in ["a", "b", "c"] { try write("\(name).vault", try sealed("Entry \(name)")) }
        try scenario("open_progress")
        // Without a terminal (a script, a cron job) the same run prints no progress.
        for name in ["a", "b", "c"] { try write("\(name).vault", try sealed("Other \(name)")) }
        let r = try plain(["open", "--keystore", ks, "--passphrase-file", "pass.txt", "a.vault", "b.vault", "c.vault"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stderr.contains("opening"), r.stderr)
        XCTAssertTrue(r.stderr.contains("opened 3, refused 0"), r.stderr)
    }

    /// Issue 12: a backup's own passphrase, asked twice at the terminal; a restore asks it again
    /// when it is wrong.
    func testBackupAndRestoreAskTheBackupsPassphrase() throws {
        try makePassphraseKeystore()
        XCTAssertEqual(try plain(["open", "--keystore", ks, "--passphrase-file", "pass.txt", "-"], stdin: try sealed("Acme BV")).status, 0)
        try scenario("backup_passphrase")
        XCTAssertEqual(try mode("k.backup"), 0o600)
        try scenario("restore_retry_passphrase")
        let r = try plain(["list", "--json", "--keystore", "restored.vault", "--passphrase-file", "pass.txt"])
        XCTAssertTrue(r.stdout.contains("Acme BV"), r.stdout)
    }

    func testUnlockAddAsksTheNewPassphraseTwice() throws {
        try makeKeystore()
        try scenario("unlock_add_passphrase")
        try write("admin.txt", "seven blue lanterns over the harbour\n")
        XCTAssertEqual(try plain(["list", "--keystore", ks, "--passphrase-file", "admin.txt"]).status, 0)
    }
}
