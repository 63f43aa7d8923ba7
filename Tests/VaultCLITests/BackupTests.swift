import Foundation
import XCTest
import VaultKit

/// Issue 12, `vault backup` and `vault restore`, through the built binary (docs/BACKUP.md).
final class BackupTests: IntegratorTestCase {
    let backupPassphrase = "seven blue lanterns over the harbour"
    override var secrets: [String] { super.secrets + [backupPassphrase] }

    /// Runs `vault args` as given; no secret may be printed.
    func run(_ args: [String]) throws -> Run { try plain(args) }

    /// The JSON a read-only command prints for a keystore, for comparing two keystores.
    func snapshot(_ unlock: [String]) throws -> [String: String] {
        var out: [String: String] = [:]
        for command in [["list", "--json"], ["identities", "--json"], ["unlock", "list", "--json"]] {
            let r = try plain(command + unlock)
            XCTAssertEqual(r.status, 0, "\(command): \(r.stderr)")
            // The one used depends on how it was opened, not on what was backed up.
            out[command.joined(separator: " ")] = r.stdout
        }
        for label in try labels() {
            let r = try plain(["show", "--history", "--json", label] + unlock)
            XCTAssertEqual(r.status, 0, r.stderr)
            out["show \(label)"] = r.stdout
        }
        return out
    }

    /// Files that are neither the test's own nor the keystore's.
    func leftovers(_ known: Set<String>) throws -> Set<String> { try files().subtracting(known).filter { $0.contains(".tmp-") } }

    /// A keystore with history, a removed entry (its blob only in the ledger), a rotated and a
    /// retired identity and two unlock methods: everything a backup must carry.
    func makeFullKeystore() throws -> (blobs: [String: String], extraUnlock: [String]) {
        try makeKeystore()
        // A retired identity (a blob sealed to it would be refused as such, before the ledger
        // is asked) and an active one.
        let old = identity!
        XCTAssertEqual(try vault("rotate").status, 0)
        XCTAssertEqual(try vault("retire", old.fingerprint.canonical).status, 0)
        XCTAssertEqual(try vault("rotate").status, 0)
        try readIdentity()
        var blobs: [String: String] = [:]
        for label in ["Acme BV", "Beta BV", "Gone BV"] {
            blobs[label] = try sealed(label)
            XCTAssertEqual(try vault("open", "-", stdin: blobs[label]!).status, 0)
        }
        blobs["Acme BV 2"] = try sealed("Acme BV")
        XCTAssertEqual(try vault("open", "--replace", "-", stdin: blobs["Acme BV 2"]!).status, 0)
        XCTAssertEqual(try vault("remove", "Gone BV").status, 0)
        try write("admin.txt", passphrase + "\n")
        XCTAssertEqual(try plain(["unlock", "add", "--passphrase", "--new-passphrase-file", "admin.txt", "--kdf", "interactive",
                                  "--name", "admin", "--keystore", ks, "--unlock-key-file", keyFile]).status, 0)
        return (blobs, ["--keystore", ks, "--passphrase-file", "admin.txt"])
    }

    func testABackupRestoresEntriesHistoryLedgerAndIdentities() throws {
        let (blobs, _) = try makeFullKeystore()
        try write("backup.txt", backupPassphrase + "\n")
        let known = try files()
        let b = try vault("backup", "-o", "keystore.backup", "--backup-passphrase-file", "backup.txt", "--kdf", "interactive")
        XCTAssertEqual(b.status, 0, b.stderr)
        XCTAssertEqual(b.stdout, "")
        XCTAssertTrue(b.stderr.contains("read it back and verified it"), b.stderr)
        XCTAssertEqual(try mode("keystore.backup"), 0o600)
        XCTAssertEqual(try leftovers(known), [])
        let original = try snapshot(["--keystore", ks, "--key-file", keyFile])
        // Restored elsewhere, it is the same keystore: same entries, history, identities and
        // unlock methods, opened by the same key file and passphrase.
        let r = try run(["restore", "keystore.backup", "--keystore", "restored.vault", "--backup-passphrase-file", "backup.txt"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try mode("restored.vault"), 0o600)
        let byKey = ["--keystore", "restored.vault", "--key-file", keyFile]
        let restored = try snapshot(byKey)
        XCTAssertEqual(restored, original)
        XCTAssertTrue(restored["identities --json"]!.contains("\"retired\""))
        XCTAssertEqual(try CLI.run(["get", "Acme BV", "client_secret"] + byKey, in: dir).stdout, secret + "\n")
        XCTAssertEqual(try plain(["list"] + ["--keystore", "restored.vault", "--passphrase-file", "admin.txt"]).status, 0)
        XCTAssertEqual(try plain(["verify"] + byKey).status, 0)
        // The replay ledger came along: every blob stored before, the removed entry's too, is a replay.
        let restoredDigest = try Data(contentsOf: dir.appendingPathComponent("restored.vault"))
        for (name, blob) in blobs {
            let again = try plain(["open"] + byKey + ["-"], stdin: blob)
            XCTAssertEqual(again.status, 1, "\(name): \(again.stderr)")
            XCTAssertTrue(again.stderr.contains("already opened"), "\(name): \(again.stderr)")
        }
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("restored.vault")), restoredDigest)
        // The identity the customers seal to came along, and opens new blobs.
        XCTAssertEqual(try plain(["open"] + byKey + ["-"], stdin: try sealed("New BV")).status, 0)
    }

    func testABackupUnderAKeyFileOfItsOwn() throws {
        try makeKeystore()
        XCTAssertEqual(try vault("open", "-", stdin: try sealed("Acme BV")).status, 0)
        var before = try digest(ks)
        // The keystore's own key file, or the keystore, cannot protect its backup.
        try assertRefused(try vault("backup", "-o", "k.backup", "--backup-key-file", keyFile), 2, "a key file of its own", unchanged: before)
        try assertRefused(try vault("backup", "-o", "k.backup", "--backup-key-file", "b.key", "--backup-passphrase-file", "x"), 2,
                          "not both", unchanged: before)
        // A new key file is made for it.
        let b = try vault("backup", "-o", "k.backup", "--backup-key-file", "backup.key")
        XCTAssertEqual(b.status, 0, b.stderr)
        XCTAssertEqual(try mode("backup.key"), 0o600)
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("backup.key")).count, 32)
        // An existing one is used as it is.
        XCTAssertEqual(try vault("backup", "-o", "k2.backup", "--backup-key-file", "backup.key").status, 0)
        try write("backup.txt", backupPassphrase + "\n")
        before = try digest(ks)
        let wrongKind = try run(["restore", "k.backup", "--keystore", "r.vault", "--backup-passphrase-file", "backup.txt"])
        try assertRefused(wrongKind, 1, "protected by a key file", "--backup-key-file", unchanged: before)
        let none = try run(["restore", "k.backup", "--keystore", "r.vault"])
        try assertRefused(none, 2, "protected by a key file", unchanged: before)
        try write("other.key", String(repeating: "o", count: 32))
        try assertRefused(try run(["restore", "k.backup", "--keystore", "r.vault", "--backup-key-file", "other.key"]), 1,
                          "this key file does not open the backup", unchanged: before)
        XCTAssertFalse(try files().contains("r.vault"))
        for backup in ["k.backup", "k2.backup"] {
            let r = try run(["restore", backup, "--keystore", "r-\(backup).vault", "--backup-key-file", "backup.key"])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(try CLI.run(["get", "Acme BV", "client_secret", "--keystore", "r-\(backup).vault", "--key-file", keyFile],
                                       in: dir).stdout, secret + "\n")
        }
    }

    func testNothingIsEverOverwritten() throws {
        try makeKeystore()
        try write("backup.txt", backupPassphrase + "\n")
        var before = try digest(ks)
        try assertRefused(try vault("backup", "--backup-passphrase-file", "backup.txt"), 2, "-o FILE", unchanged: before)
        try assertRefused(try vault("backup", "-o", "-", "--backup-passphrase-file", "backup.txt"), 2, "never to standard output",
                          unchanged: before)
        try assertRefused(try vault("backup", "-o", ks, "--backup-passphrase-file", "backup.txt"), 1, "keystore", unchanged: before)
        try write("taken", "x")
        try assertRefused(try vault("backup", "-o", "taken", "--backup-passphrase-file", "backup.txt"), 1, "already exists",
                          unchanged: before)
        XCTAssertEqual(try read("taken"), "x")
        try write("weak.txt", "abcdefgh\n")
        try assertRefused(try vault("backup", "-o", "k.backup", "--backup-passphrase-file", "weak.txt"), 1, "too weak", unchanged: before)
        XCTAssertFalse(try files().contains("k.backup"))
        XCTAssertEqual(try vault("backup", "-o", "k.backup", "--backup-passphrase-file", "backup.txt", "--kdf", "interactive").status, 0)
        // The backup committed its audit record (issue 13): the keystore as it is now stays unchanged.
        before = try digest(ks)
        // A restore never replaces a file: refused before any passphrase is asked.
        try assertRefused(try run(["restore", "k.backup", "--keystore", ks]), 1, "exists already", "nothing was written", unchanged: before)
        try assertRefused(try run(["restore", "k.backup", "--keystore", "taken", "--backup-passphrase-file", "backup.txt"]), 1,
                          "exists already", unchanged: before)
        XCTAssertEqual(try read("taken"), "x")
        try assertRefused(try run(["restore", "k.backup", "--keystore", "nowhere/r.vault", "--backup-passphrase-file", "backup.txt"]), 1,
                          "no such directory", unchanged: before)
        try assertRefused(try run(["restore", ks, "--keystore", "r.vault", "--backup-passphrase-file", "backup.txt"]), 1,
                          "is not a vault backup", unchanged: before)
        try write("wrong.txt", "not the backup passphrase at all\n")
        try assertRefused(try run(["restore", "k.backup", "--keystore", "r.vault", "--backup-passphrase-file", "wrong.txt"]), 1,
                          "wrong passphrase for the backup", unchanged: before)
        XCTAssertFalse(try files().contains("r.vault"))
    }

    /// A backup large enough for three chunks: big generic entries.
    func makeLargeBackup() throws -> [UInt8] {
        try makeKeystore()
        let big = "{" + (0..<3).map { #""k\#($0)": "\#(String(repeating: "v\($0)", count: 2000))""# }.joined(separator: ", ") + "}"
        for i in 0..<12 {
            XCTAssertEqual(try vault("open", "-", stdin: try sealed("Big \(i)", extra: ["--type", "generic"], input: big)).status, 0)
        }
        let b = try vault("backup", "-o", "k.backup", "--backup-key-file", "backup.key")
        XCTAssertEqual(b.status, 0, b.stderr)
        return Array(try Data(contentsOf: dir.appendingPathComponent("k.backup")))
    }

    func restoreDamaged(_ bytes: [UInt8], _ what: String, expect words: [String],
                        file: StaticString = #filePath, line: UInt = #line) throws {
        try Data(bytes).write(to: dir.appendingPathComponent("damaged.backup"))
        let known = try files()
        let r = try run(["restore", "damaged.backup", "--keystore", "r.vault", "--backup-key-file", "backup.key"])
        XCTAssertEqual(r.status, 1, "\(what): \(r.stderr)", file: file, line: line)
        XCTAssertEqual(r.stdout, "", file: file, line: line)
        for w in words { XCTAssertTrue(r.stderr.contains(w), "\(what): '\(w)' not in \(r.stderr)", file: file, line: line) }
        XCTAssertEqual(try files(), known, "\(what): something was written", file: file, line: line)
    }

    func testADamagedBackupIsRefusedInEveryRegion() throws {
        let good = try makeLargeBackup()
        let chunk = 65_536 + 17, header = 127
        XCTAssertGreaterThan(good.count, header + 2 * chunk, "three chunks")
        let regions: [(String, Int, String)] = [
            ("magic", 0, "is not a vault backup"),
            ("version", 12, "format version 0"),
            ("kind", 13, "checksum does not match"),
            ("profile", 14, "checksum does not match"),
            ("contents length", 20, "checksum does not match"),
            ("salt", 23, "checksum does not match"),
            ("stream header", 40, "checksum does not match"),
            ("key check", 70, "checksum does not match"),
            ("checksum", 100, "checksum does not match"),
            ("chunk 1, first byte", header, "chunk 1 of 3"),
            ("chunk 1, middle", header + 30_000, "chunk 1 of 3"),
            ("chunk 1, tag", header + chunk - 1, "chunk 1 of 3"),
            ("chunk 2, first byte", header + chunk, "chunk 2 of 3"),
            ("chunk 3, middle", header + 2 * chunk + 10, "chunk 3 of 3"),
            ("chunk 3, last byte", good.count - 1, "chunk 3 of 3"),
        ]
        for (what, offset, words) in regions {
            var bad = good
            bad[offset] ^= 0x01
            try restoreDamaged(bad, what, expect: [words])
        }
        // Version above 1: a newer vault's, with its own message.
        var newer = good
        newer[12] = 2
        try restoreDamaged(newer, "newer", expect: ["format version 2", "newer vault"])
        // Chunks swapped, or the last one dropped and the one before it cut to size: refused.
        let c1 = Array(good[header..<(header + chunk)]), c2 = Array(good[(header + chunk)..<(header + 2 * chunk)])
        try restoreDamaged(Array(good[0..<header]) + c2 + c1 + Array(good[(header + 2 * chunk)...]), "swapped", expect: ["chunk 1 of 3"])
        // Another backup's header on this backup's chunks.
        XCTAssertEqual(try vault("backup", "-o", "other.backup", "--backup-key-file", "backup.key").status, 0)
        let other = Array(try Data(contentsOf: dir.appendingPathComponent("other.backup")))
        try restoreDamaged(Array(other[0..<header]) + Array(good[header...]), "another header", expect: ["chunk 1 of 3"])
        // Bytes after the end.
        try restoreDamaged(good + [0], "appended", expect: ["more bytes follow its end"])
        // The intact one restores.
        let r = try run(["restore", "k.backup", "--keystore", "r.vault", "--backup-key-file", "backup.key"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try plain(["verify", "--keystore", "r.vault", "--key-file", keyFile]).status, 0)
    }

    func testATruncatedBackupIsRefused() throws {
        let good = try makeLargeBackup()
        let chunk = 65_536 + 17, header = 127
        for cut in [1, 11, 12, 60, header - 1] {
            try restoreDamaged(Array(good[0..<cut]), "cut at \(cut)", expect: ["is cut short", "inside its header"])
        }
        for cut in [header, header + 1, header + chunk - 1, header + chunk, header + 2 * chunk, good.count - 1] {
            try restoreDamaged(Array(good[0..<cut]), "cut at \(cut)", expect: ["is cut short", "\(cut) of its \(good.count) bytes"])
        }
        try restoreDamaged([], "empty", expect: ["is empty"])
    }
}
