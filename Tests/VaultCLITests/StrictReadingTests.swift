import Foundation
import XCTest
import VaultKit

/// Issue 8, item 9, and its class: where a text (or a command line) holds several values where
/// one is expected, vault neither picks the first nor the last: every one must agree, or the
/// input is refused.
final class StrictReadingTests: CLITestCase {
    /// The integrator's honest `.pub` text, and an attacker's key.
    var attacker: KeyPair!

    override func setUpWithError() throws {
        try super.setUpWithError()
        attacker = try KeyPair.generate()
        try writeInput()
    }

    /// The attack of the review: the honest fingerprint comment on top, the attacker's key and
    /// the attacker's fingerprint below. 0.1.0 checked only the last comment, and sealed.
    func testEveryFingerprintCommentMustMatchTheKey() throws {
        let forged = "# fingerprint: \(fingerprint)\n# created: 2026-11-23T17:38:24Z\n"
            + "# fingerprint: \(attacker.publicKey.fingerprint.canonical)\n\(attacker.publicKey.recipient)\n"
        try write("evil.pub", forged)
        let f = try run("fingerprint", "evil.pub")
        assertFails(f, 1, "'evil.pub'", fingerprint, attacker.publicKey.fingerprint.canonical)
        let s = try run("seal", "--to", "evil.pub", "--label", "Acme BV", "--input", "creds.json", "-o", "out.vault")
        assertFails(s, 1, "'evil.pub'", fingerprint)
        XCTAssertFalse(try files().contains("out.vault"), "sealed to the attacker's key")
        // The same in the other order, and a comment a person reads as the fingerprint but that
        // differs in case from the writer's.
        try write("evil2.pub", "# fingerprint: \(attacker.publicKey.fingerprint.canonical)\n\(attacker.publicKey.recipient)\n# fingerprint: \(fingerprint)\n")
        assertFails(try run("fingerprint", "evil2.pub"), 1, fingerprint)
        try write("evil3.pub", "# Fingerprint: \(fingerprint)\n\(attacker.publicKey.recipient)\n")
        assertFails(try run("fingerprint", "evil3.pub"), 1, fingerprint)
        try write("evil4.pub", "#FINGERPRINT : not a fingerprint\n\(attacker.publicKey.recipient)\n")
        assertFails(try run("fingerprint", "evil4.pub"), 1, "not a fingerprint")
    }

    func testFingerprintCommentsThatAllMatchAreAccepted() throws {
        let text = "# fingerprint: \(fingerprint)\n# Fingerprint:\(key.publicKey.fingerprint.grouped)\n# fingerprints are explained in the manual\n\(recipient)\n"
        try write("two.pub", text)
        let r = try run("fingerprint", "two.pub")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, fingerprint + "\n")
    }

    /// argument-parser keeps the last of a repeated option: `--to good --to evil` sealed to the
    /// second, `--expect A --expect B` checked only B. Each is a usage mistake now.
    func testAnOptionGivenTwiceIsAUsageMistake() throws {
        let other = attacker.publicKey.recipient
        for args in [["seal", "--to", pub, "--to", other, "--label", "A", "--input", "creds.json"],
                     ["seal", "--to=\(pub)", "--to", other, "--label", "A", "--input", "creds.json"],
                     ["seal", "--to", pub, "--expect-fingerprint", fingerprint, "--expect-fingerprint", attacker.publicKey.fingerprint.canonical,
                      "--label", "A", "--input", "creds.json"],
                     ["fingerprint", pub, "--expect", fingerprint, "--expect", attacker.publicKey.fingerprint.canonical],
                     ["seal", "--to", pub, "-o", "a.vault", "--output", "b.vault", "--label", "A", "--input", "creds.json"]] {
            let r = try run(args)
            assertFails(r, 2, "given twice")
        }
        XCTAssertEqual(try files(), [pub, "creds.json"], "nothing was written")
        // A value that merely looks like an option after `--` is no option.
        try write("--to", "not a key")
        XCTAssertEqual(try run("fingerprint", pub, "--", "--to").status, 1)
    }
}
