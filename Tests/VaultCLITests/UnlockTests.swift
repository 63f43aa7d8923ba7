import Foundation
import XCTest
import VaultKit

/// Unlocking a keystore the ways CLI.md names, damaged keystores, and `vault passwd`.
final class UnlockTests: IntegratorTestCase {
    /// `vault list --json` with exactly these options and variables.
    func list(_ options: [String], _ environment: [String: String] = [:]) throws -> Run {
        try plain(["list", "--json", "--keystore", ks] + options, environment: environment)
    }

    func testPassphraseFromFileAndVariable() throws {
        try makePassphraseKeystore()
        XCTAssertEqual(try list(["--passphrase-file", "pass.txt"]).status, 0)
        let v = try list([], ["VAULT_PASSPHRASE_FILE": path("pass.txt")])
        XCTAssertEqual(v.status, 0, v.stderr)
        // VAULT_KEYSTORE names the keystore.
        let k = try plain(["list", "--json", "--passphrase-file", "pass.txt"], environment: ["VAULT_KEYSTORE": path(ks)])
        XCTAssertEqual(k.status, 0, k.stderr)
        // CRLF and further lines are not part of the passphrase.
        try write("crlf.txt", passphrase + "\r\nsecond line\n")
        XCTAssertEqual(try list(["--passphrase-file", "crlf.txt"]).status, 0)
        // The option beats the variable.
        try write("wrong.txt", "not the passphrase\n")
        let o = try list(["--passphrase-file", "pass.txt"], ["VAULT_PASSPHRASE_FILE": path("wrong.txt")])
        XCTAssertEqual(o.status, 0, o.stderr)
        let before = try digest(ks)
        try assertRefused(try list(["--passphrase-file", "wrong.txt"], ["VAULT_PASSPHRASE_FILE": path("pass.txt")]),
                          1, "wrong passphrase", unchanged: before)
    }

    func testWrongPassphraseLeavesTheKeystoreAlone() throws {
        try makePassphraseKeystore()
        try write("wrong.txt", "Correct horse battery staple\n")
        let before = try digest(ks)
        try assertRefused(try list(["--passphrase-file", "wrong.txt"]), 1, "wrong passphrase", unchanged: before)
        // A key file offered to a passphrase keystore is named as such.
        try write("some.key", String(repeating: "k", count: 32))
        try assertRefused(try list(["--key-file", "some.key"]), 1, "cannot be unlocked with a key file", "--passphrase-file",
                          unchanged: before)
    }

    func testKeyFileFromOptionAndVariable() throws {
        try makeKeystore()
        XCTAssertEqual(try list(["--key-file", keyFile]).status, 0)
        let v = try list([], ["VAULT_KEY_FILE": path(keyFile)])
        XCTAssertEqual(v.status, 0, v.stderr)
        // A key file beats a passphrase file; the option beats the variable.
        try write("pass.txt", passphrase)
        XCTAssertEqual(try list(["--passphrase-file", "pass.txt"], ["VAULT_KEY_FILE": path(keyFile)]).status, 0)
        try write("other.key", String(repeating: "x", count: 32))
        XCTAssertEqual(try list(["--key-file", keyFile], ["VAULT_KEY_FILE": path("other.key")]).status, 0)
        let before = try digest(ks)
        try assertRefused(try list(["--key-file", "other.key"], ["VAULT_KEY_FILE": path(keyFile)]),
                          1, "does not unlock the keystore", unchanged: before)
        let missing = try list(["--key-file", "nope.key"])
        try assertRefused(missing, 1, "key file 'nope.key'", "--key-file", unchanged: before)
        XCTAssertFalse(missing.stderr.contains("vault init"), "the keystore is there; the key file is not: \(missing.stderr)")
        try write("short.key", "short")
        try assertRefused(try list(["--key-file", "short.key"]), 1, "(5 bytes) is not a key file (32 random bytes", unchanged: before)
        try assertRefused(try list(["--passphrase-file", "pass.txt"]), 1, "cannot be unlocked with a passphrase",
                          "--key-file", unchanged: before)
    }

    func testFilesOthersCanReadAreRefused() throws {
        try makePassphraseKeystore()
        let before = try digest(ks)
        try write("open.txt", passphrase, mode: 0o640)
        try assertRefused(try list(["--passphrase-file", "open.txt"]), 1, "can be read by group or others", "chmod 600 open.txt",
                          unchanged: before)
        try assertRefused(try list([], ["VAULT_PASSPHRASE_FILE": path("open.txt")]), 1, "VAULT_PASSPHRASE_FILE", "chmod 600",
                          unchanged: before)

        try FileManager.default.removeItem(atPath: path(ks))
        try makeKeystore()
        let keyed = try digest(ks)
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path(keyFile))
        try assertRefused(try list(["--key-file", keyFile]), 1, "can be read by group or others", "chmod 600", unchanged: keyed)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path(keyFile))
        // The keystore itself too.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path(ks))
        try assertRefused(try list(["--key-file", keyFile]), 1, "chmod 600", unchanged: keyed)
    }

    func testEmptyPassphraseFileIsRefused() throws {
        try makePassphraseKeystore()
        let before = try digest(ks)
        for (name, text) in [("empty.txt", ""), ("newline.txt", "\n"), ("crlf.txt", "\r\nsecret-looking second line\n")] {
            try write(name, text)
            try assertRefused(try list(["--passphrase-file", name]), 1, "empty passphrase", unchanged: before)
        }
        // Nor can a keystore be created with one.
        try write("empty.txt", "")
        let r = try plain(["init", "--keystore", "new.vault", "--passphrase-file", "empty.txt", "--kdf", "interactive"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("empty passphrase"), r.stderr)
        XCTAssertFalse(try files().contains("new.vault"))
    }

    func testNoUnlockSourceWithoutTerminalIsAUsageError() throws {
        try makePassphraseKeystore()
        let before = try digest(ks)
        try write("new.txt", "a new passphrase")
        for command in [["list"], ["show", "A"], ["get", "A", "client_id"], ["export", "A"], ["remove", "A"],
                        ["recipient"], ["open", "-"], ["passwd", "--new-passphrase-file", "new.txt"]] {
            let r = try plain(command + ["--keystore", ks], stdin: "")
            try assertRefused(r, 2, "no terminal", "--passphrase-file", "--key-file", unchanged: before)
            XCTAssertEqual(r.stdout, "", "\(command)")
        }
        // An empty variable counts as unset.
        let r = try list([], ["VAULT_PASSPHRASE_FILE": "", "VAULT_KEY_FILE": ""])
        try assertRefused(r, 2, "--passphrase-file", unchanged: before)
    }

    func testDamagedKeystores() throws {
        try makeKeystore()
        let good = Array(try Data(contentsOf: dir.appendingPathComponent(ks)))
        var flippedChecksum = good
        flippedChecksum[20] ^= 0x01   // keystore id: the header checksum no longer matches
        var newer = good
        newer[9] = 9                  // format version 9
        let other = try KeyPair.generate()
        let cases: [(name: String, bytes: [UInt8], words: [String])] = [
            ("empty", [], ["is empty (0 bytes)"]),
            ("foreign", Array("# not a keystore\n".utf8), ["is not a vault keystore"]),
            ("prefix", Array(good.prefix(5)), ["cut short inside its header"]),
            ("header", Array(good.prefix(40)), ["cut short inside its header"]),
            ("flipped", flippedChecksum, ["damaged"]),
            ("newer", newer, ["format version 9", "newer vault"]),
            ("public key file", Array(PublicKeyFile.text(recipient: other.publicKey.bytes, fingerprint: other.publicKey.fingerprint,
                                                        created: Handoff.now()).utf8), ["is not a vault keystore"]),
        ]
        var seen: [String: [String]] = [:]
        for c in cases {
            let name = c.name.replacingOccurrences(of: " ", with: "-") + ".vault"
            try Data(c.bytes).write(to: dir.appendingPathComponent(name))
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path(name))
            let before = try digest(name)
            let r = try plain(["list", "--keystore", name, "--key-file", keyFile])
            XCTAssertEqual(r.status, 1, "\(c.name): \(r.stderr)")
            XCTAssertEqual(r.stdout, "", c.name)
            for w in c.words { XCTAssertTrue(r.stderr.contains(w), "\(c.name): \(w) not in \(r.stderr)") }
            XCTAssertEqual(try digest(name), before, "\(c.name) changed")
            let first = String(r.stderr.split(separator: "\n").first ?? "").replacingOccurrences(of: name, with: "")
            // Different damage, different words.
            if let same = seen[first], same != c.words { XCTFail("\(c.name) is worded like \(same): \(first)") }
            seen[first] = c.words
        }
        // A keystore that does not exist.
        let r = try plain(["list", "--keystore", "nowhere.vault", "--key-file", keyFile])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("no such file"), r.stderr)
        XCTAssertTrue(r.stderr.contains("vault init"), r.stderr)
        XCTAssertFalse(try files().contains("nowhere.vault"))
    }

    /// The bad input matrix of the CLI issue: every header byte flipped, the file truncated at
    /// every 64th byte. Each run ends with status 1 (never a crash), words for a refusal, and
    /// the file byte for byte as it was: a reader never repairs.
    func testEveryHeaderByteFlippedAndEveryTruncation() throws {
        try makeKeystore()
        try write("acme.vault", try sealed("Acme BV"))
        XCTAssertEqual(try vault("open", "acme.vault").status, 0)
        let good = Array(try Data(contentsOf: dir.appendingPathComponent(ks)))
        let headerLength = Int(good[10]) << 24 | Int(good[11]) << 16 | Int(good[12]) << 8 | Int(good[13])
        XCTAssertEqual(headerLength, 47 + 275 + "key-file".utf8.count + 64)
        var cases: [(bytes: [UInt8], what: String, mayOpen: Bool)] = []
        for i in 0..<headerLength {
            var bytes = good
            bytes[i] ^= 0x20
            cases.append((bytes, "byte \(i) flipped", false))
        }
        for length in stride(from: 0, to: good.count, by: 64) {
            // A file cut anywhere before its committed end is damaged, never an older keystore.
            cases.append((Array(good.prefix(length)), "truncated to \(length)", false))
        }
        // Two at a time (one per core), each on its own copy; the findings are checked after.
        let problems = Findings()
        let directory = dir!, key = keyFile, all = cases
        DispatchQueue.concurrentPerform(iterations: all.count) { n in
            let c = all[n], name = "damaged-\(n).vault"
            let url = directory.appendingPathComponent(name)
            var found: [String] = []
            do {
                try Data(c.bytes).write(to: url)
                try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
                let r = try CLI.run(["list", "--json", "--keystore", name, "--key-file", key], in: directory)
                if !(r.status == 1 || (c.mayOpen && r.status == 0)) { found.append("status \(r.status): \(r.stderr)") }
                if r.status == 1 && (!r.stderr.hasPrefix("vault: error: cannot open the keystore") || r.stderr.contains("unexpected")
                                     || !r.stdout.isEmpty) {
                    found.append("not worded as a refusal: \(r.stderr)")
                }
                if Array(try Data(contentsOf: url)) != c.bytes { found.append("the keystore changed") }
                try? FileManager.default.removeItem(at: url)
                try? FileManager.default.removeItem(at: directory.appendingPathComponent(name + ".lock"))
            } catch { found.append("\(error)") }
            problems.add(found.map { "\(c.what): \($0)" })
        }
        XCTAssertEqual(problems.all, [])
    }

    func testAnotherKeystoreSwappedIn() throws {
        try makeKeystore()
        try write("acme.vault", try sealed("Acme BV"))
        XCTAssertEqual(try vault("open", "acme.vault").status, 0)
        // A second keystore with its own key file, copied over the first.
        XCTAssertEqual(try plain(["init", "--keystore", "b.vault", "--with-key-file", "b.key"]).status, 0)
        try FileManager.default.removeItem(atPath: path(ks))
        try FileManager.default.copyItem(atPath: path("b.vault"), toPath: path(ks))
        let before = try digest(ks)
        try assertRefused(try vault("list"), 1, "does not unlock", unchanged: before)
    }

    func testPasswdOfAKeyFileKeystoreSaysTheKeyFileNoLongerUnlocksIt() throws {
        try makeKeystore()
        try write("new.txt", passphrase)
        let r = try vault("passwd", "--new-passphrase-file", "new.txt", "--kdf", "interactive")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("vault: warning: the key file 'ks.key' no longer unlocks"), r.stderr)
        XCTAssertEqual(try list(["--passphrase-file", "new.txt"]).status, 0)
        let before = try digest(ks)
        try assertRefused(try list(["--key-file", keyFile]), 1, "cannot be unlocked with a key file", unchanged: before)
    }

    func testPasswd() throws {
        try makePassphraseKeystore()
        XCTAssertEqual(try plain(["open", "--keystore", ks, "--passphrase-file", "pass.txt", "-"],
                                 stdin: try sealed("Acme BV")).status, 0)
        try write("new.txt", "a new passphrase\n")
        let r = try plain(["passwd", "--keystore", ks, "--passphrase-file", "pass.txt", "--new-passphrase-file", "new.txt",
                           "--kdf", "interactive"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("changed"), r.stderr)
        var before = try digest(ks)
        try assertRefused(try list(["--passphrase-file", "pass.txt"]), 1, "wrong passphrase", unchanged: before)
        let l = try list(["--passphrase-file", "new.txt"])
        XCTAssertEqual(l.status, 0, l.stderr)
        XCTAssertTrue(l.stdout.contains("Acme BV"))
        let g = try CLI.run(["get", "Acme BV", "client_secret", "--keystore", ks, "--passphrase-file", "new.txt"], in: dir)
        XCTAssertEqual(g.stdout, secret + "\n")
        XCTAssertEqual(try mode(ks), 0o600)
        // The read committed its audit record: the keystore as it is now is what stays unchanged.
        before = try digest(ks)
        XCTAssertEqual(try files().filter { $0.contains(".tmp") }, [], "no temporary file left")

        // Without a new passphrase and no terminal: status 2 naming the option, at once (before
        // the old passphrase is even tried), nothing changed.
        let n = try plain(["passwd", "--keystore", ks, "--passphrase-file", "pass.txt", "--kdf", "interactive"])
        try assertRefused(n, 2, "--new-passphrase-file", unchanged: before)
        XCTAssertFalse(n.stderr.contains("wrong passphrase"), n.stderr)
        try write("open.txt", "readable new passphrase", mode: 0o644)
        let o = try plain(["passwd", "--keystore", ks, "--passphrase-file", "pass.txt", "--new-passphrase-file", "open.txt",
                           "--kdf", "interactive"])
        try assertRefused(o, 1, "chmod 600 open.txt", unchanged: before)
        XCTAssertFalse(o.stderr.contains("wrong passphrase"), "the new passphrase file is checked first: \(o.stderr)")
        try write("empty.txt", "")
        try assertRefused(try plain(["passwd", "--keystore", ks, "--passphrase-file", "new.txt", "--new-passphrase-file", "empty.txt",
                                     "--kdf", "interactive"]), 1, "empty passphrase", unchanged: before)
    }
}

/// What concurrently running checks found, gathered under a lock.
final class Findings: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []

    func add(_ found: [String]) { lock.lock(); items += found; lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}

/// `vault passwd` re-keys (issue 8 item 3) and keeps the KDF profile unless told (item 4).
final class PasswdTests: IntegratorTestCase {
    func headerLength(_ b: [UInt8]) -> Int { Int(b[10]) << 24 | Int(b[11]) << 16 | Int(b[12]) << 8 | Int(b[13]) }

    /// The attack of issue 8 item 3, through the binary: an old copy of the header, spliced onto
    /// the file after `passwd`, with the old passphrase, reads nothing stored after the change.
    func testAnOldHeaderSplicedOntoTheNewFileReadsNothing() throws {
        try makePassphraseKeystore()
        let unlockOld = ["--keystore", ks, "--passphrase-file", "pass.txt"]
        XCTAssertEqual(try plain(["open"] + unlockOld + ["-"], stdin: try sealed("Before")).status, 0)
        let old = Array(try Data(contentsOf: dir.appendingPathComponent(ks)))
        try write("new.txt", "a new passphrase\n")
        let r = try plain(["passwd"] + unlockOld + ["--new-passphrase-file", "new.txt"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("re-keyed"), r.stderr)
        let unlockNew = ["--keystore", ks, "--passphrase-file", "new.txt"]
        XCTAssertEqual(try plain(["open"] + unlockNew + ["-"], stdin: try sealed("After")).status, 0)
        let new = Array(try Data(contentsOf: dir.appendingPathComponent(ks)))
        let spliced = Array(old[0..<headerLength(old)]) + Array(new[headerLength(new)...])
        try Data(spliced).write(to: dir.appendingPathComponent("spliced.vault"))
        chmod(path("spliced.vault"), 0o600)
        for command in [["list", "--json"], ["get", "After", "client_secret"], ["get", "Before", "client_secret"]] {
            let attack = try plain(command + ["--keystore", "spliced.vault", "--passphrase-file", "pass.txt"])
            XCTAssertEqual(attack.status, 1, "\(command): \(attack.stdout)")
            XCTAssertEqual(attack.stdout, "")
            XCTAssertFalse(attack.all.contains(secret), attack.all)
            XCTAssertTrue(attack.stderr.contains("damaged"), attack.stderr)
        }
        // The new file with the new passphrase reads both.
        let g = try CLI.run(["get", "After", "client_secret"] + unlockNew, in: dir)
        XCTAssertEqual(g.stdout, secret + "\n")
        XCTAssertEqual(try plain(["list"] + unlockNew).status, 0)
        // The old passphrase on the new file: a wrong passphrase, nothing more.
        try assertRefused(try plain(["list"] + unlockOld), 1, "wrong passphrase", unchanged: try digest(ks))
    }

    func testPasswdKeepsTheKDFProfileUnlessToldAndSaysWhenItChanges() throws {
        try makePassphraseKeystore()   // interactive
        try write("new.txt", "a new passphrase\n")
        let kept = try plain(["passwd", "--keystore", ks, "--passphrase-file", "pass.txt", "--new-passphrase-file", "new.txt"])
        XCTAssertEqual(kept.status, 0, kept.stderr)
        XCTAssertFalse(kept.stderr.contains("KDF profile"), kept.stderr)
        var b = Array(try Data(contentsOf: dir.appendingPathComponent(ks)))
        XCTAssertEqual(b[47], 1, "a passphrase slot")
        XCTAssertEqual(b[48], 1, "still interactive")
        // Told: it says so (one moderate KDF run, 0.65 s here).
        let changed = try plain(["passwd", "--keystore", ks, "--passphrase-file", "new.txt", "--new-passphrase-file", "pass.txt",
                                 "--kdf", "moderate"])
        XCTAssertEqual(changed.status, 0, changed.stderr)
        XCTAssertTrue(changed.stderr.contains("vault: hint: the KDF profile changes from interactive to moderate"), changed.stderr)
        b = Array(try Data(contentsOf: dir.appendingPathComponent(ks)))
        XCTAssertEqual(b[48], 2, "moderate")
    }
}
