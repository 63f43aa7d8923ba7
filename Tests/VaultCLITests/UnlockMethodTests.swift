import Foundation
import XCTest
import VaultKit

/// Issue 12, several unlock methods at once, through the built binary.
final class UnlockMethodTests: IntegratorTestCase {
    let adminPassphrase = "purple elephant reading quietly"
    override var secrets: [String] { super.secrets + [adminPassphrase] }

    var withKey: [String] { ["--keystore", ks, "--key-file", keyFile] }
    var withPassphrase: [String] { ["--keystore", ks, "--passphrase-file", "admin.txt"] }

    /// A key-file keystore with a second method: the passphrase `admin` (interactive profile).
    func makeKeystoreWithTwoMethods() throws {
        try makeKeystore()
        try write("admin.txt", adminPassphrase + "\n")
        let r = try plain(["unlock", "add", "--passphrase", "--new-passphrase-file", "admin.txt", "--kdf", "interactive",
                           "--name", "admin", "--keystore", ks, "--unlock-key-file", keyFile])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("any of 2 unlock methods"), r.stderr)
    }

    /// `vault unlock list --json` as [name: kind], and the one used.
    func methods(_ unlock: [String]) throws -> (kinds: [String: String], used: String?) {
        let r = try plain(["unlock", "list", "--json"] + unlock)
        XCTAssertEqual(r.status, 0, r.stderr)
        let array = try XCTUnwrap(try json(r) as? [[String: Any]])
        var kinds: [String: String] = [:]
        var used: String?
        for m in array {
            let name = try XCTUnwrap(m["name"] as? String)
            kinds[name] = m["kind"] as? String
            if m["used_now"] as? Bool == true { used = name }
            XCTAssertNotNil(m["created"] as? String)
            XCTAssertEqual(m["kdf"] as? String, m["kind"] as? String == "passphrase" ? "interactive" : nil)
        }
        return (kinds, used)
    }

    func secretOf(_ label: String, _ unlock: [String]) throws -> Run { try CLI.run(["get", label, "client_secret"] + unlock, in: dir) }

    func testAKeystoreWithAPassphraseAndAKeyFileOpensWithEither() throws {
        try makeKeystoreWithTwoMethods()
        XCTAssertEqual(try vault("open", "-", stdin: try sealed("Acme BV")).status, 0)
        XCTAssertEqual(try secretOf("Acme BV", withKey).stdout, secret + "\n")
        XCTAssertEqual(try secretOf("Acme BV", withPassphrase).stdout, secret + "\n")
        let byKey = try methods(withKey), byPassphrase = try methods(withPassphrase)
        XCTAssertEqual(byKey.kinds, ["key-file": "key-file", "admin": "passphrase"])
        XCTAssertEqual(byKey.used, "key-file")
        XCTAssertEqual(byPassphrase.used, "admin")
        // A third, a key file made by unlock add, unlocked here with the passphrase.
        let r = try plain(["unlock", "add", "--key-file", "server.key"] + withPassphrase)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try mode("server.key"), 0o600)
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("server.key")).count, 32)
        XCTAssertEqual(try methods(withKey).kinds["key-file-2"], "key-file", "the default name, numbered when taken")
        XCTAssertEqual(try secretOf("Acme BV", ["--keystore", ks, "--key-file", "server.key"]).stdout, secret + "\n")
        let text = try plain(["unlock", "list"] + withKey)
        XCTAssertTrue(text.stdout.contains("(unlocked with)"), text.stdout)
    }

    /// Removing one leaves the other working; the removed one opens nothing, not even with an
    /// old copy of the header spliced onto the new file (the re-key); a whole old copy of the
    /// file still opens with it (SECURITY.md says so).
    func testRemovingOneLeavesTheOtherWorkingAndTheRemovedOneOpensNothing() throws {
        try makeKeystoreWithTwoMethods()
        XCTAssertEqual(try vault("open", "-", stdin: try sealed("Before")).status, 0)
        let old = Array(try Data(contentsOf: dir.appendingPathComponent(ks)))
        try Data(old).write(to: dir.appendingPathComponent("old-copy.vault"))
        chmod(path("old-copy.vault"), 0o600)
        let r = try plain(["unlock", "remove", "admin"] + withKey)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("re-keyed"), r.stderr)
        XCTAssertEqual(try methods(withKey).kinds, ["key-file": "key-file"])
        XCTAssertEqual(try vault("open", "-", stdin: try sealed("After")).status, 0)
        XCTAssertEqual(try secretOf("After", withKey).stdout, secret + "\n")
        try assertRefused(try plain(["list"] + withPassphrase), 1, "cannot be unlocked with a passphrase", unchanged: try digest(ks))
        // The old header (with the admin slot) on the new file: nothing reads.
        let new = Array(try Data(contentsOf: dir.appendingPathComponent(ks)))
        func headerLength(_ b: [UInt8]) -> Int { Int(b[10]) << 24 | Int(b[11]) << 16 | Int(b[12]) << 8 | Int(b[13]) }
        try Data(Array(old[0..<headerLength(old)]) + Array(new[headerLength(new)...])).write(to: dir.appendingPathComponent("spliced.vault"))
        chmod(path("spliced.vault"), 0o600)
        for unlock in [["--passphrase-file", "admin.txt"], ["--key-file", keyFile]] {
            for command in [["list", "--json"], ["get", "After", "client_secret"], ["get", "Before", "client_secret"]] {
                let attack = try plain(command + ["--keystore", "spliced.vault"] + unlock)
                XCTAssertEqual(attack.status, 1, "\(command) \(unlock): \(attack.stdout)")
                XCTAssertEqual(attack.stdout, "")
                XCTAssertFalse(attack.all.contains(secret), attack.all)
                XCTAssertTrue(attack.stderr.contains("damaged"), attack.stderr)
            }
        }
        // The documented limit: a whole copy made before still opens with the removed method.
        XCTAssertEqual(try secretOf("Before", ["--keystore", "old-copy.vault", "--passphrase-file", "admin.txt"]).stdout, secret + "\n")
    }

    func testTheLastMethodCannotBeRemovedAndTheOneUsedOnlyIfAnotherRemains() throws {
        try makeKeystore()
        var before = try digest(ks)
        try assertRefused(try plain(["unlock", "remove", "key-file"] + withKey), 1, "only unlock method", "add another", unchanged: before)
        try assertRefused(try plain(["unlock", "remove", "nope"] + withKey), 1, "no unlock method 'nope'", unchanged: before)
        try write("admin.txt", adminPassphrase + "\n")
        XCTAssertEqual(try plain(["unlock", "add", "--passphrase", "--new-passphrase-file", "admin.txt", "--kdf", "interactive",
                                  "--keystore", ks, "--unlock-key-file", keyFile]).status, 0)
        XCTAssertEqual(try methods(withKey).kinds["passphrase"], "passphrase", "the default name")
        // The one this command unlocks with: removed, with a warning naming what is left.
        let r = try plain(["unlock", "remove", "key-file"] + withKey)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("vault: warning: you unlocked with 'key-file', which no longer opens"), r.stderr)
        XCTAssertTrue(r.stderr.contains("only 'passphrase'"), r.stderr)
        before = try digest(ks)
        try assertRefused(try plain(["list"] + withKey), 1, "cannot be unlocked with a key file", unchanged: before)
        XCTAssertEqual(try plain(["list"] + withPassphrase).status, 0)
        try assertRefused(try plain(["unlock", "remove", "passphrase"] + withPassphrase), 1, "only unlock method", unchanged: before)
    }

    func testUnlockAddRefusesWhatCannotWorkAndChangesNothing() throws {
        try makeKeystore()
        let before = try digest(ks)
        func add(_ args: String...) throws -> Run { try plain(["unlock", "add"] + args + ["--keystore", ks, "--unlock-key-file", keyFile]) }
        try assertRefused(try add(), 2, "--key-file FILE or --passphrase", unchanged: before)
        try assertRefused(try add("--key-file", "a.key", "--passphrase"), 2, "not both", unchanged: before)
        try assertRefused(try add("--key-file", "a.key", "--kdf", "interactive"), 2, "--kdf applies to a passphrase", unchanged: before)
        // A passphrase typed after --passphrase is refused and never repeated.
        let typed = try add("--passphrase", "hunter2-secret")
        try assertRefused(typed, 2, "not repeated here", "--new-passphrase-file", unchanged: before)
        XCTAssertFalse(typed.all.contains("hunter2-secret"), typed.all)
        let inline = try add("--passphrase=hunter2-secret")
        try assertRefused(inline, 2, "never takes a secret on the command line", unchanged: before)
        XCTAssertFalse(inline.all.contains("hunter2-secret"), inline.all)
        // --key-file names the new file: an existing one is never overwritten.
        try assertRefused(try add("--key-file", keyFile), 2, "the key file that unlocks it", "--unlock-key-file", unchanged: before)
        try write("exists.key", String(repeating: "x", count: 32))
        try assertRefused(try add("--key-file", "exists.key"), 1, "never overwritten", "--unlock-key-file", unchanged: before)
        try assertRefused(try add("--key-file", "new.key", "--name", "key-file"), 1, "has an unlock method 'key-file' already",
                          unchanged: before)
        XCTAssertFalse(try files().contains("new.key"), "no key file is left for a method that was not added")
        try assertRefused(try add("--key-file", "new.key", "--name", "Bad Name"), 2, "not a valid unlock method name", unchanged: before)
        // A weak passphrase is refused unless allowed.
        try write("weak.txt", "qwerty123\n")
        try assertRefused(try add("--passphrase", "--new-passphrase-file", "weak.txt", "--kdf", "interactive"), 1, "too weak",
                          unchanged: before)
        // No terminal and no file: refused at once, before the keystore is unlocked.
        try assertRefused(try add("--passphrase"), 2, "no terminal", "--new-passphrase-file", unchanged: before)
        // Unlocked with the wrong key file: named as --unlock-key-file.
        try write("other.key", String(repeating: "o", count: 32))
        let wrong = try plain(["unlock", "add", "--key-file", "new.key", "--keystore", ks, "--unlock-key-file", "other.key"])
        try assertRefused(wrong, 1, "does not unlock the keystore", "--unlock-key-file", unchanged: before)
        XCTAssertFalse(try files().contains("new.key"))
        let allowed = try add("--passphrase", "--new-passphrase-file", "weak.txt", "--kdf", "interactive", "--allow-weak-passphrase")
        XCTAssertEqual(allowed.status, 0, allowed.stderr)
        XCTAssertTrue(allowed.stderr.contains("vault: warning:"), allowed.stderr)
    }

    /// passwd changes the method it unlocks with, and only that one.
    func testPasswdChangesTheMethodItUnlocksWith() throws {
        try makeKeystoreWithTwoMethods()
        XCTAssertEqual(try vault("open", "-", stdin: try sealed("Acme BV")).status, 0)
        try write("new.txt", "a brand new admin passphrase\n")
        let r = try plain(["passwd", "--new-passphrase-file", "new.txt"] + withPassphrase)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try methods(withKey).kinds, ["key-file": "key-file", "admin": "passphrase"], "the name is kept")
        XCTAssertEqual(try secretOf("Acme BV", ["--keystore", ks, "--passphrase-file", "new.txt"]).stdout, secret + "\n")
        XCTAssertEqual(try secretOf("Acme BV", withKey).stdout, secret + "\n", "the key file still opens it")
        try assertRefused(try plain(["list"] + withPassphrase), 1, "wrong passphrase", unchanged: try digest(ks))
        // From the key file: it is replaced by a passphrase, which takes a free name.
        try write("third.txt", "yet another long passphrase\n")
        let k = try plain(["passwd", "--new-passphrase-file", "third.txt", "--kdf", "interactive"] + withKey)
        XCTAssertEqual(k.status, 0, k.stderr)
        XCTAssertTrue(k.stderr.contains("the new passphrase and the other unlock methods do"), k.stderr)
        XCTAssertEqual(try methods(["--keystore", ks, "--passphrase-file", "third.txt"]).kinds,
                       ["passphrase": "passphrase", "admin": "passphrase"])
        XCTAssertEqual(try secretOf("Acme BV", ["--keystore", ks, "--passphrase-file", "new.txt"]).stdout, secret + "\n")
    }
}
