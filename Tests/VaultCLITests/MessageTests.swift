import Foundation
import XCTest
import VaultKit

/// Issue 9 items 6–9: messages that sent a person the wrong way.
final class MessageTests: IntegratorTestCase {
    // MARK: item 6: a missing folder is named; no hint suggests the command that just failed

    func testInitIntoAMissingFolderNamesTheFolder() throws {
        let cases: [(args: [String], words: [String])] = [
            (["init", "--keystore", "nodir/ks.vault", "--with-key-file", "nodir/ks.key"],
             ["cannot create the keystore 'nodir/ks.vault': no such directory 'nodir'", "mkdir -p nodir", "--keystore"]),
            (["init", "--keystore", ks, "--with-key-file", "keys/ks.key"],
             ["cannot create the key file 'keys/ks.key': no such directory 'keys'", "--with-key-file"]),
            // At once, before a passphrase would be asked (here: before "no terminal").
            (["init", "--keystore", "nodir/ks.vault", "--kdf", "interactive"], ["no such directory 'nodir'"]),
        ]
        for c in cases {
            let r = try plain(c.args)
            XCTAssertEqual(r.status, 1, "\(c.args): \(r.stderr)")
            for w in c.words { XCTAssertTrue(r.stderr.contains(w), "\(c.args): '\(w)' not in \(r.stderr)") }
            XCTAssertFalse(r.stderr.contains("vault init"), "a hint to run the command that failed: \(r.stderr)")
            XCTAssertFalse(r.stderr.contains("no such file"), r.stderr)
            XCTAssertEqual(try files(), [pub], "nothing created")
        }
    }

    func testAnExistingKeyFileIsNamedWithItsOption() throws {
        try write("taken.key", "not mine")
        let r = try plain(["init", "--keystore", ks, "--with-key-file", "taken.key"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("'taken.key' already exists"), r.stderr)
        XCTAssertTrue(r.stderr.contains("--with-key-file"), r.stderr)
        XCTAssertFalse(r.stderr.contains("--keystore"), "the key file is not chosen with --keystore: \(r.stderr)")
        XCTAssertEqual(try read("taken.key"), "not mine")
    }
}
