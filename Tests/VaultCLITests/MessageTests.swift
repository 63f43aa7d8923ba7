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

    // MARK: item 8: open's summary in plain words

    func testOpenSummaryIsInPlainWords() throws {
        try makeKeystore()
        let other = try KeyPair.generate()
        let good = try sealed("Acme BV")
        try write("good.vault", good)
        XCTAssertEqual(try vault("open", "good.vault").status, 0)
        var damaged = Array(try binary(good))
        damaged[damaged.count - 1] ^= 1
        try write("replay.vault", good)
        try write("other.vault", try Handoff.seal(try payload(label: "B", recipient: other.publicKey.fingerprint), to: other.publicKey))
        try write("tampered.vault", Armor.encode(damaged))
        try write("cut.vault", String(good.split(separator: "\n").dropLast().joined(separator: "\n")) + "\n")
        let old = try payload(label: "C", created: UTCTime(seconds: Handoff.now().seconds - 7200), lifetime: 3600)
        try write("old.vault", try Handoff.seal(old, to: identity))
        try write("letter.txt", "Dear integrator,\nattached.\n")
        try write("fine.vault", try sealed("D"))
        let r = try vault("open", "replay.vault", "other.vault", "tampered.vault", "cut.vault", "old.vault", "letter.txt",
                          "missing1.vault", "missing2.vault", "fine.vault")
        XCTAssertEqual(r.status, 1, r.stderr)
        let summary = try XCTUnwrap(r.stderr.split(separator: "\n").last.map(String.init))
        XCTAssertEqual(summary, "vault: error: opened 1, refused 8 (1 already opened, 1 damaged in transit, 1 expired, "
                       + "1 sealed to another key, 1 tampered with or corrupted, 2 unreadable files, 1 without a sealed blob)")
        for className in ["no_matching_key", "decrypt", "armor", "replay", "label in use"] {
            XCTAssertFalse(summary.contains(className), "a class name in the summary: \(summary)")
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

/// Issue 9 item 7: a mistyped command gets the nearest one; an option meant for a secret says
/// where secrets come from; argument-parser's own suggestions are hints.
final class UsageMessageTests: CLITestCase {
    func testAMistypedCommandSuggestsTheNearest() throws {
        let cases: [([String], String?)] = [
            (["opne", "x.vault"], "open"), (["sael"], "seal"), (["Seal", "--to", "x"], "seal"),
            (["insp", "x"], "inspect"), (["fingerprnt", "x"], "fingerprint"), (["lsit"], "list"),
            (["help", "opne"], "open"), (["frobnicate"], nil),
        ]
        for (args, near) in cases {
            let r = try run(args)
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
            XCTAssertEqual(r.stdout, "")
            XCTAssertTrue(r.stderr.hasPrefix("vault: error: '\(args[0] == "help" ? args[1] : args[0])' is not a vault command\n"), r.stderr)
            if let near {
                XCTAssertTrue(r.stderr.contains("vault: hint: did you mean 'vault \(near)'?"), "\(args): \(r.stderr)")
            } else {
                XCTAssertFalse(r.stderr.contains("did you mean"), r.stderr)
            }
            XCTAssertTrue(r.stderr.contains("the commands are init, recipient, open"), r.stderr)
            XCTAssertFalse(r.stderr.contains("unexpected argument"), r.stderr)
        }
        XCTAssertEqual(try run("help", "seal").status, 0)
    }

    func testAnOptionForASecretSaysWhereSecretsComeFrom() throws {
        let cases: [([String], String)] = [
            (["seal", "--to", pub, "--client-secret", "S3cr3tValue1"], "asks each secret at the terminal"),
            (["seal", "--to", pub, "--client-secret=S3cr3tValue1"], "--input"),
            (["seal", "--webhook-secret", "S3cr3tValue1"], "--input"),
            (["list", "--passphrase", "S3cr3tValue1"], "--passphrase-file"),
            (["init", "--password=S3cr3tValue1"], "--passphrase-file"),
            (["passwd", "--new-passphrase", "S3cr3tValue1"], "--new-passphrase-file"),
        ]
        for (args, words) in cases {
            let r = try run(args)
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
            XCTAssertEqual(r.stdout, "")
            XCTAssertTrue(r.stderr.contains("vault never takes a secret on the command line"), r.stderr)
            XCTAssertTrue(r.stderr.contains(words), "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("shell history"), r.stderr)
            XCTAssertFalse(r.stderr.contains("S3cr3tValue1"), "the secret was repeated: \(r.stderr)")
            XCTAssertFalse(r.stderr.contains("unknown option"), r.stderr)
        }
    }

    func testSuggestionsAreHints() throws {
        let r = try run("seal", "--clientid", clientID)
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.hasPrefix("vault: error: unknown option '--clientid'\n"), r.stderr)
        XCTAssertTrue(r.stderr.contains("vault: hint: did you mean '--client-id'?"), r.stderr)
        let dash = try run("seal", "-to", pub)
        XCTAssertEqual(dash.status, 2)
        XCTAssertTrue(dash.stderr.contains("long options take two dashes: did you mean '--to'?"), dash.stderr)
    }
}

/// Issue 9 item 11: `inspect` of a tampered blob says what inspect can and cannot tell.
final class InspectLimitsTests: CLITestCase {
    func testInspectSaysItCannotTellATamperedBlob() throws {
        try writeInput()
        let blob = try run("seal", "--to", pub, "--label", "Acme BV", "--input", "creds.json").stdout
        guard case .success(var bytes) = Armor.decode(Array(blob.utf8))[0].contents else { return XCTFail() }
        bytes[bytes.count - 1] ^= 1
        try write("tampered.vault", Armor.encode(bytes))
        let r = try run("inspect", "tampered.vault")
        XCTAssertEqual(r.status, 0, "the header is intact: \(r.stderr)")
        XCTAssertTrue(r.stdout.contains("sealed to:      \(fingerprint)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("contents:       sealed; not checked here (only the key holder can open them)"), r.stdout)
        XCTAssertTrue(r.stderr.contains("vault: hint: inspect reads the header only"), r.stderr)
        XCTAssertTrue(r.stderr.contains("vault open"), r.stderr)
        // The JSON is unchanged for scripts; the hint goes to standard error there too.
        let j = try run("inspect", "--json", "tampered.vault")
        XCTAssertEqual(j.status, 0)
        XCTAssertFalse(j.stdout.contains("not checked"))
        XCTAssertTrue(j.stderr.contains("header only"), j.stderr)
        XCTAssertTrue(try run("inspect", "--help").stdout.contains("only"), "the help says it too")
        // The same limit for fingerprint of a blob (the class, not the one command).
        let f = try run("fingerprint", "tampered.vault", "--expect", fingerprint)
        XCTAssertEqual(f.status, 0, f.stderr)
        XCTAssertTrue(f.stderr.contains("vault: hint: a blob's fingerprint is read from its header"), f.stderr)
        XCTAssertFalse(try run("fingerprint", pub).stderr.contains("header"), "nothing to say for a key")
    }
}

/// Issue 9 item 14: a trivially weak passphrase is refused for init and passwd unless
/// --allow-weak-passphrase, saying why.
final class WeakPassphraseTests: IntegratorTestCase {
    func testInitRefusesAWeakPassphraseFile() throws {
        let cases: [(String, String)] = [("x", "only 1 character long"), ("qwertyuiop", "neighbouring keys"),
                                         ("abcdefgh", "sequence"), ("aaaaaaaaaaaaaaaa", "repeats"), ("19870514", "date")]
        for (weak, why) in cases {
            try write("weak.txt", weak + "\n")
            let r = try plain(["init", "--keystore", ks, "--passphrase-file", "weak.txt", "--kdf", "interactive"])
            XCTAssertEqual(r.status, 1, "\(weak): \(r.stderr)")
            XCTAssertEqual(r.stdout, "")
            XCTAssertTrue(r.stderr.contains("the passphrase in --passphrase-file 'weak.txt' is too weak: "), r.stderr)
            XCTAssertTrue(r.stderr.contains(why), "\(weak): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("at least 10^8"), r.stderr)
            XCTAssertTrue(r.stderr.contains("--allow-weak-passphrase"), r.stderr)
            XCTAssertFalse(r.stderr.contains(weak + "'") || r.stderr.contains("'" + weak), "the passphrase was shown: \(r.stderr)")
            XCTAssertFalse(try files().contains(ks), "\(weak): a keystore was created")
        }
        // Accepted when asked for, with a warning.
        let r = try plain(["init", "--keystore", ks, "--passphrase-file", "weak.txt", "--kdf", "interactive", "--allow-weak-passphrase"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("vault: warning: the passphrase in --passphrase-file 'weak.txt' is easy to guess"), r.stderr)
        // A strong one passes without a word about it.
        try write("strong.txt", passphrase + "\n")
        let s = try plain(["init", "--keystore", "other.vault", "--passphrase-file", "strong.txt", "--kdf", "interactive"])
        XCTAssertEqual(s.status, 0, s.stderr)
        XCTAssertFalse(s.stderr.contains("weak") || s.stderr.contains("guess"), s.stderr)
        // Meaningless with a key file: a usage mistake.
        XCTAssertEqual(try plain(["init", "--keystore", "k.vault", "--with-key-file", "k.key", "--allow-weak-passphrase"]).status, 2)
    }

    func testPasswdRefusesAWeakNewPassphraseAndChangesNothing() throws {
        try makePassphraseKeystore()
        let before = try digest(ks)
        try write("weak.txt", "hunter2\n")
        let r = try plain(["passwd", "--keystore", ks, "--passphrase-file", "pass.txt", "--new-passphrase-file", "weak.txt",
                           "--kdf", "interactive"])
        try assertRefused(r, 1, "--new-passphrase-file 'weak.txt' is too weak", "7 characters long", unchanged: before)
        XCTAssertEqual(try plain(["list", "--keystore", ks, "--passphrase-file", "pass.txt"]).status, 0, "the old one still unlocks")
        let ok = try plain(["passwd", "--keystore", ks, "--passphrase-file", "pass.txt", "--new-passphrase-file", "weak.txt",
                            "--kdf", "interactive", "--allow-weak-passphrase"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertTrue(ok.stderr.contains("easy to guess"), ok.stderr)
    }
}
