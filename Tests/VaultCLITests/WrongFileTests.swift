import Foundation
import XCTest
import VaultKit

/// Issue 9 item 5: an option that takes a file of one kind and gets another says what the file
/// is and what the option wants (a blob given to `--to` was "more than one recipient line in
/// the public key file"). One matrix over every file-taking option and every kind of file.
final class WrongFileTests: IntegratorTestCase {
    /// A keystore with its key file, a passphrase file, its .pub, a blob and a credentials JSON.
    func makeFiles() throws {
        try makeKeystore()
        try write("pass.txt", passphrase + "\n")
        try write("i.pub", try vault("recipient").stdout, mode: 0o644)
        try write("a.vault", try sealed("Acme BV"), mode: 0o644)
        try writeInput("creds.json")
    }

    func testEachOptionNamesTheKindOfFileItGot() throws {
        try makeFiles()
        let before = try digest(ks)
        let sealTo = ["seal", "--label", "Acme BV", "--input", "creds.json", "--to"]
        let sealInput = ["seal", "--to", "i.pub", "--label", "Acme BV", "--input"]
        let cases: [(args: [String], words: [String])] = [
            (sealTo + ["a.vault"], ["--to 'a.vault' is not a public key file: it is a text with sealed blobs", "vault open"]),
            (sealTo + [ks], ["--to 'ks.vault' is not a public key file: it is a vault keystore", "--keystore"]),
            (sealTo + [keyFile], ["--to 'ks.key' is not a public key file: it is a key file", "--key-file"]),
            (sealTo + ["creds.json"], ["--to 'creds.json' is not a public key file: it is a JSON file"]),
            (sealInput + ["a.vault"], ["--input 'a.vault' is not a JSON object of the credentials: it is a text with sealed blobs"]),
            (sealInput + [ks], ["--input 'ks.vault' is not a JSON object of the credentials: it is a vault keystore"]),
            (sealInput + ["i.pub"], ["--input 'i.pub' is not a JSON object of the credentials: it is a public key file"]),
            (["list", "--keystore", ks, "--key-file", ks], ["--key-file 'ks.vault'", "is not a key file", "it is a vault keystore"]),
            (["list", "--keystore", ks, "--key-file", "pass.txt"], ["is not a key file", "it is a text file", "--passphrase-file"]),
            (["list", "--keystore", ks, "--key-file", "a.vault"], ["is not a key file", "it is a text with sealed blobs"]),
            (["list", "--keystore", ks, "--passphrase-file", ks], ["--passphrase-file 'ks.vault' is not a passphrase file: it is a vault keystore"]),
            (["list", "--keystore", ks, "--passphrase-file", keyFile], ["--passphrase-file 'ks.key' is not a passphrase file: it is a key file", "--key-file"]),
            (["list", "--keystore", "a.vault", "--key-file", keyFile], ["'a.vault' is not a vault keystore: it is a text with sealed blobs"]),
            (["list", "--keystore", "i.pub", "--key-file", keyFile], ["'i.pub' is not a vault keystore: it is a public key file"]),
            (["list", "--keystore", keyFile, "--key-file", keyFile], ["'ks.key' is not a vault keystore: it is a key file"]),
            (["fingerprint", ks], ["'ks.vault' is neither a public key file nor a text with sealed blobs: it is a vault keystore", "vault recipient"]),
            (["inspect", "i.pub"], ["'i.pub' holds no sealed blob and no hand-off request: it is a public key file", "vault fingerprint"]),
            (["inspect", ks], ["it is a vault keystore"]),
            (["open", "--keystore", ks, "--key-file", keyFile, "i.pub"], ["'i.pub' is not a text with sealed blobs: it is a public key file"]),
            (["open", "--keystore", ks, "--key-file", keyFile, ks], ["'ks.vault' is not a text with sealed blobs: it is a vault keystore"]),
        ]
        for c in cases {
            let r = try plain(c.args)
            XCTAssertEqual(r.status, 1, "\(c.args): \(r.stderr)")
            XCTAssertEqual(r.stdout, "", "\(c.args)")
            for w in c.words { XCTAssertTrue(r.stderr.contains(w), "\(c.args): '\(w)' not in: \(r.stderr)") }
            // No advice that fits another kind of file (chmod a blob, check a JSON's syntax).
            XCTAssertFalse(r.stderr.contains("chmod"), "\(c.args): \(r.stderr)")
            XCTAssertFalse(r.stderr.contains("not valid JSON"), "\(c.args): \(r.stderr)")
            XCTAssertFalse(r.stderr.contains("recipient line"), "\(c.args): \(r.stderr)")
        }
        XCTAssertEqual(try digest(ks), before)
        XCTAssertEqual(try labels(), [])
    }
}
