import Foundation
import XCTest
import VaultKit

/// Regressions found by scripts/reliability/disk_full.py (docs/RELIABILITY.md): a full disk and
/// a folder the user cannot write, each a clear message, the keystore unchanged.
final class ReliabilityTests: CLITestCase {
    /// Runs vault with a file-size limit of `bytes` (what `ulimit -f` sets, in bytes) and SIGXFSZ
    /// ignored, so a write past the limit fails with EFBIG as on a full disk. Its standard error
    /// goes through a pipe: the limit would cut it short in the file CLI.run reads.
    func runLimited(_ bytes: Int, _ args: String...) throws -> Run { try runLimited(bytes, args) }

    func runLimited(_ bytes: Int, _ args: [String]) throws -> Run {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit"), "needs prlimit (util-linux)")
        return try CLI.run(args, in: dir, wrapper: ["bash", "-c", """
            trap '' XFSZ; { prlimit --fsize=\(bytes) "$@" 2>&1 1>&3 3>&- | cat >&2; exit ${PIPESTATUS[0]}; } 3>&1
            """, "limit"])
    }

    /// A keystore with a key file, its public key file, and a blob sealed to it.
    func keystoreAndBlob() throws -> (args: [String], blob: String) {
        XCTAssertEqual(try run("init", "--keystore", "ks.vault", "--with-key-file", "ks.key").status, 0)
        let args = ["--keystore", "ks.vault", "--key-file", "ks.key"]
        XCTAssertEqual(try run(["recipient", "-o", "ks.pub"] + args).status, 0)
        let fp = try read("ks.pub").split(separator: "\n").first { $0.hasPrefix("# fingerprint: ") }!.dropFirst(15)
        try writeInput()
        let r = try run("seal", "--to", "ks.pub", "--expect-fingerprint", String(fp), "--label", "Acme BV",
                        "--input", "creds.json", "-o", "acme.vault")
        XCTAssertEqual(r.status, 0, r.stderr)
        return (args, "acme.vault")
    }

    /// The key file's write cut short by a full disk was reported as "no such file or
    /// directory": one write(2) returned a short count, and the error was made from a stale errno.
    func testInitOnAFullDiskNamesTheCause() throws {
        for limit in [0, 31, 200] {
            let before = try files()
            let r = try runLimited(limit, "init", "--keystore", "k.vault", "--with-key-file", "k.key")
            assertFails(r, 1, "cannot write", "file too large", "the disk is full")
            XCTAssertFalse(r.stderr.contains("no such file"), r.stderr)
            XCTAssertEqual(try files(), before, "init left files behind with a \(limit)-byte limit")
        }
    }

    /// A full disk during `vault open`: the message says what happened in words (not "pwrite")
    /// and what to do; the keystore is byte-identical and the blob opens once there is room.
    func testOpenOnAFullDiskChangesNothingAndSaysWhy() throws {
        let (args, blob) = try keystoreAndBlob()
        let before = try Data(contentsOf: dir.appendingPathComponent("ks.vault"))
        for extra in [0, 1, 100] {
            let r = try runLimited(before.count + extra, ["open"] + args + [blob])
            assertFails(r, 1, "cannot write", "ks.vault", "file too large", "free some space")
            XCTAssertFalse(r.stderr.contains("pwrite"), r.stderr)
            XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("ks.vault")), before)
        }
        let r = try run(["open"] + args + [blob])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("Acme BV\texact-online\t"))
    }

    /// A full disk while `seal -o` writes the blob: the same advice as for the keystore, and
    /// neither the output file nor its temporary file is left.
    func testSealOutputOnAFullDiskLeavesNothing() throws {
        try writeInput()
        let before = try files()
        for limit in [0, 100] {
            let r = try runLimited(limit, "seal", "--to", pub, "--expect-fingerprint", fingerprint, "--label", "Acme BV",
                                   "--input", "creds.json", "-o", "acme.vault")
            assertFails(r, 1, "cannot write", "acme.vault", "file too large", "the disk is full", "nothing was written")
            XCTAssertEqual(try files(), before)
        }
    }

    /// A keystore its user owns in a folder they cannot write: the lock file cannot be made,
    /// and the message says that the folder must be writable. Root ignores permissions, so the
    /// command runs as nobody; skipped when the tests do not run as root.
    func testUnwritableFolderIsExplained() throws {
        try XCTSkipUnless(getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"),
                          "needs root to run vault as nobody")
        let (args, blob) = try keystoreAndBlob()
        XCTAssertEqual(chmod(dir.path, 0o755), 0)
        unlink(path("ks.vault.lock"))
        for name in ["ks.vault", "ks.key"] { XCTAssertEqual(chown(path(name), 65534, 65534), 0) }
        XCTAssertEqual(chmod(path(blob), 0o644), 0)
        let before = try Data(contentsOf: dir.appendingPathComponent("ks.vault"))
        let r = try CLI.run(["open"] + args + [blob], in: dir,
                            wrapper: ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        assertFails(r, 1, "ks.vault.lock", "permission denied", "must be writable by this user", "not changed")
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("ks.vault")), before)
    }
}
