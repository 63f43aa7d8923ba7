import Foundation
import XCTest
import VaultKit

/// `vault export --format env` (CLI.md): the sender chooses a generic entry's field names, so the
/// variable names are the prefix plus the name, and a name a shell, the dynamic loader or an
/// interpreter acts on is refused. Each attack is a blob sealed by the built `vault seal`, opened
/// by `vault open`, and the output really evaluated by bash.
final class ExportEnvTests: IntegratorTestCase {
    /// What the attacker's `ps4` field runs when bash traces a command with that PS4.
    let marker = "ran-by-ps4"

    override func setUpWithError() throws {
        try super.setUpWithError()
        try makeKeystore()
    }

    /// Seals a generic entry with `fields` (a JSON object) through the CLI and opens it.
    func store(_ label: String, _ fields: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let blob = try sealed(label, extra: ["--type", "generic"], input: fields)
        try write("\(label).vault", blob)
        let r = try vault("open", "\(label).vault")
        XCTAssertEqual(r.status, 0, r.stderr, file: file, line: line)
    }

    /// Runs `script` in `bash --norc --noprofile` in the scratch directory; returns its stdout.
    func bash(_ script: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["--norc", "--noprofile", "-c", script]
        p.currentDirectoryURL = dir
        p.environment = ["PATH": "/usr/bin:/bin", "HOME": dir.path]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    func testASealedPS4OrPathFieldCannotReachTheShell() throws {
        // The attack of issue 8, item 1: under `set -x`, bash expands PS4 before each traced
        // command, so a sender's `ps4` ran a command; a `path` field replaced PATH.
        try store("Evil", #"{"ps4":"$(echo \#(marker) > \#(marker))+ ","path":"/nonexistent","ifs":"x","api_key":"k'v"}"#)
        let export = try reveal("export", "Evil", "--format", "env")
        XCTAssertEqual(export.status, 0, export.stderr)
        XCTAssertEqual(export.stdout, """
            VAULT_PS4='$(echo \(marker) > \(marker))+ '
            VAULT_PATH='/nonexistent'
            VAULT_IFS='x'
            VAULT_API_KEY='k'\\''v'

            """)
        try write("evil.env", export.stdout)
        let sh = try bash("set -x; eval \"$(cat evil.env)\"; true; printf '%s|%s|%s' \"$PATH\" \"$VAULT_PS4\" \"$VAULT_API_KEY\"")
        XCTAssertEqual(sh.status, 0, sh.stderr)
        XCTAssertEqual(sh.stdout, "/usr/bin:/bin|$(echo \(marker) > \(marker))+ |k'v", "values read back exactly; PATH untouched")
        XCTAssertFalse(try files().contains(marker), "the sender's PS4 ran a command")
    }

    func testAnotherPrefix() throws {
        try store("Acme", #"{"api_key":"a","url":"https://x.example"}"#)
        let r = try reveal("export", "Acme", "--format", "env", "--prefix", "ACME_2_")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "ACME_2_API_KEY='a'\nACME_2_URL='https://x.example'\n")
    }

    func testAPrefixOutsideTheRuleIsAUsageMistake() throws {
        try store("Acme", #"{"api_key":"a"}"#)
        for prefix in ["", "_", "VAULT", "vault_", "1A_", "A-B_", "A B_", "A=B_", "É_", "LD_", "LD_X_", "DYLD_", "BASH_",
                       "BASH_FUNC_", "MALLOC_", "GLIBC_", "LC_"] {
            let r = try vault("export", "Acme", "--format", "env", "--prefix", prefix)
            XCTAssertEqual(r.status, 2, "\(prefix): \(r.stderr)")
            XCTAssertEqual(r.stdout, "", prefix)
            XCTAssertTrue(r.stderr.hasPrefix("vault: error: --prefix"), "\(prefix): \(r.stderr)")
        }
        // --prefix means nothing to JSON: a usage mistake, not silently ignored.
        let json = try vault("export", "Acme", "--prefix", "APP_")
        XCTAssertEqual(json.status, 2, json.stderr)
        XCTAssertEqual(json.stdout, "")
    }

    func testANameAShellOrLoaderActsOnIsRefusedAndNothingIsPrinted() throws {
        // With a prefix the integrator chose, a sender's field can still complete a dangerous
        // name: PROMPT_ + command, NODE_ + options, JAVA_ + tool_options, GCONV_ + path.
        try store("Evil", #"{"api_key":"first","command":"$(echo \#(marker) > \#(marker))","options":"--require /tmp/x.js","tool_options":"-javaagent:x","path":"/tmp"}"#)
        // Refused before the read: nothing handed out, so no audit record, the keystore unchanged.
        let before = try digest(ks)
        for (prefix, field) in [("PROMPT_", "command"), ("NODE_", "options"), ("JAVA_", "tool_options"), ("GCONV_", "path"),
                                ("RES_", "options")] {
            let r = try reveal("export", "Evil", "--format", "env", "--prefix", prefix)
            XCTAssertEqual(try digest(ks), before, "a refused export logs no read")
            XCTAssertEqual(r.status, 1, "\(prefix)\(field): \(r.stderr)")
            XCTAssertEqual(r.stdout, "", "nothing is printed, not even the fields before it")
            XCTAssertTrue(r.stderr.hasPrefix("vault: error: "), r.stderr)
            XCTAssertTrue(r.stderr.contains("'\(field)'"), "names the field: \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(prefix + field.uppercased()), "names the variable: \(r.stderr)")
            XCTAssertFalse(r.stderr.contains("first"), "no value in the message")
        }
        // vault's own variables are refused too: a sender's `keystore` would redirect later
        // vault commands in the same shell to a keystore of their choosing.
        try store("Own", #"{"keystore":"/tmp/theirs.vault","key_file":"/tmp/theirs.key"}"#)
        let own = try reveal("export", "Own", "--format", "env")
        XCTAssertEqual(own.status, 1, own.stderr)
        XCTAssertEqual(own.stdout, "")
        XCTAssertTrue(own.stderr.contains("VAULT_KEYSTORE"), own.stderr)
    }

    func testExactOnlineNamesCarryThePrefix() throws {
        try write("acme.vault", try sealed("Acme BV"))
        XCTAssertEqual(try vault("open", "acme.vault").status, 0)
        let r = try reveal("export", "Acme BV", "--format", "env")
        XCTAssertEqual(r.stdout, "VAULT_CLIENT_ID='\(clientID)'\nVAULT_CLIENT_SECRET='\(secret)'\nVAULT_REGION='nl'\n")
    }
}
