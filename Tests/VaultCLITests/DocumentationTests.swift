import Foundation
import XCTest

/// Issue 9 item 4: no page and no `--help` example shows a way to handle a secret that leaves it
/// in shell history, in a command's arguments, in the environment or in a file others can read.
/// The pages' code blocks and every command's help, as the built binary prints it, are read
/// for the shapes that do: a secret typed into `echo`/`printf`/a here-document, a secret option,
/// an exported secret variable, `vault get`/`export` redirected without `umask 077`.
final class DocumentationTests: CLITestCase {
    /// The pages a person reads.
    func pages() throws -> [(name: String, text: String)] {
        let root = CLI.packageRoot
        var names = ["README.md", "SECURITY.md"]
        names += try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("docs").path)
            .filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
        return try names.map { ($0, try String(contentsOf: root.appendingPathComponent($0), encoding: .utf8)) }
    }

    /// The fenced code blocks of a Markdown page.
    func codeBlocks(_ text: String) -> [String] {
        var blocks: [String] = [], current: [String]? = nil
        for line in text.components(separatedBy: "\n") {
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") {
                if let c = current { blocks.append(c.joined(separator: "\n")); current = nil } else { current = [] }
            } else if current != nil {
                current!.append(line)
            }
        }
        return blocks
    }

    /// Every subcommand's help, from the binary.
    func helpTexts() throws -> [(name: String, text: String)] {
        let root = try run("--help")
        XCTAssertEqual(root.status, 0)
        guard let start = root.stdout.range(of: "SUBCOMMANDS:") else { XCTFail("no SUBCOMMANDS in help"); return [] }
        let names = root.stdout[start.upperBound...].split(separator: "\n").compactMap { line -> String? in
            let word = line.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init)
            // A command's line is indented by two spaces; its wrapped description by more.
            return word.flatMap { $0.allSatisfy { $0.isLowercase || $0 == "-" } && line.hasPrefix("  ") && !line.hasPrefix("   ") ? $0 : nil }
        }.filter { $0 != "help" }
        XCTAssertGreaterThanOrEqual(names.count, 12, "\(names)")
        return try names.map { name in
            let r = try run(name, "--help")
            XCTAssertEqual(r.status, 0, name)
            return ("vault \(name) --help", r.stdout)
        }
    }

    /// The reasons `code` handles a secret badly (empty when it does not).
    static func problems(_ code: String) -> [String] {
        var out: [String] = []
        let secretWord = try! NSRegularExpression(pattern: #"secret|passphrase|password|passw|token"#, options: [.caseInsensitive])
        func mentionsSecret(_ s: String) -> Bool { secretWord.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil }
        func matches(_ pattern: String, _ s: String) -> Bool { s.range(of: pattern, options: .regularExpression) != nil }
        if code.contains("<<") && mentionsSecret(code) {
            out.append("a here-document with a secret: an interactive shell keeps it in its history")
        }
        for line in code.components(separatedBy: "\n") {
            let l = line.trimmingCharacters(in: .whitespaces)
            if matches(#"(^|[;&|(]\s*)(echo|printf)\b"#, l) && mentionsSecret(l) {
                out.append("a secret typed into echo/printf (shell history): \(l)")
            }
            // `vault unlock add --passphrase` is a flag (the passphrase is asked); only a value after it is a secret.
            let flagsRemoved = l.contains("unlock add")
                ? l.replacingOccurrences(of: #"--passphrase(?=\s+--|\s*\\?$)"#, with: "--passphrase-flag", options: .regularExpression) : l
            if matches(#"--(client-secret|webhook-secret|passphrase|password|secret)([ =]|$)"#, flagsRemoved) {
                out.append("a secret as a command-line argument: \(l)")
            }
            if matches(#"\bexport\s+[A-Z_]*(SECRET|PASSPHRASE|PASSWORD|TOKEN)[A-Z_]*="#, l) {
                out.append("a secret in the environment: \(l)")
            }
            // A redirection is ` > file` (not `2>`, not the `<…>` of a usage line).
            if matches(#"vault (get|export)\b[^|]*\s>>?\s*[^&\s]"#, l) && !l.contains("umask 077") {
                out.append("a secret redirected into a file others may read (no umask 077): \(l)")
            }
        }
        return out
    }

    func testNoPageShowsAnUnsafeWayToHandleASecret() throws {
        var found: [String] = []
        for (name, text) in try pages() {
            for block in codeBlocks(text) { found += Self.problems(block).map { "\(name): \($0)" } }
        }
        for (name, text) in try helpTexts() {
            found += Self.problems(text).map { "\(name): \($0)" }
        }
        XCTAssertEqual(found, [], found.joined(separator: "\n"))
    }

    /// The checks themselves catch what issue 9 found (a test that cannot fail proves nothing).
    func testTheChecksCatchTheShapesTheyAreFor() {
        let bad = [
            "cat > creds.json <<'END'\n{\"client_id\": \"x\", \"client_secret\": \"…\"}\nEND",
            "echo 'my passphrase' > pass.txt",
            "vault seal --client-secret abc",
            "export CLIENT_SECRET=abc",
            "vault unlock add --passphrase hunter2",
            "vault unlock add --passphrase=hunter2 --name admin",
            "vault export \"Acme BV\" > /run/payroll/acme.json",
            "vault get \"Acme BV\" client_secret > secret.txt",
        ]
        for code in bad { XCTAssertFalse(Self.problems(code).isEmpty, code) }
        let good = [
            "(umask 077; vault export \"Acme BV\" > /run/payroll/acme.json)",
            "vault get \"Acme BV\" client_secret | program --secret-from-stdin",
            "vault seal --to integrator.pub --input - -o credentials.vault",
            "echo $?",
            "vault unlock add --passphrase --name admin --unlock-key-file server.key",
            "vault unlock add --passphrase",
            "vault unlock add --passphrase \\",
            "vault export --format env \"Acme BV\" 2>/dev/null",
        ]
        for code in good { XCTAssertEqual(Self.problems(code), [], code) }
    }

    /// docs/CUSTOMER.md's paste recipe, as a script would run it: JSON on standard input.
    func testTheJSONOnStandardInputRecipeWorks() throws {
        let json = #"{"client_id": "\#(clientID)", "client_secret": "\#(secret)", "region": "nl"}"#
        let r = try run(["seal", "--to", pub, "--expect-fingerprint", fingerprint, "--label", "Acme BV",
                         "--input", "-", "-o", "credentials.vault"], stdin: json)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stderr.contains("Paste"), "no paste prompt when standard input is not a terminal: \(r.stderr)")
        guard case .exactOnline(let c) = try payload(try read("credentials.vault")).credentials else { return XCTFail() }
        XCTAssertEqual(string(c.clientSecret), secret)
    }
}
