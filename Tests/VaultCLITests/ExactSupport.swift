import Foundation
import XCTest
import VaultKit

/// scripts/exact/fake_exact.py on a free loopback port, stopped when released.
final class FakeExact {
    let process = Process()
    let port: Int
    var base: String { "http://127.0.0.1:\(port)" }

    init(expiresIn: Int = 600, clientSecret: String = "EKKQh8KqRptS", latency: Double = 0) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", CLI.packageRoot.appendingPathComponent("scripts/exact/fake_exact.py").path, "--port", "0",
                             "--expires-in", String(expiresIn), "--client-secret", clientSecret, "--latency", String(latency), "--lifetime", "600"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(0x0a) {
            let chunk = out.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            line.append(chunk)
        }
        let words = String(decoding: line, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard words.count >= 2, words[0] == "listening", let p = Int(words[1]) else { throw XCTSkip("the fake Exact did not start") }
        port = p
    }

    /// Ends the fake (SIGKILL: Process.terminate() was seen not to end it from a test).
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }

    /// Runs a few lines of Python against the fake (its control and stats endpoints, its consent page).
    func python(_ code: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import json, sys, urllib.request, urllib.error\nbase = '\(base)'\n" + code]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// The next `times` token requests fail as `mode` says (fake_exact.py's modes).
    func fail(_ mode: String, times: Int = 1) throws {
        _ = try python("urllib.request.urlopen(urllib.request.Request(base + '/_control', data=json.dumps({'fail': '\(mode)', 'times': \(times)}).encode())).read()")
    }

    func counts() throws -> [String: Int] {
        let text = try python("print(json.dumps(json.load(urllib.request.urlopen(base + '/_stats'))['counts']))")
        return try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Int] ?? [:]
    }

    /// What the browser is sent to after the user allows the app: the fake's 302 Location.
    func consent(_ url: String) throws -> String {
        try python("""
            class N(urllib.request.HTTPRedirectHandler):
                def redirect_request(self, *a, **k): return None
            try:
                urllib.request.build_opener(N).open(\(pythonString(url)))
            except urllib.error.HTTPError as e:
                print(e.headers['Location'])
            """).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func pythonString(_ s: String) -> String { "'" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'" }
}

/// An integrator keystore with one Exact Online entry, and the fake Exact.
class ExactTestCase: IntegratorTestCase {
    var fake: FakeExact!
    let redirect = "https://connector.example/exact/callback"

    /// XCTest keeps test case objects until the run ends: the fakes are stopped here.
    var others: [FakeExact] = []

    override func tearDownWithError() throws {
        fake?.stop()
        others.forEach { $0.stop() }
        try super.tearDownWithError()
    }

    /// The keystore, the entry "Acme BV" (client secret, webhook secret, redirect URI) and a fake.
    func setUpExact(expiresIn: Int = 600, redirectURI: String? = nil, latency: Double = 0) throws {
        try makeKeystore()
        let input = #"{"client_id":"\#(clientID)","client_secret":"\#(secret)","webhook_secret":"\#(webhook)","redirect_uri":"\#(redirectURI ?? redirect)"}"#
        let blob = try sealed("Acme BV", input: input)
        XCTAssertEqual(try vault("open", "-", stdin: blob).status, 0)
        fake = try FakeExact(expiresIn: expiresIn, latency: latency)
    }

    /// `vault args --exact-base-url FAKE` with the keystore.
    @discardableResult
    func exact(_ args: String..., stdin: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> Run {
        let r = try CLI.run(args + ["--exact-base-url", fake.base, "--keystore", ks, "--key-file", keyFile], in: dir, stdin: stdin)
        assertNoSecret(r, file: file, line: line)
        // The fake's refresh tokens start with RT and a number: never printed.
        XCTAssertNil(r.all.range(of: #"RT[0-9]+\."#, options: .regularExpression), "a refresh token was printed: \(r.all)", file: file, line: line)
        return r
    }

    /// Connects "Acme BV" the two-step way (no terminal): URL, consent, --response -.
    func connect(file: StaticString = #filePath, line: UInt = #line) throws {
        let begin = try exact("connect", "Acme BV")
        XCTAssertEqual(begin.status, 0, begin.stderr, file: file, line: line)
        let location = try fake.consent(begin.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        XCTAssertTrue(location.hasPrefix(redirect + "?code="), location, file: file, line: line)
        let done = try exact("connect", "Acme BV", "--response", "-", stdin: location + "\n")
        XCTAssertEqual(done.status, 0, done.stderr, file: file, line: line)
        XCTAssertTrue(done.stderr.contains("'Acme BV' is connected to Exact Online"), done.stderr, file: file, line: line)
    }

    func token(_ extra: String..., file: StaticString = #filePath, line: UInt = #line) throws -> Run {
        try CLI.run(["token", "Acme BV"] + extra + ["--exact-base-url", fake.base, "--keystore", ks, "--key-file", keyFile], in: dir)
    }
}
