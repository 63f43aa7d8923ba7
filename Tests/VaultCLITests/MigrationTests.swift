import Foundation
import XCTest
import VaultKit

/// The keystores vault 0.1.0 wrote (Tests/VaultKitTests/Fixtures/keystore-v1), through the built
/// binary: upgraded on first use, said once, and read exactly as expected.tsv says.
final class MigrationTests: CLITestCase {
    static let fixtures = CLI.packageRoot.appendingPathComponent("Tests/VaultKitTests/Fixtures/keystore-v1")

    override func setUpWithError() throws {
        try super.setUpWithError()
        for name in try FileManager.default.contentsOfDirectory(atPath: Self.fixtures.path) {
            try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent(name), to: dir.appendingPathComponent(name))
            chmod(path(name), name == "replays" ? 0o700 : 0o600)
        }
        chmod(path("replays/acme-v1.vault"), 0o600)
    }

    func expected() throws -> [[String]] {
        try read("expected.tsv").split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
    }

    func keyed(_ args: String...) throws -> Run { try run(args + ["--keystore", "keyfile.vault", "--key-file", "keystore.key"]) }

    func testTheKeyFileKeystoreThroughTheBinary() throws {
        let rows = try expected()
        let first = try keyed("list", "--json")
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stderr.contains("vault: warning: upgraded the keystore 'keyfile.vault' from format 1 to format 2"), first.stderr)
        let listed = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(listed.compactMap { $0["label"] as? String }, ["Acme BV", "Bakkerij De Vries", "Café Zürich GmbH"])
        // Said once.
        let second = try keyed("list")
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertEqual(second.stderr, "")
        for (label, n) in [("Acme BV", 4), ("Bakkerij De Vries", 2), ("Café Zürich GmbH", 3)] {
            let row = rows[n - 1]
            for (field, value) in [("client_id", row[1]), ("client_secret", row[2]), ("webhook_secret", row[3]), ("region", "nl"),
                                   ("division", String(100000 + n))] {
                XCTAssertEqual(try keyed("get", label, field).stdout, value + "\n", "\(label) \(field)")
            }
        }
        let history = try keyed("show", "--history", "--json", "Acme BV")
        XCTAssertEqual(history.status, 0, history.stderr)
        let versions = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(versions.count, 2)
        let old = try XCTUnwrap(versions.first?["fields"] as? [[String: Any]])
        XCTAssertEqual(old.first { $0["name"] as? String == "client_id" }?["value"] as? String, rows[0][1])
        let removed = try keyed("get", "Removed NV", "client_id")
        XCTAssertEqual(removed.status, 1)
        XCTAssertTrue(removed.stderr.contains("no entry 'Removed NV'"), removed.stderr)
        let before = try Data(contentsOf: dir.appendingPathComponent("keyfile.vault"))
        let replay = try keyed("open", "--allow-expired", "--replace", "replays/acme-v1.vault")
        XCTAssertEqual(replay.status, 1, replay.stderr)
        XCTAssertTrue(replay.stderr.contains("a replay"), replay.stderr)
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("keyfile.vault")), before)
        XCTAssertEqual(try keyed("recipient").stdout.split(separator: "\n").last.map(String.init),
                       try read("keyfile.pub").split(separator: "\n").last.map(String.init))
        let verify = try keyed("verify")
        XCTAssertEqual(verify.status, 0, verify.stderr)
        XCTAssertTrue(verify.stdout.contains("3 entries with 4 versions, 1 identity"), verify.stdout)
    }

    func testThePassphraseKeystoreThroughTheBinary() throws {
        let row = try expected()[4]
        let r = try run("get", "Pass BV", "client_secret", "--keystore", "passphrase.vault", "--passphrase-file", "passphrase.txt")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, row[2] + "\n")
        XCTAssertTrue(r.stderr.contains("upgraded the keystore"), r.stderr)
        let again = try run("get", "Pass BV", "webhook_secret", "--keystore", "passphrase.vault", "--passphrase-file", "passphrase.txt")
        XCTAssertEqual(again.stdout, row[3] + "\n")
        XCTAssertEqual(again.stderr, "")
    }

    /// A folder this user cannot write (here: root's, the user nobody): read without upgrading,
    /// said so, and every change refused with the reason.
    func testAnUnwritableFolderIsReadWithoutUpgrading() throws {
        try XCTSkipUnless(getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "needs root to run vault as nobody")
        XCTAssertEqual(chmod(dir.path, 0o755), 0)
        for name in ["keyfile.vault", "keystore.key", "replays/acme-v1.vault"] { XCTAssertEqual(chown(path(name), 65534, 65534), 0) }
        chmod(path("replays"), 0o755)
        let nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        let before = try Data(contentsOf: dir.appendingPathComponent("keyfile.vault"))
        let list = try CLI.run(["list", "--keystore", "keyfile.vault", "--key-file", "keystore.key"], in: dir, wrapper: nobody)
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertTrue(list.stdout.contains("Bakkerij De Vries"), list.stdout)
        XCTAssertTrue(list.stderr.contains("is in format 1 and could not be upgraded here"), list.stderr)
        let remove = try CLI.run(["remove", "Acme BV", "--keystore", "keyfile.vault", "--key-file", "keystore.key"], in: dir, wrapper: nobody)
        XCTAssertEqual(remove.status, 1, remove.stderr)
        XCTAssertTrue(remove.stderr.contains("permission denied"), remove.stderr)
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("keyfile.vault")), before)
    }
}
