import Foundation
import XCTest
import VaultKit

/// Issue 9 item 3: the versions `show --history` lists can be read back with `get` and
/// `export --entry-version N`, and one can be put back as the current version by the recipe in
/// docs/INTEGRATOR.md, which the replay ledger then records.
final class EntryVersionTests: IntegratorTestCase {
    let newSecret = "NewS3cretAbc"

    /// Version 1 with `secret`, version 2 (current) with `newSecret`.
    func makeTwoVersions() throws -> (first: String, second: String) {
        try makeKeystore()
        let first = try sealed("Acme BV")
        let second = try sealed("Acme BV", input: #"{"client_id":"\#(clientID)","client_secret":"\#(newSecret)","region":"de"}"#)
        try write("v1.vault", first)
        try write("v2.vault", second)
        XCTAssertEqual(try vault("open", "v1.vault").status, 0)
        XCTAssertEqual(try vault("open", "--replace", "v2.vault").status, 0)
        return (first, second)
    }

    func testGetAndExportReadAnEarlierVersion() throws {
        _ = try makeTwoVersions()
        XCTAssertEqual(try reveal("get", "Acme BV", "client_secret").stdout, newSecret + "\n")
        XCTAssertEqual(try reveal("get", "Acme BV", "client_secret", "--entry-version", "2").stdout, newSecret + "\n")
        XCTAssertEqual(try reveal("get", "Acme BV", "client_secret", "--entry-version", "1").stdout, secret + "\n")
        XCTAssertEqual(try reveal("get", "--entry-version", "1", "Acme BV", "region").stdout, "nl\n")
        let export = try reveal("export", "--entry-version", "1", "Acme BV")
        XCTAssertEqual(export.status, 0, export.stderr)
        let object = try XCTUnwrap(try json(export) as? [String: Any])
        XCTAssertEqual(object["client_secret"] as? String, secret)
        let env = try reveal("export", "--format", "env", "--entry-version", "1", "Acme BV")
        XCTAssertTrue(env.stdout.contains("'\(secret)'"), env.stdout)

        // No such version: status 1, saying how many there are; 0 is a usage mistake.
        let three = try reveal("get", "Acme BV", "client_secret", "--entry-version", "3")
        XCTAssertEqual(three.status, 1, three.stderr)
        XCTAssertEqual(three.stdout, "")
        XCTAssertTrue(three.stderr.contains("has 2 versions"), three.stderr)
        XCTAssertTrue(three.stderr.contains("vault show --history"), three.stderr)
        XCTAssertEqual(try reveal("export", "Acme BV", "--entry-version", "0").status, 2)
        // vault's own --version is no way to ask: status 2, pointing to --entry-version.
        let root = try reveal("get", "Acme BV", "client_secret", "--version", "1")
        XCTAssertEqual(root.status, 2)
        XCTAssertEqual(root.stdout, "")
        XCTAssertTrue(root.stderr.contains("--entry-version"), root.stderr)
    }

    func testShowNumbersVersionsAsEntryVersionTakesThem() throws {
        _ = try makeTwoVersions()
        let history = try vault("show", "--history", "Acme BV")
        XCTAssertTrue(history.stdout.contains("entry version 1 of 2\n"), history.stdout)
        XCTAssertTrue(history.stdout.contains("entry version 2 of 2 (current)\n"), history.stdout)
        let one = try vault("show", "--entry-version", "1", "Acme BV")
        XCTAssertTrue(one.stdout.contains("entry version: 1 of 2\n"), one.stdout)
        XCTAssertTrue(one.stdout.contains("region:        nl"), one.stdout)
        let items = try XCTUnwrap(try json(try vault("show", "--history", "--json", "Acme BV")) as? [[String: Any]])
        XCTAssertEqual(items.map { $0["entry_version"] as? Int }, [1, 2])
        let current = try XCTUnwrap(try json(try vault("show", "--json", "Acme BV")) as? [String: Any])
        XCTAssertEqual(current["entry_version"] as? Int, 2)
        XCTAssertEqual(try vault("show", "--history", "--entry-version", "1", "Acme BV").status, 2)
    }

    /// docs/INTEGRATOR.md's recipe, run by a shell: export the old version, seal it to our own
    /// key, open it as the new current version. No secret on a command line or in a file.
    func testAnEarlierVersionIsPutBackByTheDocumentedRecipe() throws {
        let (first, _) = try makeTwoVersions()
        try write("integrator.pub", try vault("recipient").stdout)
        let script = """
        "$VAULT" export --entry-version 1 "Acme BV" \\
          | "$VAULT" seal --to integrator.pub --expect-fingerprint "$FP" --label "Acme BV" \\
                --note "entry version 1 put back" --input - \\
          | "$VAULT" open --replace -
        """
        let r = try shell(script)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "Acme BV\texact-online\t\(clientID)\n")
        XCTAssertEqual(try reveal("get", "Acme BV", "client_secret").stdout, secret + "\n")
        let items = try XCTUnwrap(try json(try vault("show", "--history", "--json", "Acme BV")) as? [[String: Any]])
        XCTAssertEqual(items.count, 3)
        XCTAssertEqual(items.last?["note"] as? String, "entry version 1 put back")
        // The replay ledger holds all three blob ids: the original e-mail of version 1 is still
        // refused, so re-opening it is no way back.
        try write("again.vault", first)
        let before = try digest(ks)
        try assertRefused(try vault("open", "--replace", "again.vault"), 1, "already opened", "'Acme BV'", unchanged: before)
    }

    /// Runs `script` with sh in the scratch directory, the keystore and key file in the environment.
    func shell(_ script: String) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        p.arguments = ["-w", "/bin/sh", "-c", script]
        p.currentDirectoryURL = dir
        p.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("VAULT_") }.merging(
            ["VAULT": CLI.binary, "VAULT_KEYSTORE": ks, "VAULT_KEY_FILE": keyFile, "FP": identity.fingerprint.canonical]) { $1 }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }
}
