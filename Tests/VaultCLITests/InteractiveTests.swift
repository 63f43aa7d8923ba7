import Foundation
import XCTest
import VaultKit

/// `vault seal` at a terminal, driven through a pseudo-terminal by Scripts/interactive.py
/// (pexpect): echo really off, the fingerprint confirmed, a mistyped second secret caught.
final class InteractiveTests: CLITestCase {
    static let script = CLI.packageRoot.appendingPathComponent("Tests/VaultCLITests/Scripts/interactive.py").path

    /// Python with pexpect, installed with pip when missing; skips the test when neither works.
    static let python: String? = {
        func has(_ python: String) -> Bool { shell([python, "-c", "import pexpect"]) == 0 }
        for p in ["python3"] where has(p) { return p }
        _ = shell(["python3", "-m", "pip", "install", "--quiet", "pexpect"])
        return has("python3") ? "python3" : nil
    }()

    @discardableResult
    static func shell(_ args: [String], output: UnsafeMutablePointer<String>? = nil) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        guard (try? p.run()) != nil else { return -1 }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        output?.pointee = String(decoding: data, as: UTF8.self)
        return p.terminationStatus
    }

    func scenario(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        guard let python = Self.python else { throw XCTSkip("python3 with pexpect is not available") }
        var output = ""
        let status = Self.shell([python, Self.script, name, CLI.binary, dir.path, pub,
                                 key.publicKey.fingerprint.grouped, fingerprint], output: &output)
        XCTAssertEqual(status, 0, output, file: file, line: line)
    }

    func testFullConversation() throws {
        try scenario("full")
        let p = try payload(try read("acme.vault"))
        XCTAssertEqual(p.label, "Acme BV")
        XCTAssertEqual(p.from, "Jan")
        guard case .exactOnline(let c) = p.credentials else { return XCTFail() }
        XCTAssertEqual(c.clientID, clientID)
        XCTAssertEqual(string(c.clientSecret), secret, "the second, matching entry is the one sealed")
        XCTAssertEqual(c.webhookSecret.map(string), "Wh00kS3cretX")
        XCTAssertNil(c.region)
        XCTAssertEqual(c.redirectURI, "https://example.com/callback")
        XCTAssertNil(c.appName)
        XCTAssertEqual(c.division, 12)
    }

    func testDeclinedFingerprint() throws {
        try scenario("declined")
        XCTAssertFalse(try files().contains("declined.vault"))
    }

    func testExpectedFingerprintAsksOnlyWhatIsMissing() throws {
        try write("extra.json", #"{"region":"de"}"#)
        try scenario("expected")
        guard case .exactOnline(let c) = try payload(try read("expected.vault")).credentials else { return XCTFail() }
        XCTAssertEqual(c.region, .de)
        XCTAssertEqual(string(c.clientSecret), secret)
    }

    /// Issue 9 item 12: an unusual secret is questioned right after it is typed.
    func testAnUnusualSecretIsOfferedToBeTypedAgain() throws {
        try write("extra.json", #"{"region":"de"}"#)
        try scenario("unusual_secret")
        guard case .exactOnline(let c) = try payload(try read("unusual.vault")).credentials else { return XCTFail() }
        XCTAssertEqual(string(c.clientSecret), secret, "the second, retyped secret is sealed")
        try scenario("unusual_secret_kept")
        guard case .exactOnline(let k) = try payload(try read("kept.vault")).credentials else { return XCTFail() }
        XCTAssertEqual(string(k.clientSecret), "abc-def_ghi.jk")
    }

    /// Issue 9 item 13: a review of what will be sealed, where a field can be changed.
    func testTheReviewShowsEverythingAndChangesAField() throws {
        try write("extra.json", #"{"region":"de"}"#)
        try scenario("review_change")
        guard case .exactOnline(let c) = try payload(try read("reviewed.vault")).credentials else { return XCTFail() }
        XCTAssertEqual(c.clientID, clientID, "the client ID changed at the review")
        XCTAssertEqual(string(c.clientSecret), secret, "the secret changed at the review")
        XCTAssertEqual(c.region, .de)
        try scenario("review_stop")
        XCTAssertFalse(try files().contains("stopped.vault"))
    }

    /// docs/CUSTOMER.md's way to give the JSON without a file: pasted at a terminal, not echoed.
    func testPastedInputIsNotEchoed() throws {
        try scenario("paste")
        guard case .exactOnline(let c) = try payload(try read("pasted.vault")).credentials else { return XCTFail() }
        XCTAssertEqual(string(c.clientSecret), secret)
    }

    func testInterruptRestoresTheTerminal() throws {
        try scenario("interrupted")
        XCTAssertEqual(try files(), [pub])
    }
}
