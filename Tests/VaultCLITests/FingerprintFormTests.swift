import Foundation
import XCTest
import VaultKit

/// Issue 9 items 9 and 10: `fingerprint` says which input each line belongs to, and `fingerprint`
/// and `recipient` offer the grouped form a manual prints and `seal` shows.
final class FingerprintFormTests: CLITestCase {
    func sealedBlob() throws -> String {
        try writeInput()
        let r = try run("seal", "--to", pub, "--label", "Acme BV", "--input", "creds.json")
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.stdout
    }

    func testNamesSayWhichInputEachLineBelongsTo() throws {
        let other = try KeyPair.generate().publicKey
        let blob = try sealedBlob()
        try write("one.vault", blob)
        try write("two.txt", "Hello,\n\n" + blob + "\n" + blob)
        let r = try run("fingerprint", "--names", pub, "two.txt", "one.vault", other.recipient)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, """
        \(fingerprint)  integrator.pub
        \(fingerprint)  two.txt blob 1 (line 3)
        \(fingerprint)  two.txt blob 2 (line 15)
        \(fingerprint)  one.vault
        \(other.fingerprint.canonical)  \(other.recipient)

        """)
        // Names are escaped like any public input.
        try write("evil\u{1b}[2J.pub", try read(pub))
        let evil = try run("fingerprint", "--names", "evil\u{1b}[2J.pub")
        XCTAssertEqual(evil.stdout, "\(fingerprint)  evil\\u{1b}[2J.pub\n")
        // In a pipe, without --names, the lines are CLI.md's bare fingerprints.
        XCTAssertEqual(try run("fingerprint", pub, "one.vault").stdout, "\(fingerprint)\n\(fingerprint)\n")
    }

    /// At a terminal the names are there without --names.
    func testNamesAtATerminal() throws {
        guard let python = InteractiveTests.python else { throw XCTSkip("python3 with pexpect is not available") }
        try write("one.vault", try sealedBlob())
        var output = ""
        let status = InteractiveTests.shell([python, InteractiveTests.script, "fingerprint_names", CLI.binary, dir.path, pub,
                                             key.publicKey.fingerprint.grouped, fingerprint], output: &output)
        XCTAssertEqual(status, 0, output)
    }

    func testGroupedForm() throws {
        let grouped = key.publicKey.fingerprint.grouped
        XCTAssertEqual(grouped.split(separator: " ").count, 16)
        XCTAssertEqual(try run("fingerprint", "--grouped", pub).stdout, grouped + "\n")
        try write("one.vault", try sealedBlob())
        XCTAssertEqual(try run("fingerprint", "--grouped", "--names", pub, "one.vault").stdout,
                       "\(grouped)  integrator.pub\n\(grouped)  one.vault\n")
        // --expect still compares, and shows the canonical forms when it differs.
        let other = try KeyPair.generate().publicKey.fingerprint.canonical
        let bad = try run("fingerprint", "--grouped", pub, "--expect", other)
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("expected: \(other)"), bad.stderr)
    }

    func testRecipientOffersBothFormsForTheManual() throws {
        XCTAssertEqual(try CLI.run(["init", "--keystore", "ks.vault", "--with-key-file", "ks.key"], in: dir).status, 0)
        let r = try run("recipient", "--keystore", "ks.vault", "--key-file", "ks.key", "-o", "mine.pub")
        XCTAssertEqual(r.status, 0, r.stderr)
        let key = try PublicKey(publicKeyFile: Array(try read("mine.pub").utf8))
        XCTAssertTrue(r.stderr.contains("vault:   \(key.fingerprint.canonical)\n"), r.stderr)
        XCTAssertTrue(r.stderr.contains("vault:   \(key.fingerprint.grouped)\n"), r.stderr)
        XCTAssertTrue(r.stderr.contains("vault seal"), r.stderr)
        // Standard output is still exactly the public key file.
        let out = try run("recipient", "--keystore", "ks.vault", "--key-file", "ks.key")
        XCTAssertEqual(out.stdout, try read("mine.pub").replacingOccurrences(of: "# created: ", with: "# created: "))
        XCTAssertFalse(out.stdout.contains(key.fingerprint.grouped))
    }
}
