import Foundation
import XCTest
import VaultExactHTTP
@testable import VaultKit

/// The library path a Swift receiving system takes: `ExactConnector` over the real
/// `URLSessionExactTransport`, against scripts/exact/fake_exact.py on loopback.
final class ExactHTTPTests: XCTestCase {
    func testConnectorOverURLSessionAgainstTheFake() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let fake = Process()
        fake.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        fake.arguments = ["python3", root.appendingPathComponent("scripts/exact/fake_exact.py").path, "--port", "0", "--expires-in", "1", "--lifetime", "120"]
        let out = Pipe()
        fake.standardOutput = out
        try fake.run()
        // SIGKILL: the test process's Process.terminate() was seen not to end it.
        defer { kill(fake.processIdentifier, SIGKILL); fake.waitUntilExit() }
        let line = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        guard let port = line.split(separator: " ").last.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else {
            throw XCTSkip("the fake Exact did not start: \(line)")
        }
        let base = "http://127.0.0.1:\(port)"
        let f = try KeystoreFixture()
        let store = try await f.create()
        var entry = sampleEntry()
        entry.fields.removeAll { $0.name == "redirect_uri" }
        try await store.insert(entry)
        let connector = ExactConnector(keystore: store, transport: URLSessionExactTransport(),
                                       endpointOverride: try ExactEndpoint(override: base), timeout: 5)
        let auth = try await connector.beginAuthorization("Acme BV", redirectURI: "https://connector.example/cb")
        // The consent page answers 302 to the redirect URI (a browser would follow it): its Location.
        let location = try consent(auth.url)
        let done = try await connector.completeAuthorization("Acme BV", response: try ExactAuthorizationResponse.parse(SecretBytes(Array(location.utf8))))
        XCTAssertTrue(done.stateChecked)
        // One-second tokens: wait for the stored one to expire, then the next call refreshes.
        while ExactConnector.remaining(try await store.tokenStatus("Acme BV").state!) >= 0 { try await Task.sleep(nanoseconds: 100_000_000) }
        let token = try await connector.accessToken("Acme BV", minValid: 0)
        XCTAssertTrue(token.refreshed)
        XCTAssertTrue(string(token.token)!.hasPrefix("AT2."))
        // A closed port: nothing was sent.
        let closed = ExactConnector(keystore: store, transport: URLSessionExactTransport(),
                                    endpointOverride: try ExactEndpoint(override: "http://127.0.0.1:9"), timeout: 5)
        while ExactConnector.remaining(try await store.tokenStatus("Acme BV").state!) >= 0 { try await Task.sleep(nanoseconds: 100_000_000) }
        do {
            _ = try await closed.accessToken("Acme BV", minValid: 0)
            XCTFail("no error")
        } catch ExactError.transport(.notSent) {}
    }

    private func consent(_ url: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", """
            import sys, urllib.request, urllib.error
            class N(urllib.request.HTTPRedirectHandler):
                def redirect_request(self, *a, **k): return None
            try:
                urllib.request.build_opener(N).open(sys.argv[1])
            except urllib.error.HTTPError as e:
                print(e.headers['Location'])
            """, url]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
