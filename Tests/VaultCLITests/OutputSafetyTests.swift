import Foundation
import XCTest
import VaultKit

/// Issue 9 item 1: no output option of any command replaces a keystore, its lock file, a key
/// file or a file the same command reads, with or without --force; by content and by identity
/// (through symlinks and hard links), and the refusal names the file and what it is.
final class OutputSafetyTests: IntegratorTestCase {
    /// `recipient -o ks.vault --force`, the sequence: once it replaced the keystore.
    func testRecipientNeverReplacesTheKeystoreItReads() throws {
        try makePassphraseKeystore()
        let before = try digest(ks)
        let unlock = ["--keystore", ks, "--passphrase-file", "pass.txt"]
        for force in [[], ["--force"]] {
            let r = try plain(["recipient"] + unlock + ["-o", ks] + force)
            try assertRefused(r, 1, "'ks.vault'", "the keystore", unchanged: before)
            XCTAssertFalse(r.stderr.contains("add --force"), "the hint must not lead to --force here: \(r.stderr)")
        }
        // The keystore still opens.
        XCTAssertEqual(try plain(["list"] + unlock).status, 0)
    }

    /// Through a symlink and a hard link, by identity; under another spelling of the path.
    func testAliasesOfTheKeystoreAreRefused() throws {
        try makeKeystore()
        let before = try digest(ks)
        try FileManager.default.createSymbolicLink(atPath: path("link.vault"), withDestinationPath: ks)
        XCTAssertEqual(link(path(ks), path("hard.vault")), 0)
        for out in ["link.vault", "hard.vault", "./ks.vault", dir.path + "/ks.vault"] {
            try assertRefused(try vault("recipient", "-o", out, "--force"), 1, "keystore", unchanged: before)
        }
        // The keystore named through the symlink, the output its real name.
        let r = try plain(["recipient", "--keystore", "link.vault", "--key-file", keyFile, "-o", ks, "--force"])
        try assertRefused(r, 1, "the keystore", unchanged: before)
        XCTAssertEqual(try labels(), [])
    }

    /// The key file given, its lock file, another keystore and another key file (by content).
    func testKeyFilesLockFilesAndOtherKeystoresAreRefused() throws {
        try makeKeystore()
        let before = try digest(ks)
        let keyBefore = try digest(keyFile)
        try assertRefused(try vault("recipient", "-o", keyFile, "--force"), 1, "'ks.key'", "key file", unchanged: before)
        XCTAssertEqual(try digest(keyFile), keyBefore)
        // The same key file named by the variable.
        let env = try plain(["recipient", "--keystore", ks, "-o", keyFile, "--force"], environment: ["VAULT_KEY_FILE": keyFile])
        try assertRefused(env, 1, "key file", unchanged: before)
        XCTAssertEqual(try digest(keyFile), keyBefore)
        // The lock file exists once the keystore was opened.
        XCTAssertTrue(try files().contains("ks.vault.lock"))
        try assertRefused(try vault("recipient", "-o", "ks.vault.lock", "--force"), 1, "lock file", unchanged: before)
        // Another keystore and its key file: not read by this command, refused by content.
        XCTAssertEqual(try plain(["init", "--keystore", "other.vault", "--with-key-file", "other.key"]).status, 0)
        let other = try digest("other.vault"), otherKey = try digest("other.key")
        try assertRefused(try vault("recipient", "-o", "other.vault", "--force"), 1, "'other.vault'", "a vault keystore", unchanged: before)
        try assertRefused(try vault("recipient", "-o", "other.key", "--force"), 1, "'other.key'", "key file", unchanged: before)
        XCTAssertEqual(try digest("other.vault"), other)
        XCTAssertEqual(try digest("other.key"), otherKey)
        // An ordinary file is still replaced with --force.
        try write("integrator.pub", "old")
        XCTAssertEqual(try vault("recipient", "-o", "integrator.pub", "--force").status, 0)
        XCTAssertTrue(try read("integrator.pub").contains(identity.recipient))
    }

    /// The passphrase file the command reads.
    func testThePassphraseFileIsRefused() throws {
        try makePassphraseKeystore()
        let before = try digest(ks), pass = try digest("pass.txt")
        let r = try plain(["recipient", "--keystore", ks, "--passphrase-file", "pass.txt", "-o", "pass.txt", "--force"])
        try assertRefused(r, 1, "'pass.txt'", "passphrase file", unchanged: before)
        XCTAssertEqual(try digest("pass.txt"), pass)
    }

    /// `seal -o` never replaces its --input file or the .pub it seals to, nor any keystore.
    func testSealNeverReplacesWhatItReads() throws {
        try makeKeystore()
        let before = try digest(ks)
        try writeInput()
        XCTAssertEqual(link(path("creds.json"), path("copy.json")), 0)
        try FileManager.default.createSymbolicLink(atPath: path("pub-link"), withDestinationPath: pub)
        let input = try digest("creds.json"), pubBefore = try digest(pub)
        let seal = ["seal", "--to", pub, "--expect-fingerprint", fingerprint, "--label", "Acme", "--input", "creds.json", "--force", "-o"]
        for (out, words) in [("creds.json", "--input file"), ("copy.json", "--input file"), (pub, "public key file"),
                             ("pub-link", "public key file"), (ks, "a vault keystore"), (keyFile, "key file")] {
            let r = try run(seal + [out])
            assertFails(r, 1, "'\(out)'", words)
        }
        XCTAssertEqual(try digest("creds.json"), input)
        XCTAssertEqual(try digest(pub), pubBefore)
        XCTAssertEqual(try digest(ks), before)
        // Nothing left behind: no temporary file, no new file.
        XCTAssertEqual(try files(), [pub, "creds.json", "copy.json", "pub-link", ks, keyFile, "ks.vault.lock"])
    }
}

/// `init`'s two outputs, the keystore and its key file, are never one file.
final class InitOutputTests: IntegratorTestCase {
    func testTheKeyFileCannotBeTheKeystore() throws {
        for keyFilePath in [ks, "./" + ks, dir.path + "/" + ks] {
            let r = try plain(["init", "--keystore", ks, "--with-key-file", keyFilePath])
            XCTAssertEqual(r.status, 2, r.stderr)
            XCTAssertTrue(r.stderr.contains("is the keystore's own path"), r.stderr)
            XCTAssertFalse(r.stderr.contains("--keystore, or remove"), "no hint about the wrong option: \(r.stderr)")
            XCTAssertEqual(try files(), [pub], "nothing created")
        }
    }
}
