import Foundation
import XCTest
import VaultKit

/// Issue 8, item 11 (parts): bytes that are not UTF-8 are refused wherever text is read, never
/// turned into U+FFFD (two byte strings, one meaning); a closed standard output is a failure
/// with status 1, not death by SIGPIPE (141, outside CLI.md's 0/1/2).
final class BytesAndPipesTests: IntegratorTestCase {
    /// Runs `script` in bash (no terminal; `$VAULT` is the binary) in the scratch directory:
    /// bash can put bytes into arguments and variables that a Swift `String` cannot hold.
    func bash(_ script: String) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        p.arguments = ["-w", "/bin/bash", "--norc", "--noprofile", "-c", script]
        p.currentDirectoryURL = dir
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("VAULT_") }
        env["VAULT"] = CLI.binary
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    func request(label: [UInt8]) throws -> Data {
        var text = Array([HandoffRequest.begin, "Recipient: \(identity.recipient)", "Fingerprint: \(identity.fingerprint.canonical)"]
            .joined(separator: "\n").utf8) + Array("\nLabel: ".utf8)
        text += label
        text += Array("\nCode: \(Handoff.newCode())\nExpires: 2099-01-01T00:00:00Z\n\(HandoffRequest.end)\n".utf8)
        return Data(text)
    }

    func testARequestWithInvalidUTF8IsRefused() throws {
        try makeKeystore()
        // "Acme \xff BV" read as "Acme \u{fffd} BV": the same request as the UTF-8 one with
        // U+FFFD, though the bytes differ.
        try request(label: Array("Acme ".utf8) + [0xff] + Array(" BV".utf8)).write(to: dir.appendingPathComponent("bad.txt"))
        for command in [["inspect", "bad.txt"], ["fingerprint", "bad.txt"]] {
            let r = try run(command)
            assertFails(r, 1, "'Label'", "UTF-8")
            XCTAssertFalse(r.stderr.contains("\u{fffd}"))
        }
        // A lone continuation byte, an overlong form, a surrogate: each refused.
        for bytes: [UInt8] in [[0x80], [0xc0, 0x80], [0xed, 0xa0, 0x80]] {
            try request(label: Array("A".utf8) + bytes).write(to: dir.appendingPathComponent("bad2.txt"))
            assertFails(try run("inspect", "bad2.txt"), 1, "UTF-8")
        }
        // The same label in UTF-8 is fine.
        try request(label: Array("Acme \u{fffd} BV".utf8)).write(to: dir.appendingPathComponent("good.txt"))
        XCTAssertEqual(try run("inspect", "good.txt").status, 0)
    }

    func testAPublicKeyFileWithInvalidUTF8IsRefused() throws {
        var text = Array("# fingerprint: \(fingerprint)\n# made by ".utf8) + [0xe9] + Array("quipe\n\(recipient)\n".utf8)
        try Data(text).write(to: dir.appendingPathComponent("latin1.pub"))
        assertFails(try run("fingerprint", "latin1.pub"), 1, "UTF-8")
        text = Array("# fingerprint: \(fingerprint)\n\(recipient)\n".utf8)
        try Data(text).write(to: dir.appendingPathComponent("ok.pub"))
        XCTAssertEqual(try run("fingerprint", "ok.pub").status, 0)
    }

    func testArgumentsAndVariablesThatAreNotUTF8AreUsageMistakes() throws {
        try makeKeystore()
        // A file whose name is not UTF-8 exists; 0.1.0 read the argument as 'a\u{fffd}.txt' and
        // looked for that other name.
        let arg = try bash(#"printf x > "$(printf 'a\377.txt')"; exec "$VAULT" inspect "$(printf 'a\377.txt')""#)
        assertFails(arg, 2, "argument 2", "UTF-8")
        let label = try bash(#"exec "$VAULT" get "$(printf 'Acme\377')" client_id --keystore ks.vault --key-file ks.key"#)
        assertFails(label, 2, "argument 2", "UTF-8")
        let variable = try bash(#"VAULT_KEYSTORE="$(printf 'ks\377.vault')" exec "$VAULT" list --key-file ks.key"#)
        assertFails(variable, 2, "VAULT_KEYSTORE", "UTF-8")
    }

    /// stdout is a pipe whose reader has gone: every command that prints data fails with
    /// status 1 and says so, instead of dying by SIGPIPE (status 141 in a shell).
    func testAClosedStandardOutputIsAFailureNotASignal() throws {
        try makeKeystore()
        try write("acme.vault", try sealed("Acme BV"))
        XCTAssertEqual(try vault("open", "acme.vault").status, 0)
        let commands: [[String]] = [
            ["fingerprint", pub],
            ["recipient", "--keystore", ks, "--key-file", keyFile],
            ["list", "--keystore", ks, "--key-file", keyFile],
            ["list", "--json", "--keystore", ks, "--key-file", keyFile],
            ["get", "Acme BV", "client_secret", "--keystore", ks, "--key-file", keyFile],
            ["export", "Acme BV", "--keystore", ks, "--key-file", keyFile],
            ["inspect", "acme.vault"],
        ]
        for args in commands {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: CLI.binary)
            p.arguments = args
            p.currentDirectoryURL = dir
            p.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("VAULT_") }
            let out = Pipe(), err = Pipe()
            p.standardOutput = out
            p.standardError = err
            p.standardInput = FileHandle.nullDevice
            // The reader is gone before vault writes a byte.
            try out.fileHandleForReading.close()
            try p.run()
            try out.fileHandleForWriting.close()
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationReason, .exit, "\(args[0]): killed by signal \(p.terminationStatus)")
            XCTAssertEqual(p.terminationStatus, 1, "\(args[0]): \(stderr)")
            XCTAssertTrue(stderr.contains("vault: error: cannot write to standard output"), "\(args[0]): \(stderr)")
            XCTAssertTrue(stderr.contains("broken pipe"), "\(args[0]): \(stderr)")
            XCTAssertFalse(stderr.contains(secret), "\(args[0]): a secret in the message")
        }
    }
}
