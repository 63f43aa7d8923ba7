import Foundation
import XCTest
import VaultKit

/// `postgres://` keystore addresses through the built binary (docs/KEYSTORE.md §13). Without the
/// PostgreSQL trait an address is refused, naming the build that supports it; with it, addresses
/// holding a password are refused unechoed, and on the server VAULT_TEST_POSTGRES names
/// (scripts/postgres/run) every keystore command runs against the database, and
/// `vault migrate` moves the keystore to a file and back, and a backup restores into the database.
final class PostgresCLITests: CLITestCase {
    let leaked = "hunter2pw"

    func testAnAddressWithAPasswordNeverReachesTheOutput() throws {
        try write("k.key", String(repeating: "x", count: 32))
        for args in [["list", "--keystore", "postgres://vault:\(leaked)@db.example/keys", "--key-file", "k.key"],
                     ["init", "--keystore", "postgresql://vault:\(leaked)@db.example/keys", "--with-key-file", "new.key"]] {
            let r = try run(args)
            XCTAssertFalse(r.all.contains(leaked), r.all)
            #if PostgreSQL
            XCTAssertEqual(r.status, 2, r.stderr)
            XCTAssertTrue(r.stderr.contains("holds a password; refusing it"), r.stderr)
            #else
            XCTAssertEqual(r.status, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains("built without PostgreSQL support"), r.stderr)
            XCTAssertTrue(r.stderr.contains("--traits PostgreSQL"), r.stderr)
            #endif
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("new.key")), "nothing is made for a refused address")
        }
        let env = try CLI.run(["list", "--key-file", "k.key"], in: dir,
                              environment: ["VAULT_KEYSTORE": "postgres://vault:\(leaked)@db.example/keys"])
        XCTAssertFalse(env.all.contains(leaked), env.all)
        XCTAssertNotEqual(env.status, 0)
    }

    /// The release's layout: `vault` without the trait, `vault-postgres` (the same vault with
    /// it) beside it. A postgres:// address hands the command to the helper; a helper that is a
    /// copy of or a link to vault itself (a wrong install) never makes it run itself for ever:
    /// the command ends with the build's refusal (`timeout` turns a loop into status 124).
    func testADatabaseCommandNeverHandsItselfToItself() throws {
        #if PostgreSQL
        throw XCTSkip("a build with the trait runs database commands itself")
        #else
        try write("k.key", String(repeating: "x", count: 32))
        let bin = dir.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let vault = bin.appendingPathComponent("vault").path, helper = bin.appendingPathComponent("vault-postgres").path
        try FileManager.default.copyItem(atPath: CLI.binary, toPath: vault)
        for install in ["copy", "link"] {
            try? FileManager.default.removeItem(atPath: helper)
            if install == "copy" { try FileManager.default.copyItem(atPath: CLI.binary, toPath: helper) }
            else { try FileManager.default.createSymbolicLink(atPath: helper, withDestinationPath: "vault") }
            for address in [["--keystore", "postgres://vault@127.0.0.1:1/keys"], ["--keystore=postgresql://vault@127.0.0.1:1/keys"]] {
                let r = try CLI.runProgram(["/usr/bin/timeout", "20", vault, "list"] + address + ["--key-file", "k.key"], in: dir)
                XCTAssertEqual(r.status, 1, "\(install): \(r.stderr)")
                XCTAssertTrue(r.stderr.contains("built without PostgreSQL support"), r.stderr)
            }
        }
        #endif
    }

    /// The same layout with the real helper (scripts/postgres/run names a vault built without
    /// the trait in VAULT_TEST_PLAIN_VAULT; this test binary's vault has it): every command
    /// given a postgres:// address, through the argument or VAULT_KEYSTORE, runs in
    /// vault-postgres against the server, and a file keystore stays with vault.
    func testVaultWithoutTheTraitRunsDatabaseCommandsThroughVaultPostgres() throws {
        #if PostgreSQL
        let env = ProcessInfo.processInfo.environment
        guard let server = env["VAULT_TEST_POSTGRES"], let plain = env["VAULT_TEST_PLAIN_VAULT"] else {
            throw XCTSkip("needs VAULT_TEST_POSTGRES and VAULT_TEST_PLAIN_VAULT (scripts/postgres/run)")
        }
        let bin = dir.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let vault = bin.appendingPathComponent("vault").path
        try FileManager.default.copyItem(atPath: plain, toPath: vault)
        let db = server + (server.contains("?") ? "&" : "?") + "schema=helper_" + UUID().uuidString.prefix(8).lowercased()
        let refused = try CLI.runProgram([vault, "init", "--keystore", db, "--with-key-file", "ks.key"], in: dir)
        XCTAssertEqual(refused.status, 1, "no helper yet: \(refused.stderr)")
        XCTAssertTrue(refused.stderr.contains("built without PostgreSQL support"), refused.stderr)
        try FileManager.default.copyItem(atPath: CLI.binary, toPath: bin.appendingPathComponent("vault-postgres").path)
        let made = try CLI.runProgram([vault, "init", "--keystore", db, "--with-key-file", "ks.key"], in: dir)
        XCTAssertEqual(made.status, 0, made.stderr)
        let listed = try CLI.runProgram(["/usr/bin/env", "VAULT_KEYSTORE=" + db, vault, "list", "--key-file", "ks.key"], in: dir)
        XCTAssertEqual(listed.status, 0, listed.stderr)
        let file = try CLI.runProgram([vault, "init", "--keystore", "file.vault", "--with-key-file", "file.key"], in: dir)
        XCTAssertEqual(file.status, 0, file.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("file.vault")))
        #else
        throw XCTSkip("the helper is a build with the PostgreSQL trait (scripts/postgres/run)")
        #endif
    }

    #if PostgreSQL
    func testPasswordFilesOthersMayReadAreRefused() throws {
        try write("k.key", String(repeating: "x", count: 32))
        try write("db.pw", "\(leaked)\n", mode: 0o644)
        let r = try run("list", "--keystore", "postgres://vault@127.0.0.1:1/keys?sslmode=disable", "--key-file", "k.key",
                        "--db-password-file", "db.pw")
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("--db-password-file 'db.pw' can be read by group or others; refusing it"), r.stderr)
        try write("pgpass", "*:*:*:*:\(leaked)\n", mode: 0o640)
        let p = try CLI.run(["list", "--keystore", "postgres://vault@127.0.0.1:1/keys?sslmode=disable", "--key-file", "k.key"],
                            in: dir, environment: ["PGPASSFILE": path("pgpass")])
        XCTAssertEqual(p.status, 1, p.stderr)
        XCTAssertTrue(p.stderr.contains("PGPASSFILE"), p.stderr)
        XCTAssertFalse(p.all.contains(leaked) || r.all.contains(leaked))
    }

    func testAServerThatIsDownNamesTheAddress() throws {
        try write("k.key", String(repeating: "x", count: 32))
        let r = try run("list", "--keystore", "postgres://vault@127.0.0.1:1/keys?sslmode=disable", "--key-file", "k.key")
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("cannot reach the keystore's database 'postgres://vault@127.0.0.1:1/keys'"), r.stderr)
    }

    func testEveryKeystoreCommandRunsOnTheDatabaseAndMigrateMovesIt() throws {
        guard let server = ProcessInfo.processInfo.environment["VAULT_TEST_POSTGRES"] else {
            throw XCTSkip("no PostgreSQL server named (VAULT_TEST_POSTGRES)")
        }
        let schema = "cli_" + UUID().uuidString.prefix(8).lowercased()
        let db = server + (server.contains("?") ? "&" : "?") + "schema=" + schema
        func vault(_ args: String...) throws -> Run { try run(args + ["--keystore", db, "--key-file", "ks.key"]) }
        let made = try run("init", "--keystore", db, "--with-key-file", "ks.key")
        XCTAssertEqual(made.status, 0, made.stderr)
        let recipient = String(made.stdout.split(separator: "\n")[0])
        XCTAssertEqual(try run("init", "--keystore", db, "--with-key-file", "other.key").status, 1, "an existing keystore is never replaced")
        try writeInput()
        for label in ["Acme BV", "Beta BV"] {
            let s = try run("seal", "--to", recipient, "--label", label, "--input", "creds.json", "-o", "\(label).vault")
            XCTAssertEqual(s.status, 0, s.stderr)
        }
        let opened = try vault("open", "Acme BV.vault", "Beta BV.vault")
        XCTAssertEqual(opened.status, 0, opened.stderr)
        XCTAssertEqual(opened.stdout.split(separator: "\n").count, 2)
        let replay = try vault("open", "Acme BV.vault")
        XCTAssertEqual(replay.status, 1)
        XCTAssertTrue(replay.stderr.contains("a replay"), replay.stderr)
        XCTAssertEqual(try vault("list").stdout.split(separator: "\n").filter { $0.contains(" BV") }.count, 2)
        XCTAssertTrue(try vault("show", "Acme BV").stdout.contains(clientID))
        XCTAssertEqual(try vault("get", "Acme BV", "client_secret").stdout.trimmingCharacters(in: .newlines), secret)
        XCTAssertEqual(try vault("remove", "Beta BV").status, 0)
        XCTAssertTrue(try vault("verify").stdout.contains("1 entries with 1 versions"))
        XCTAssertEqual(try vault("recipient").status, 0)
        // To a file and back into a new schema: the same entries, and the replay still refused.
        let toFile = try run("migrate", "--from", db, "--to", "moved.vault", "--key-file", "ks.key")
        XCTAssertEqual(toFile.status, 0, toFile.stderr)
        XCTAssertTrue(toFile.stdout.contains("2 blob ids in the ledger"), toFile.stdout)
        XCTAssertEqual(try run("list", "--keystore", "moved.vault", "--key-file", "ks.key").stdout.split(separator: "\n").filter { $0.contains(" BV") }.count, 1)
        let back = db + "_back"
        let toDB = try run("migrate", "--from", "moved.vault", "--to", back, "--key-file", "ks.key")
        XCTAssertEqual(toDB.status, 0, toDB.stderr)
        let again = try run("open", "Beta BV.vault", "--keystore", back, "--key-file", "ks.key")
        XCTAssertTrue(again.stderr.contains("a replay"), again.stderr)
        let refused = try run("migrate", "--from", "moved.vault", "--to", back, "--key-file", "ks.key")
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("holds a keystore already; it is never replaced"), refused.stderr)
        // A backup of the database keystore, restored into another schema.
        try write("backup.txt", "a backup passphrase for the test\n")
        let backup = try vault("backup", "-o", "db.backup", "--backup-passphrase-file", "backup.txt", "--kdf", "interactive")
        XCTAssertEqual(backup.status, 0, backup.stderr)
        let restored = try run("restore", "db.backup", "--keystore", db + "_restored", "--backup-passphrase-file", "backup.txt")
        XCTAssertEqual(restored.status, 0, restored.stderr)
        XCTAssertTrue(try run("verify", "--keystore", db + "_restored", "--key-file", "ks.key").stdout.contains("1 entries with 1 versions"))
        let over = try run("restore", "db.backup", "--keystore", db + "_restored", "--backup-passphrase-file", "backup.txt")
        XCTAssertEqual(over.status, 1)
        XCTAssertTrue(over.stderr.contains("holds a keystore already"), over.stderr)
        let none = try run("list", "--keystore", db + "_none", "--key-file", "ks.key")
        XCTAssertEqual(none.status, 1)
        XCTAssertTrue(none.stderr.contains("no keystore in the database at"), none.stderr)
        try requestsSettingsAndTheAuditLog(db, fingerprint: String(made.stdout.split(separator: "\n")[1]))
    }

    /// Issue 13 on the database: a hand-off request answered, a setting, and the audit log
    /// listed, verified, exported, and still extended by a copy migrated out of the database.
    func requestsSettingsAndTheAuditLog(_ db: String, fingerprint: String) throws {
        func vault(_ args: String...) throws -> Run { try run(args + ["--keystore", db, "--key-file", "ks.key"]) }
        XCTAssertEqual(try vault("settings", "require-request", "on").status, 0)
        XCTAssertTrue(try vault("settings").stdout.contains("require-request"))
        let issued = try vault("request", "--label", "Gamma BV", "-o", "request.txt")
        XCTAssertEqual(issued.status, 0, issued.stderr)
        let sealed = try run("seal", "--request", "request.txt", "--expect-fingerprint", fingerprint, "--input", "creds.json", "-o", "gamma.vault")
        XCTAssertEqual(sealed.status, 0, sealed.stderr)
        let refused = try vault("open", "Acme BV.vault")
        XCTAssertEqual(refused.status, 1, "require-request refuses a blob that answers no request")
        let answered = try vault("open", "gamma.vault")
        XCTAssertEqual(answered.status, 0, answered.stderr)
        XCTAssertTrue(try vault("requests").stdout.contains("answered"))
        let log = try vault("log")
        XCTAssertEqual(log.status, 0, log.stderr)
        for op in ["init", "open", "get", "remove", "copy", "backup", "setting", "request-issue", "request-answer"] {
            XCTAssertTrue(log.stdout.contains(" \(op) "), "\(op) missing from\n\(log.stdout)")
        }
        let intact = try vault("log", "--verify")
        XCTAssertEqual(intact.status, 0, intact.stderr)
        XCTAssertTrue(intact.stdout.contains("audit log intact"), intact.stdout)
        XCTAssertEqual(try vault("log", "--export", "audit.json").status, 0)
        // Moved out of the database, the log still extends the export taken there.
        XCTAssertEqual(try run("migrate", "--from", db, "--to", "audited.vault", "--key-file", "ks.key").status, 0)
        let extends = try run("log", "--verify", "--against", "audit.json", "--keystore", "audited.vault", "--key-file", "ks.key")
        XCTAssertEqual(extends.status, 0, extends.stderr)
        XCTAssertTrue(extends.stdout.contains("extends 'audit.json'"), extends.stdout)
    }
    #endif
}
