import Foundation
import XCTest
import VaultKit

/// The audit log through the built binary (issue 13): a record for every command that changes
/// the keystore or reads its secrets; `log --verify`, `--export`, `--verify --against`; and the
/// independent verifier of docs/AUDITOR.md (scripts/audit-verify.py, PyNaCl) on vault's exports.
final class AuditLogTests: IntegratorTestCase {
    func log(_ extra: String...) throws -> [[String: Any]] {
        let r = try vault(["log", "--json"] + extra)
        XCTAssertEqual(r.status, 0, r.stderr)
        return try XCTUnwrap(try json(r) as? [[String: Any]])
    }

    func vault(_ args: [String]) throws -> Run {
        let r = try CLI.run(args + ["--keystore", ks, "--key-file", keyFile], in: dir)
        assertNoSecret(r)
        return r
    }

    func operations() throws -> [String] { try log().compactMap { $0["operation"] as? String } }

    /// scripts/audit-verify.py with `args`, or a skip where PyNaCl is missing.
    func verifier(_ args: [String]) throws -> Run {
        let probe = try CLI.runProgram(["/usr/bin/env", "python3", "-c", "import nacl.bindings"], in: dir)
        guard probe.status == 0 else { throw XCTSkip("python3 with PyNaCl is not available") }
        let script = CLI.packageRoot.appendingPathComponent("scripts/audit-verify.py").path
        return try CLI.runProgram(["/usr/bin/env", "python3", script] + args, in: dir)
    }

    func testEveryCommandThatChangesOrReadsSecretsLeavesItsRecord() throws {
        try makeKeystore()
        var expected = ["init"]
        try write("acme.vault", try sealed("Acme BV"))
        XCTAssertEqual(try vault("open", "acme.vault").status, 0)
        expected.append("open")
        try write("acme2.vault", try sealed("Acme BV"))
        XCTAssertEqual(try vault("open", "--replace", "acme2.vault").status, 0)
        expected.append("replace")
        // A refused open changes nothing, so it leaves nothing.
        XCTAssertEqual(try vault("open", "acme.vault").status, 1)
        XCTAssertEqual(try reveal("get", "Acme BV", "client_secret").status, 0)
        expected.append("get")
        XCTAssertEqual(try reveal("get", "Acme BV", "no_such_field").status, 1)
        XCTAssertEqual(try reveal("export", "Acme BV", "--entry-version", "1").status, 0)
        expected.append("export")
        // What shows no secret writes nothing.
        for args in [["list"], ["show", "Acme BV"], ["show", "--history", "Acme BV"], ["recipient"], ["requests"], ["settings"],
                     ["log"], ["log", "--verify"], ["verify"]] {
            XCTAssertEqual(try vault(args).status, 0, "\(args)")
        }
        XCTAssertEqual(try vault("settings", "unlogged-reads", "off").status, 0)
        expected.append("setting")
        let code = try XCTUnwrap(try vault("request", "--label", "Bäckerei").stderr.split(separator: " ")
            .first { $0.count == 32 && $0.allSatisfy(\.isHexDigit) }.map(String.init))
        expected.append("request-issue")
        XCTAssertEqual(try vault("request", "--cancel", code).status, 0)
        expected.append("request-cancel")
        XCTAssertEqual(try vault("remove", "Acme BV").status, 0)
        expected.append("remove")
        try write("new.txt", passphrase + "\n")
        let p = try plain(["passwd", "--keystore", ks, "--key-file", keyFile, "--new-passphrase-file", "new.txt", "--kdf", "interactive"])
        XCTAssertEqual(p.status, 0, p.stderr)
        expected.append("passwd")
        let r = try plain(["log", "--json", "--keystore", ks, "--passphrase-file", "new.txt"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let records = try XCTUnwrap(try json(r) as? [[String: Any]])
        XCTAssertEqual(records.compactMap { $0["operation"] as? String }, expected)
        XCTAssertEqual(records.compactMap { $0["number"] as? Int }, Array(1...expected.count))
        let get = records[3]
        XCTAssertEqual(get["label"] as? String, "Acme BV")
        XCTAssertEqual(get["fields"] as? [String], ["client_secret"])
        let open = records[1]
        XCTAssertEqual(open["fingerprint"] as? String, identity.fingerprint.canonical)
        // The blob's SHA-256 is that of the binary blob the customer sent: an auditor can match it.
        XCTAssertEqual(open["blob_sha256"] as? String, Hex.encode(SHA256.hash(try binary(try read("acme.vault")))))
        XCTAssertEqual(records[4]["detail"] as? String, "entry version 1 of 2")
        XCTAssertEqual(records.last?["detail"] as? String, "passphrase")
        XCTAssertEqual(records[2]["previous"] as? String, records[1]["hash"] as? String)
    }

    /// `export --all` records every entry it hands out, before the first value, in one commit.
    func testExportAllLogsEveryEntry() throws {
        try makeKeystore()
        try write("a.vault", try sealed("Acme BV"))
        try write("b.vault", try sealed("Bäckerei"))
        XCTAssertEqual(try vault("open", "a.vault", "b.vault").status, 0)
        let before = try log().count
        let r = try reveal("export", "--all")
        XCTAssertEqual(r.status, 0, r.stderr)
        let added = Array(try log().dropFirst(before))
        XCTAssertEqual(added.compactMap { $0["operation"] as? String }, ["export", "export"])
        XCTAssertEqual(Set(added.compactMap { $0["label"] as? String }), ["Acme BV", "Bäckerei"])
        XCTAssertEqual(added[0]["fields"] as? [String], ["client_id", "client_secret", "region"])
    }

    func testListingFilters() throws {
        try makeKeystore()
        try write("a.vault", try sealed("Acme BV"))
        try write("b.vault", try sealed("Bäckerei"))
        XCTAssertEqual(try vault("open", "a.vault", "b.vault").status, 0)
        _ = try reveal("get", "Bäckerei", "client_id")
        // The label is compared as labels are: another Unicode form finds the same entry.
        let b = try log("--label", "Ba\u{308}ckerei")
        XCTAssertEqual(b.compactMap { $0["operation"] as? String }, ["open", "get"])
        XCTAssertEqual(try log("--since", "2000-01-01").count, 4)
        XCTAssertEqual(try log("--since", "2999-01-01T00:00:00Z").count, 0)
        let table = try vault("log")
        XCTAssertTrue(table.stdout.hasPrefix("NO  TIME"), table.stdout)
        XCTAssertTrue(table.stdout.contains("fields=client_id"), table.stdout)
        for (args, words) in [(["--since", "yesterday"], "--since 'yesterday'"), (["--verify", "--json"], "--verify takes only --against"),
                              (["--against", "x.json"], "--against FILE goes with --verify"), (["--export", "x", "--label", "a"], "--export writes")] {
            let r = try vault(["log"] + args)
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(words), "\(args): \(r.stderr)")
        }
    }

    /// An export, checked by the independent verifier; extended later and checked against
    /// the earlier one; a keystore put back to an older copy seen against a later export.
    func testExportsAreCheckedWithoutVaultAndAnOlderCopyIsSeen() throws {
        try makeKeystore()
        try write("a.vault", try sealed("Acme BV"))
        XCTAssertEqual(try vault("open", "a.vault").status, 0)
        let e1 = try vault("log", "--export", "audit-1.json")
        XCTAssertEqual(e1.status, 0, e1.stderr)
        XCTAssertEqual(try mode("audit-1.json"), 0o600)
        let fp = identity.fingerprint.canonical
        var v = try verifier(["audit-1.json", "--fingerprint", fp])
        XCTAssertEqual(v.status, 0, v.all)
        XCTAssertTrue(v.stdout.contains("all checks hold"), v.stdout)
        // Another fingerprint expected: refused.
        v = try verifier(["audit-1.json", "--fingerprint", try KeyPair.generate().publicKey.fingerprint.canonical])
        XCTAssertEqual(v.status, 1, v.all)

        let older = try Data(contentsOf: dir.appendingPathComponent(ks))
        _ = try reveal("get", "Acme BV", "client_secret")
        XCTAssertEqual(try vault("remove", "Acme BV").status, 0)
        XCTAssertEqual(try vault("log", "--export", "audit-2.json").status, 0)
        // The later export extends the earlier, for vault and for the verifier.
        let ok = try vault("log", "--verify", "--against", "audit-1.json")
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertTrue(ok.stdout.contains("audit log intact: 4 records"), ok.stdout)
        XCTAssertTrue(ok.stdout.contains("extends 'audit-1.json' (2 records"), ok.stdout)
        v = try verifier(["audit-2.json", "--fingerprint", fp, "--earlier", "audit-1.json"])
        XCTAssertEqual(v.status, 0, v.all)
        XCTAssertTrue(v.stdout.contains("it extends the earlier export (2 records"), v.stdout)
        v = try verifier(["audit-1.json", "--fingerprint", fp, "--earlier", "audit-2.json"])
        XCTAssertEqual(v.status, 1, v.all)

        // The keystore put back to the older copy: intact by itself, not against the export.
        try older.write(to: dir.appendingPathComponent(ks))
        XCTAssertEqual(try vault("log", "--verify").status, 0)
        let before = try digest(ks)
        try assertRefused(try vault("log", "--verify", "--against", "audit-2.json"), 1, "does not extend 'audit-2.json'",
                          "the keystore's log holds 2 records, the export 4", "put back to an older copy", unchanged: before)
        // Written since, until as long as the export: the records differ.
        for _ in 0..<3 { _ = try reveal("get", "Acme BV", "client_id") }
        let d = try vault("log", "--verify", "--against", "audit-2.json")
        XCTAssertEqual(d.status, 1)
        XCTAssertTrue(d.stderr.contains("record 3 differs from the export's"), d.stderr)
        XCTAssertEqual(try vault("log", "--export", "audit-3.json").status, 0)
        v = try verifier(["audit-3.json", "--fingerprint", fp, "--earlier", "audit-2.json"])
        XCTAssertEqual(v.status, 1, v.all)
        XCTAssertTrue(v.stdout.contains("record 3 differs"), v.stdout)
    }

    /// An export edited by hand: a record changed, removed, reordered, the tail cut: the
    /// verifier and vault both refuse it.
    func testAnEditedExportIsRefusedByTheVerifierAndByVault() throws {
        try makeKeystore()
        try write("a.vault", try sealed("Acme BV"))
        XCTAssertEqual(try vault("open", "a.vault").status, 0)
        for _ in 0..<2 { _ = try reveal("get", "Acme BV", "client_secret") }
        XCTAssertEqual(try vault("log", "--export", "audit.json").status, 0)
        let text = try read("audit.json")
        let fp = identity.fingerprint.canonical
        var doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let records = try XCTUnwrap(doc["records"] as? [[String: Any]])
        func attempt(_ name: String, _ edit: ([[String: Any]]) -> [[String: Any]], count: Int? = nil, _ words: String) throws {
            var d = doc
            d["records"] = edit(records)
            if let count { d["count"] = count }
            try JSONSerialization.data(withJSONObject: d).write(to: dir.appendingPathComponent(name))
            let v = try verifier([name, "--fingerprint", fp])
            XCTAssertEqual(v.status, 1, "\(name): \(v.all)")
            XCTAssertTrue(v.stdout.contains(words), "\(name): \(v.stdout)")
            let r = try vault("log", "--verify", "--against", name)
            XCTAssertEqual(r.status, 1, "\(name): \(r.stderr)")
        }
        // The readable operation changed (bytes left): both refuse it.
        try attempt("changed.json", { rs in var rs = rs; rs[3]["operation"] = "list"; return rs }, "the readable operation differs")
        // A record's bytes replaced by another's: its hash no longer matches.
        try attempt("bytes.json", { rs in var rs = rs; rs[3]["record"] = rs[2]["record"]; return rs }, "is numbered 3")
        try attempt("removed.json", { rs in var rs = rs; rs.remove(at: 2); return rs }, "is numbered 4")
        try attempt("reordered.json", { rs in var rs = rs; rs.swapAt(2, 3); return rs }, "is numbered 4")
        try attempt("cut.json", { rs in Array(rs.prefix(3)) }, "holds 3 records, but its signed head counts 4")
        try attempt("recounted.json", { rs in Array(rs.prefix(3)) }, count: 3, "the signature of the head does not verify")
        doc["time"] = "2000-01-01T00:00:00Z"
        try attempt("retimed.json", { $0 }, "the signature of the head does not verify")
    }
}

extension CLI {
    /// Runs any program (not vault) in `directory`, without a terminal.
    static func runProgram(_ argv: [String], in directory: URL) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        p.currentDirectoryURL = directory
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }
}
