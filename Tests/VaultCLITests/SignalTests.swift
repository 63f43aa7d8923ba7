import Foundation
import XCTest

/// Issue 8, item 7: no crash report from the Swift runtime, and the terminal restored on every
/// signal that ends or stops vault at a passphrase prompt. Driven through a pseudo-terminal by
/// Scripts/signals.py (pexpect), with real shells (dash, bash) for job control.
final class SignalTests: IntegratorTestCase {
    static let script = CLI.packageRoot.appendingPathComponent("Tests/VaultCLITests/Scripts/signals.py").path

    override func setUpWithError() throws {
        try super.setUpWithError()
        try makePassphraseKeystore()
    }

    func scenario(_ name: String, _ arg: String, file: StaticString = #filePath, line: UInt = #line) throws {
        guard let python = InteractiveTests.python else { throw XCTSkip("python3 with pexpect is not available") }
        var output = ""
        let status = InteractiveTests.shell([python, Self.script, name, arg, CLI.binary, dir.path, ks, passphrase], output: &output)
        XCTAssertEqual(status, 0, "\(name) \(arg): \(output)", file: file, line: line)
    }

    /// The runtime's backtracer caught these and printed registers and memory (and, at a
    /// terminal, waited for a key with echo off); now each ends vault at once, echo restored.
    func testCrashSignalsAtAPromptEndWithoutACrashReport() throws {
        for signal in ["SEGV", "BUS", "ILL", "FPE", "ABRT", "TRAP"] { try scenario("ending", signal) }
    }

    func testCtrlCAndCtrlBackslashAndKillRestoreTheTerminal() throws {
        for signal in ["INT", "QUIT", "TERM", "HUP", "USR1", "ALRM"] { try scenario("ending", signal) }
    }

    func testCrashSignalsWithoutATerminalPrintNoCrashReport() throws {
        for signal in ["SEGV", "BUS", "ABRT", "ILL"] { try scenario("no-terminal", signal) }
    }

    func testCtrlZGivesEchoBackAndFgTakesItAway() throws {
        let shells = ["dash", "bash"].filter { FileManager.default.isExecutableFile(atPath: "/bin/\($0)") }
        guard !shells.isEmpty else { throw XCTSkip("neither dash nor bash is installed") }
        for shell in shells { try scenario("stop", shell) }
    }

    /// Not a signal, but the same terminal: an answer in another encoding is asked again.
    func testAnAnswerThatIsNotUTF8IsAskedAgain() throws {
        try writeInput()
        try scenario("not-utf8", pub)
        guard let p = try? payload(try read("out.vault")) else { return XCTFail("no blob written") }
        XCTAssertEqual(p.label, "Acme BV")
    }

    func testBgThenFgAtAPrompt() throws {
        let shells = ["dash", "bash"].filter { FileManager.default.isExecutableFile(atPath: "/bin/\($0)") }
        guard !shells.isEmpty else { throw XCTSkip("neither dash nor bash is installed") }
        for shell in shells { try scenario("background", shell) }
    }
}
