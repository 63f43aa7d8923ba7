import Foundation
import XCTest
import VaultKit

/// What trying the whole hand-off by hand found (docs/HANDOFF-TRIAL.md): each a regression test
/// through the built binary.
final class TrialTests: IntegratorTestCase {
    func testAMistypedFileNameSuggestsTheNearest() throws {
        let r = try run("seal", "--to", "intgrator.pub", "--label", "x")
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("cannot read 'intgrator.pub': no such file or directory"), r.stderr)
        XCTAssertTrue(r.stderr.contains("vault: hint: did you mean 'integrator.pub'?"), r.stderr)
        let far = try run("inspect", "something-else.vault")
        XCTAssertFalse(far.stderr.contains("did you mean"), far.stderr)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try write("sub/acme.vault", "x")
        XCTAssertTrue(try run("inspect", "sub/acme.vaul").stderr.contains("did you mean 'sub/acme.vault'?"))
    }

    func testALabelWithSpacesWithoutQuotesIsShownQuoted() throws {
        let cases: [([String], String)] = [
            (["remove", "Acme", "BV"], "vault remove 'Acme BV'"),
            (["get", "Acme", "BV", "client_secret"], "vault get 'Acme BV' client_secret"),
            (["show", "--keystore", "ks.vault", "Acme", "B.V.", "NL"], "vault show 'Acme B.V. NL'"),
        ]
        for (args, quoted) in cases {
            let r = try run(args)
            XCTAssertEqual(r.status, 2, r.stderr)
            XCTAssertTrue(r.stderr.contains("vault: hint: a label with spaces is one argument, in quotes: \(quoted)"), r.stderr)
        }
    }

    func testTheRegionOptionTakesAnyCaseAsThePromptDoes() throws {
        try writeInput()
        let r = try run("seal", "--to", pub, "--label", "Acme BV", "--input", "creds.json", "--region", "BE")
        XCTAssertEqual(r.status, 0, r.stderr)
        guard case .exactOnline(let c) = try payload(r.stdout).credentials else { return XCTFail() }
        XCTAssertEqual(c.region, .be)
    }

    func testAFingerprintWithADigitMissingSaysSo() throws {
        let short = String(fingerprint.dropLast())
        let r = try run("fingerprint", pub, "--expect", short)
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("it has 63 hex digits, not 64 (one or more missing)"), r.stderr)
        XCTAssertFalse(r.stderr.contains("`vault fingerprint`"), "no hint to run the command that failed: \(r.stderr)")
        let s = try run("seal", "--to", pub, "--expect-fingerprint", fingerprint + "0")
        XCTAssertTrue(s.stderr.contains("65 hex digits, not 64 (one or more too many)"), s.stderr)
    }

    func testAMistypedLabelOrFieldSuggestsTheNearest() throws {
        try makeKeystore()
        try write("a.vault", try sealed("Acme BV"))
        XCTAssertEqual(try vault("open", "a.vault").status, 0)
        let label = try reveal("get", "acme bv", "client_id")
        XCTAssertEqual(label.status, 1)
        XCTAssertTrue(label.stderr.contains("vault: hint: did you mean 'Acme BV'?"), label.stderr)
        XCTAssertTrue(try vault("show", "Acme B").stderr.contains("did you mean 'Acme BV'?"))
        XCTAssertTrue(try vault("remove", "acme bv").stderr.contains("did you mean 'Acme BV'?"))
        let field = try reveal("get", "Acme BV", "client-secret")
        XCTAssertEqual(field.status, 1)
        XCTAssertEqual(field.stdout, "")
        XCTAssertTrue(field.stderr.contains("vault: hint: did you mean 'client_secret'?"), field.stderr)
        XCTAssertEqual(try labels(), ["Acme BV"])
    }

    func testSecretsRedirectedIntoAFileOthersCanReadAreWarnedAbout() throws {
        try makeKeystore()
        try write("a.vault", try sealed("Acme BV"))
        XCTAssertEqual(try vault("open", "a.vault").status, 0)
        for (mode, warned) in [(0o644, true), (0o600, false)] {
            let out = path("acme-\(mode).json")
            try write("acme-\(mode).json", "", mode: mode)
            let r = try sh("exec \"$VAULT\" export 'Acme BV' --keystore ks.vault --key-file ks.key > '\(out)'")
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(r.stderr.contains("vault: warning: standard output is a file that group or others can read (mode 644)"), warned, r.stderr)
            XCTAssertTrue(try read("acme-\(mode).json").contains(secret), "the secrets are still written where asked")
        }
    }

    /// `script` run by sh in the scratch directory, the binary in $VAULT, without a terminal.
    func sh(_ script: String) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        p.arguments = ["-w", "/bin/sh", "-c", script]
        p.currentDirectoryURL = dir
        p.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("VAULT_") }.merging(["VAULT": CLI.binary]) { $1 }
        let err = Pipe()
        p.standardError = err
        try p.run()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: "", stderr: String(decoding: e, as: UTF8.self))
    }
}
