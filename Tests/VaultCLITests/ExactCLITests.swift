import Foundation
import XCTest
import VaultKit

/// `vault connect`, `token`, `status`, `list` against the fake Exact Online on loopback, run as
/// the receiving system would run them. No test here reads a clock against a limit.
final class ExactCLITests: ExactTestCase {
    func testConnectTokenStatusAndList() throws {
        try setUpExact()
        let before = try exact("status", "Acme BV")
        XCTAssertEqual(before.status, 0, before.stderr)
        XCTAssertTrue(before.stdout.contains("no (never connected)"), before.stdout)
        assertFails(try token(), 1, "is not connected to Exact Online yet", "vault connect 'Acme BV'")
        try connect()
        let t = try token()
        XCTAssertEqual(t.status, 0, t.stderr)
        XCTAssertTrue(t.stdout.hasPrefix("AT1."), t.stdout)
        XCTAssertEqual(t.stdout.filter { $0 == "\n" }.count, 1)
        XCTAssertEqual(t.stderr, "")
        let j = try JSONSerialization.jsonObject(with: Data(try token("--json").stdout.utf8)) as? [String: String]
        XCTAssertEqual(j?["access_token"], t.stdout.trimmingCharacters(in: .newlines))
        XCTAssertEqual(j?["base_url"], fake.base)
        XCTAssertEqual(j?["token_type"], "bearer")
        XCTAssertNotNil(j?["expires"].flatMap(UTCTime.init(exact:)))
        XCTAssertEqual(try fake.counts()["token_requests"], 1, "a valid token needs no request")
        // A longer --min-valid than the token has left refreshes it.
        let fresh = try token("--min-valid", "3600")
        XCTAssertEqual(fresh.status, 1)
        XCTAssertTrue(fresh.stderr.contains("Exact issued an access token valid for"), fresh.stderr)
        XCTAssertEqual(try fake.counts()["refreshes"], 1)
        let status = try exact("status", "Acme BV", "--json")
        let s = try XCTUnwrap(try json(status) as? [String: Any])
        XCTAssertEqual(s["connection"] as? String, "connected")
        XCTAssertEqual(s["refresh_phase"] as? String, "clean")
        XCTAssertEqual(s["refresh_token_age_days"] as? Int, 0)
        XCTAssertNotNil(s["refreshed_at"] as? String)
        XCTAssertNil(status.stdout.range(of: #"AT[0-9]+\."#, options: .regularExpression), "no token in status")
        let list = try vault("list")
        XCTAssertTrue(list.stdout.contains("EXACT"), list.stdout)
        XCTAssertTrue(list.stdout.contains("connected"), list.stdout)
        let listed = try XCTUnwrap(try json(try vault("list", "--json")) as? [[String: Any]])
        XCTAssertEqual(listed.first?["connection"] as? String, "connected")
    }

    func testConnectListensOnTheLoopbackRedirect() throws {
        let port = 20000 + Int.random(in: 0..<20000)
        try setUpExact(redirectURI: "http://localhost:\(port)/callback")
        // vault connect --listen in the background; the "browser" follows the fake's redirect to it.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = ["connect", "Acme BV", "--listen", "--wait", "60", "--exact-base-url", fake.base, "--keystore", ks, "--key-file", keyFile]
        p.currentDirectoryURL = dir
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        var url = Data()
        while !url.contains(0x0a) {
            let chunk = out.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            url.append(chunk)
        }
        let page = try fake.python("print(urllib.request.urlopen(\(quote(String(decoding: url, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))).read().decode())")
        p.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 0, stderr)
        XCTAssertTrue(page.contains("vault has received Exact Online's answer"), page)
        XCTAssertTrue(stderr.contains("'Acme BV' is connected"), stderr)
        XCTAssertFalse(stderr.contains("could not be checked"), "the state was checked: \(stderr)")
        XCTAssertEqual(try token().status, 0)
    }

    func testConnectAtATerminalReadsThePasteWithEchoOff() throws {
        guard let python = InteractiveTests.python else { throw XCTSkip("python3 with pexpect is not available") }
        try setUpExact()
        var output = ""
        let script = CLI.packageRoot.appendingPathComponent("Tests/VaultCLITests/Scripts/connect_terminal.py").path
        let status = InteractiveTests.shell([python, script, CLI.binary, dir.path, ks, keyFile, fake.base], output: &output)
        XCTAssertEqual(status, 0, output)
        XCTAssertEqual(try token().status, 0)
    }

    func testAForeignStateOrACodeTwiceIsRefused() throws {
        try setUpExact()
        let first = try exact("connect", "Acme BV")
        let location = try fake.consent(first.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        // A second attempt records a new state: the first attempt's redirect no longer fits.
        _ = try exact("connect", "Acme BV")
        let stale = try exact("connect", "Acme BV", "--response", "-", stdin: location)
        XCTAssertEqual(stale.status, 1)
        XCTAssertTrue(stale.stderr.contains("its state differs"), stale.stderr)
        XCTAssertEqual(try fake.counts()["code_exchanges"], 0, "nothing was sent")
        // Only the code: accepted with a warning that the state was not checked.
        let code = String(location.split(separator: "=")[1].split(separator: "&")[0]).removingPercentEncoding!
        let bare = try exact("connect", "Acme BV", "--response", "-", stdin: code)
        XCTAssertEqual(bare.status, 0, bare.stderr)
        XCTAssertTrue(bare.stderr.contains("its state could not be checked"), bare.stderr)
        // The pending authorisation is used up.
        let again = try exact("connect", "Acme BV", "--response", "-", stdin: code)
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.stderr.contains("no authorisation of 'Acme BV' is waiting"), again.stderr)
    }

    func testEveryWayARefreshCanEnd() throws {
        // One-second tokens, asked for with --min-valid 0: a call refreshes once the stored token
        // has expired, and a failed refresh leaves it expired for the next call.
        try setUpExact(expiresIn: 1)
        try connect()
        // A server error: Exact did not rotate; the next call recovers and says so.
        try waitForExpiry()
        try fake.fail("500")
        assertFails(try token("--min-valid", "0"), 1, "HTTP 500", "may have replaced the refresh token")
        let recovered = try token("--min-valid", "0")
        XCTAssertEqual(recovered.status, 0, recovered.stderr)
        XCTAssertTrue(recovered.stderr.contains("got no usable answer; Exact still accepted the stored refresh token, so nothing was lost"), recovered.stderr)
        // No answer in time, nothing rotated: the same.
        try waitForExpiry()
        try fake.fail("hang")
        assertFails(try token("--min-valid", "0", "--timeout", "1"), 1, "no answer from Exact Online (timeout)")
        let again = try token("--min-valid", "0")
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("nothing was lost"), again.stderr)
        // Rotated, then no usable answer: the token is burnt, and the next call says so.
        for mode in ["malformed", "drop", "drop-after-answer", "rotate-hang"] {
            try waitForExpiry()
            try fake.fail(mode)
            let lost = try token("--min-valid", "0", "--timeout", "1")
            XCTAssertEqual(lost.status, 1, mode)
            XCTAssertTrue(lost.stderr.contains("it may have replaced the refresh token"), "\(mode): \(lost.stderr)")
            let burnt = try token("--min-valid", "0")
            XCTAssertEqual(burnt.status, 1, mode)
            XCTAssertTrue(burnt.stderr.contains("is burnt: a refresh sent at"), "\(mode): \(burnt.stderr)")
            XCTAssertTrue(burnt.stderr.contains("vault: hint: connect the entry again: vault connect 'Acme BV'"), burnt.stderr)
            // Later calls fail at once, without asking Exact.
            let requests = try fake.counts()["token_requests"]
            assertFails(try token(), 1, "vault does not ask Exact again")
            XCTAssertEqual(try fake.counts()["token_requests"], requests)
            XCTAssertTrue(try exact("status", "Acme BV").stdout.contains("no (Exact refused the refresh token"))
            try connect()
        }
        XCTAssertEqual(try fake.counts()["old_token_errors"], 4)
    }

    func testAWrongClientSecretLeavesTheRefreshTokenAlone() throws {
        try setUpExact(expiresIn: 1)
        try connect()
        try waitForExpiry()
        // An Exact that knows another client secret refuses the client, not the refresh token.
        let other = try FakeExact(clientSecret: "another-secret")
        others.append(other)
        let r = try CLI.run(["token", "Acme BV", "--min-valid", "0", "--exact-base-url", other.base, "--keystore", ks, "--key-file", keyFile], in: dir)
        assertFails(r, 1, "HTTP 401: invalid_client", "open their new blob with vault open --replace")
        XCTAssertEqual(try fake.counts()["token_requests"], 1)
        let fine = try token("--min-valid", "0")
        XCTAssertEqual(fine.status, 0, fine.stderr)
        XCTAssertEqual(fine.stderr, "")
    }

    /// Waits until the stored access token has expired (vault counts whole seconds).
    private func waitForExpiry() throws {
        let r = try exact("status", "Acme BV", "--json")
        let expires = try XCTUnwrap((try json(r) as? [String: Any])?["access_token_expires"] as? String)
        let at = try XCTUnwrap(UTCTime(exact: expires)).seconds
        while Int64(Date().timeIntervalSince1970) <= at { usleep(100_000) }
    }

    func testBaseURLOverrideIsRefusedUnlessHTTPSOrLoopback() throws {
        try setUpExact()
        let before = try digest(ks)
        for url in ["http://example.com", "http://192.168.1.1:8080", "ftp://127.0.0.1", "http://127.0.0.1@evil.test"] {
            let r = try CLI.run(["token", "Acme BV", "--exact-base-url", url, "--keystore", ks, "--key-file", keyFile], in: dir)
            XCTAssertEqual(r.status, 2, url)
            XCTAssertTrue(r.stderr.contains("must be https:// or a loopback address"), r.stderr)
        }
        XCTAssertEqual(try digest(ks), before)
        // Nothing listens there: nothing was sent, the state is unchanged.
        try connect()
        let closed = try CLI.run(["token", "Acme BV", "--min-valid", "3600", "--exact-base-url", "http://127.0.0.1:9", "--keystore", ks, "--key-file", keyFile], in: dir)
        XCTAssertEqual(closed.status, 1)
        XCTAssertTrue(closed.stderr.contains("nothing was sent, the refresh token is unchanged"), closed.stderr)
    }

    func testTokenOfAGenericEntryOrWithoutAnEntry() throws {
        try setUpExact()
        assertFails(try exact("token", "Nobody"), 1, "no entry 'Nobody'")
        let blob = try sealed("Other", extra: ["--type", "generic"], input: #"{"api_key":"k3y-value"}"#)
        XCTAssertEqual(try vault("open", "-", stdin: blob).status, 0)
        assertFails(try exact("token", "Other"), 1, "'Other' is not an Exact Online entry")
        XCTAssertEqual(try exact("token", "Acme BV", "--min-valid", "4000").status, 2)
    }

    func testHelpOfTheExactCommandsHasAnExampleAndHidesTheTestOverride() throws {
        for command in [["connect"], ["token"], ["status"], ["webhook", "verify"]] {
            let r = try CLI.run(command + ["--help"], in: dir)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.contains("Example"), "no example in help of \(command)")
            XCTAssertFalse(r.stdout.contains("exact-base-url"), "the test override is in --help of \(command)")
        }
        XCTAssertTrue(try CLI.run(["--help"], in: dir).stdout.contains("webhook"))
    }

    func testTheHelperIsNotForHands() throws {
        let helper = URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().appendingPathComponent("vault-http").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: helper)
        p.arguments = ["--help"]
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 2)
    }

    func testSmallTokenStorm() throws {
        try runStorm(["--procs", "3", "--calls", "40", "--expires-in", "2"])
    }

    func testSmallTokenStormWithKills() throws {
        try runStorm(["--kill", "--procs", "3", "--calls", "25", "--expires-in", "2", "--timeout", "1", "--max-kills", "6"])
    }

    private func runStorm(_ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", CLI.packageRoot.appendingPathComponent("scripts/exact/token_storm.py").path] + args
        p.environment = ProcessInfo.processInfo.environment.merging(["VAULT_BINARY": CLI.binary]) { $1 }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, text)
        XCTAssertTrue(text.contains(" passed, 0 failed"), text)
    }

    private func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "\\'") + "'" }
}

/// `vault webhook verify` against bodies signed by Python's hmac (Scripts/webhook_bodies.py).
final class WebhookCLITests: ExactTestCase {
    func testBodiesSignedByAnIndependentImplementation() throws {
        try setUpExact()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", CLI.packageRoot.appendingPathComponent("Tests/VaultCLITests/Scripts/webhook_bodies.py").path, dir.path, webhook]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let manifest = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let cases = try XCTUnwrap(try JSONSerialization.jsonObject(with: manifest) as? [[String: Any]])
        XCTAssertGreaterThan(cases.count, 15)
        for c in cases {
            let name = c["name"] as! String, status = Int32(c["status"] as! Int)
            let r = try vault("webhook", "verify", "Acme BV", name + ".json", "--print-content")
            XCTAssertEqual(r.status, status, "\(name): \(r.stderr)")
            if let content = c["content"] as? String {
                XCTAssertEqual(r.stdout, content + "\n", name)
            } else {
                XCTAssertEqual(r.stdout, "", "\(name): content printed without a match")
                XCTAssertTrue(r.stderr.contains(status == 1 ? "does not match" : "is not an Exact Online webhook body"), "\(name): \(r.stderr)")
            }
        }
        // Standard input, and no output without --print-content.
        let piped = try vault("webhook", "verify", "Acme BV", stdin: try read("as-sent.json"))
        XCTAssertEqual(piped.status, 0, piped.stderr)
        XCTAssertEqual(piped.all, "")
    }

    func testAnEntryWithoutAWebhookSecret() throws {
        try makeKeystore()
        XCTAssertEqual(try vault("open", "-", stdin: try sealed("Acme BV")).status, 0)
        try write("b.json", #"{"Content":{},"HashCode":"\#(String(repeating: "0", count: 64))"}"#)
        let r = try vault("webhook", "verify", "Acme BV", "b.json")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("entry 'Acme BV' has no webhook_secret"), r.stderr)
    }
}
