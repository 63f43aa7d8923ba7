import Foundation
import XCTest
import VaultKit

/// Issue 12, identities over time, through the built binary: rotate, retire, export, import,
/// init --from-identity.
final class IdentityTests: IntegratorTestCase {
    /// `vault identities --json` as [fingerprint: (state, state_changed)].
    func identityStates(_ unlock: [String]? = nil) throws -> [String: (state: String, changed: String)] {
        let r = try plain(["identities", "--json"] + (unlock ?? ["--keystore", ks, "--key-file", keyFile]))
        XCTAssertEqual(r.status, 0, r.stderr)
        let array = try XCTUnwrap(try json(r) as? [[String: String]])
        var out: [String: (state: String, changed: String)] = [:]
        for i in array {
            XCTAssertEqual(Set(i.keys), ["fingerprint", "recipient", "state", "created", "state_changed"])
            let key = try PublicKey(recipient: try XCTUnwrap(i["recipient"]))
            XCTAssertEqual(key.fingerprint.canonical, i["fingerprint"], "the fingerprint is the recipient's")
            out[i["fingerprint"]!] = (i["state"]!, i["state_changed"]!)
        }
        return out
    }

    func testBlobsSealedToAnOldKeyOpenAfterRotationAndAreRefusedAfterRetirement() throws {
        try makeKeystore()
        let old = identity!
        let first = try sealed("First"), second = try sealed("Second"), third = try sealed("Third")
        let r = try vault("rotate")
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2, r.stdout)
        let new = try PublicKey(recipient: lines[0])
        XCTAssertEqual(lines[1], new.fingerprint.canonical)
        XCTAssertNotEqual(new.fingerprint, old.fingerprint)
        XCTAssertTrue(r.stderr.contains("vault retire"), r.stderr)
        // vault recipient prints the new one.
        try readIdentity()
        XCTAssertEqual(identity.fingerprint, new.fingerprint)
        var states = try identityStates()
        XCTAssertEqual(states[old.fingerprint.canonical]?.state, "active")
        XCTAssertEqual(states[new.fingerprint.canonical]?.state, "current")
        // Sealed to the old key: still opens; sealed to the new one: opens.
        XCTAssertEqual(try vault("open", "-", stdin: first).status, 0)
        XCTAssertEqual(try vault("open", "-", stdin: try sealed("Fourth")).status, 0)
        // A second rotation keeps both earlier identities active.
        XCTAssertEqual(try vault("rotate").status, 0)
        try readIdentity()
        XCTAssertEqual(try vault("open", "-", stdin: second).status, 0)
        // Retired: refused, naming the key, that it was retired, and when.
        let retire = try vault("retire", old.fingerprint.grouped)
        XCTAssertEqual(retire.status, 0, retire.stderr)
        XCTAssertEqual(retire.stdout, "")
        states = try identityStates()
        let when = try XCTUnwrap(states[old.fingerprint.canonical]).changed
        XCTAssertEqual(states[old.fingerprint.canonical]?.state, "retired")
        XCTAssertTrue(retire.stderr.contains("retired \(old.fingerprint.canonical) at \(when)"), retire.stderr)
        let before = try digest(ks)
        let refused = try vault("open", "-", stdin: third)
        try assertRefused(refused, 1, old.fingerprint.canonical, "retired at \(when)", "(1 sealed to a retired key)", unchanged: before)
        XCTAssertFalse(try labels().contains("Third"))
        // The other identities still open what is sealed to them.
        XCTAssertEqual(try vault("open", "-", stdin: try sealed("Fifth")).status, 0)
        // Retiring it again changes nothing and says so.
        let again = try vault("retire", old.fingerprint.canonical)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("already"), again.stderr)
        XCTAssertEqual(try identityStates()[old.fingerprint.canonical]?.changed, when)
    }

    func testTheCurrentIdentityCannotBeRetired() throws {
        try makeKeystore()
        let before = try digest(ks)
        try assertRefused(try vault("retire", identity.fingerprint.canonical), 1, "is the current identity", "cannot be retired",
                          "vault rotate", unchanged: before)
        try assertRefused(try vault("retire", "SHA256:" + String(repeating: "ab", count: 32)), 1, "holds no identity", unchanged: before)
        try assertRefused(try vault("retire", "SHA256:abc"), 2, "not a fingerprint", "vault identities", unchanged: before)
        XCTAssertEqual(try identityStates()[identity.fingerprint.canonical]?.state, "current")
    }

    func testExportThenInitFromIdentityOpensTheSameBlobs() throws {
        try makeKeystore()
        let blob = try sealed("Acme BV")
        let r = try vault("identity", "export", "-o", "identity.key")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, identity.fingerprint.canonical + "\n")
        XCTAssertEqual(try mode("identity.key"), 0o600)
        let text = try read("identity.key")
        XCTAssertTrue(text.hasPrefix("VAULT-SECRET-KEY-1"), "FORMAT.md §3 form")
        XCTAssertEqual(text.count, 77)
        let pair = try SecretKeyText.decode(try SecretBytes(Array(text.utf8)))
        XCTAssertEqual(pair.publicKey.fingerprint, identity.fingerprint)
        XCTAssertFalse(r.all.contains(String(text.dropLast())), "the key is never printed")
        // Another machine: a new keystore on the exported identity opens the same blob.
        let init2 = try plain(["init", "--keystore", "other.vault", "--with-key-file", "other.key", "--from-identity", "identity.key"])
        XCTAssertEqual(init2.status, 0, init2.stderr)
        XCTAssertEqual(init2.stdout, identity.recipient + "\n" + identity.fingerprint.canonical + "\n")
        XCTAssertFalse(init2.all.contains(String(text.dropLast())))
        let other = ["--keystore", "other.vault", "--key-file", "other.key"]
        let opened = try plain(["open"] + other + ["-"], stdin: blob)
        XCTAssertEqual(opened.status, 0, opened.stderr)
        XCTAssertEqual(try CLI.run(["get", "Acme BV", "client_secret"] + other, in: dir).stdout, secret + "\n")
        // …and so does the original.
        XCTAssertEqual(try vault("open", "-", stdin: blob).status, 0)
        XCTAssertEqual(try identityStates(other).map { $0.key }, [identity.fingerprint.canonical])
    }

    func testExportWritesOnlyANewPrivateFile() throws {
        try makeKeystore()
        let before = try digest(ks)
        try assertRefused(try vault("identity", "export"), 2, "-o FILE", unchanged: before)
        try assertRefused(try vault("identity", "export", "-o", "-"), 2, "never written to standard output", unchanged: before)
        try write("taken.key", "something\n")
        try assertRefused(try vault("identity", "export", "-o", "taken.key"), 1, "already exists", unchanged: before)
        XCTAssertEqual(try read("taken.key"), "something\n")
        try assertRefused(try vault("identity", "export", "-o", "taken.key", "--force"), 2, "--force", unchanged: before)
        try assertRefused(try vault("identity", "export", "-o", keyFile), 1, "key file", unchanged: before)
        try assertRefused(try vault("identity", "export", "-o", "/dev/null"), 1, "not a regular file", unchanged: before)
        try assertRefused(try vault("identity", "export", "-o", "nowhere/id.key"), 1, "no such directory", unchanged: before)
        // An older identity by its fingerprint, in any state.
        let old = identity!
        XCTAssertEqual(try vault("rotate").status, 0)
        XCTAssertEqual(try vault("retire", old.fingerprint.canonical).status, 0)
        let r = try vault("identity", "export", old.fingerprint.canonical, "-o", "old.key")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("(retired)"), r.stderr)
        XCTAssertEqual(try SecretKeyText.decode(try SecretBytes(Array(try read("old.key").utf8))).publicKey.fingerprint, old.fingerprint)
        let names = try files()
        XCTAssertFalse(names.contains { $0.contains(".tmp-") }, "no temporary file left: \(names)")
    }

    func testImportAddsARetiredIdentityUnlessMadeCurrent() throws {
        // The identity to import, from a keystore of its own, and a blob sealed to it.
        try makeKeystore()
        let theirs = identity!
        let blob = try sealed("Acme BV")
        XCTAssertEqual(try vault("identity", "export", "-o", "identity.key").status, 0)
        try FileManager.default.removeItem(atPath: path(ks))
        try FileManager.default.removeItem(atPath: path(keyFile))
        try makeKeystore()
        let mine = identity!
        // Added retired: kept, opens nothing.
        let r = try vault("identity", "import", "identity.key")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, theirs.fingerprint.canonical + "\n")
        XCTAssertTrue(r.stderr.contains("retired"), r.stderr)
        XCTAssertEqual(try identityStates()[theirs.fingerprint.canonical]?.state, "retired")
        let before = try digest(ks)
        try assertRefused(try vault("open", "-", stdin: blob), 1, "retired at", unchanged: before)
        // Held already: refused, nothing changed.
        try assertRefused(try vault("identity", "import", "identity.key"), 1, "holds the identity", "already (retired)",
                          "--make-current", unchanged: before)
        // Made current: it opens, and the keystore's own identity stays active.
        let current = try vault("identity", "import", "--make-current", "identity.key")
        XCTAssertEqual(current.status, 0, current.stderr)
        let states = try identityStates()
        XCTAssertEqual(states[theirs.fingerprint.canonical]?.state, "current")
        XCTAssertEqual(states[mine.fingerprint.canonical]?.state, "active")
        XCTAssertEqual(try vault("open", "-", stdin: blob).status, 0)
        try readIdentity()
        XCTAssertEqual(identity.fingerprint, theirs.fingerprint)
        let after = try digest(ks)
        try assertRefused(try vault("identity", "import", "--make-current", "identity.key"), 1, "(current)", unchanged: after)
    }

    func testImportRefusesWhatIsNoPrivateSecretKey() throws {
        try makeKeystore()
        XCTAssertEqual(try vault("identity", "export", "-o", "identity.key").status, 0)
        let text = try read("identity.key")
        let before = try digest(ks)
        chmod(path("identity.key"), 0o644)
        try assertRefused(try vault("identity", "import", "identity.key"), 1, "can be read by group or others", "chmod 600",
                          unchanged: before)
        try assertRefused(try vault("identity", "import", keyFile), 1, "is not a secret key", "a key file", unchanged: before)
        // One character changed: a wrong checksum, and the text never echoed.
        var broken = Array(text.utf8)
        broken[30] = broken[30] == UInt8(ascii: "Q") ? UInt8(ascii: "P") : UInt8(ascii: "Q")
        try write("broken.key", String(decoding: broken, as: UTF8.self))
        let r = try vault("identity", "import", "broken.key")
        try assertRefused(r, 1, "the secret key text is invalid (checksum)", unchanged: before)
        XCTAssertFalse(r.all.contains(String(text.dropLast())))
        XCTAssertFalse(r.all.contains(String(decoding: broken, as: UTF8.self).dropLast()))
        try assertRefused(try vault("identity", "import", "missing.key"), 1, "missing.key", unchanged: before)
        // init --from-identity checks the file before anything is made.
        let bad = try plain(["init", "--keystore", "other.vault", "--with-key-file", "other.key", "--from-identity", "broken.key"])
        XCTAssertEqual(bad.status, 1, bad.stderr)
        XCTAssertFalse(try files().contains("other.vault"))
        XCTAssertFalse(try files().contains("other.key"))
    }
}
