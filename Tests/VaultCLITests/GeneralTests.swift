import Foundation
import XCTest

/// Version, help, completion scripts and usage mistakes common to every command.
final class GeneralTests: CLITestCase {
    func testVersion() throws {
        let r = try run("--version")
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdout.hasPrefix("vault 0."), r.stdout)
        XCTAssertTrue(r.stdout.contains("libsodium"))
        XCTAssertEqual(r.stderr, "")
    }

    func testHelpOfEveryCommandHasAnExample() throws {
        for command in [[], ["seal"], ["fingerprint"], ["inspect"]] {
            let r = try run(command + ["--help"])
            XCTAssertEqual(r.status, 0, "\(command)")
            XCTAssertTrue(r.stdout.contains("Example"), "no example in help of \(command)")
            XCTAssertTrue(r.stdout.contains("USAGE: vault"), r.stdout)
            XCTAssertEqual(r.stderr, "")
        }
        let r = try run("help", "seal")
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdout.contains("--expect-fingerprint"))
    }

    func testCompletionScripts() throws {
        for shell in ["bash", "zsh", "fish"] {
            let r = try run("--generate-completion-script", shell)
            XCTAssertEqual(r.status, 0, shell)
            XCTAssertTrue(r.stdout.contains("seal"), shell)
            XCTAssertTrue(r.stdout.contains("fingerprint"), shell)
        }
    }

    func testUsageMistakesExitTwoWithAHint() throws {
        let cases: [([String], String)] = [
            (["frobnicate"], "'frobnicate' is not a vault command"),
            (["seal", "--bogus"], "unknown option '--bogus'"),
            (["seal", "--division", "x"], "'x' is invalid for '--division"),
            (["seal", "--to"], "missing value for '--to"),
            (["fingerprint"], "missing expected argument"),
            (["inspect"], "missing expected argument '<file>'"),
            (["inspect", "a", "b"], "unexpected argument 'b'"),
            (["--generate-completion-script", "tcsh"], "tcsh"),
        ]
        for (args, words) in cases {
            let r = try run(args)
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
            XCTAssertEqual(r.stdout, "", "\(args)")
            XCTAssertTrue(r.stderr.hasPrefix("vault: error: "), r.stderr)
            XCTAssertTrue(r.stderr.contains(words), "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("vault: hint: see 'vault "), r.stderr)
            // Messages are lower case and end without a period.
            let first = r.stderr.split(separator: "\n")[0]
            XCTAssertFalse(first.hasSuffix("."), String(first))
        }
    }

    func testNoCommandIsAUsageMistake() throws {
        let r = try run([])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stdout, "")
        XCTAssertTrue(r.stderr.contains("SUBCOMMANDS"))
        XCTAssertTrue(r.stderr.contains("vault: error: no command given"))
    }

    func testControlCharactersInPublicInputAreEscaped() throws {
        let r = try run("fingerprint", "evil\u{1b}[2J.pub")
        XCTAssertEqual(r.status, 1)
        XCTAssertFalse(r.stderr.contains("\u{1b}"), "raw escape reached the terminal")
        XCTAssertTrue(r.stderr.contains("evil\\u{1b}[2J.pub"), r.stderr)
    }
}

/// The binary binds every symbol at start: lazy binding's resolver saves the vector registers on
/// the stack, which left fragments of a secret there (scripts/reliability/secret_hygiene.py).
final class LinkingTests: XCTestCase {
    func testTheBinaryIsLinkedWithBindNow() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["readelf", "-d", CLI.binary]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertTrue(text.contains("BIND_NOW"), "vault must be linked with -z now:\n\(text)")
    }
}

/// Issue 9 item 2: an option of the root command after a subcommand is a usage mistake, never
/// an answer to a question nobody asked with status 0.
final class RootOptionTests: CLITestCase {
    func testRootOptionsAfterASubcommandAreUsageMistakes() throws {
        let cases: [[String]] = [
            ["get", "Acme BV", "client_secret", "--version", "1"],
            ["get", "--version"],
            ["export", "Acme BV", "--version", "2"],
            ["seal", "--to", "x.pub", "--version"],
            ["list", "--generate-completion-script", "bash"],
            ["inspect", "x.vault", "--generate-completion-script=zsh"],
            ["fingerprint", "x.pub", "--experimental-dump-help"],
        ]
        for args in cases {
            let r = try run(args)
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
            XCTAssertEqual(r.stdout, "", "\(args): nothing on standard output")
            XCTAssertTrue(r.stderr.hasPrefix("vault: error: "), r.stderr)
            XCTAssertTrue(r.stderr.contains("is an option of vault itself, not of 'vault \(args[0])'"), r.stderr)
        }
    }

    func testRootOptionsWithOtherArgumentsAreUsageMistakes() throws {
        for args in [["--version", "get", "Acme BV", "client_id"], ["--version", "extra"],
                     ["--generate-completion-script", "bash", "extra"]] {
            let r = try run(args)
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
            XCTAssertEqual(r.stdout, "", "\(args)")
            XCTAssertTrue(r.stderr.contains("is used alone"), r.stderr)
        }
        // Alone they still answer; after `--` the text is an argument (a file named --version).
        XCTAssertEqual(try run("--version").status, 0)
        XCTAssertEqual(try run("--generate-completion-script=fish").status, 0)
        let file = try run("inspect", "--", "--version")
        XCTAssertEqual(file.status, 1, file.stderr)
        XCTAssertTrue(file.stderr.contains("cannot read '--version'"), file.stderr)
    }
}
