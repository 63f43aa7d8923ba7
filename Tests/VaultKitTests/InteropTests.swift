import Foundation
import XCTest
@testable import VaultKit

/// Interoperability both ways with PyNaCl (its own libsodium build), through the independent
/// implementation in Interop/pynacl_vault.py. Needs `python3` with `pynacl` (`pip install pynacl`;
/// the test script and CI install it): without it these tests fail, they do not skip.
final class InteropTests: XCTestCase {
    let script = TestData.testsDirectory.appendingPathComponent("Interop/pynacl_vault.py").path
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("vault-interop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// Runs the script; returns its standard output and exit status.
    private func python(_ arguments: [String]) throws -> (out: String, status: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if errors.contains("No module named 'nacl'") {
            XCTFail("PyNaCl is missing: run `pip install pynacl` (scripts/test does)")
        }
        return (String(decoding: data, as: UTF8.self), process.terminationStatus)
    }

    func testBlobsSealedByPyNaClOpenInVaultKit() throws {
        let pair = try KeyPair.generate()
        let result = try python(["seal", "--recipient-hex", Hex.encode(pair.publicKey.bytes), "--out", directory.path])
        XCTAssertEqual(result.status, 0)
        let manifest = try XCTUnwrap(JSONSerialization.jsonObject(
            with: Data(contentsOf: directory.appendingPathComponent("manifest.json"))) as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(manifest.count, 8)
        for item in manifest {
            let file = item["file"] as! String
            let text = try Data(contentsOf: directory.appendingPathComponent(file))
            let outcomes = Handoff.open(Array(text), keys: [pair], now: Handoff.now())
            XCTAssertEqual(outcomes.count, 1, file)
            let opened = try outcomes[0].result.get()
            var expected = item["payload"] as! [String: Any]
            if let stored = item["stored_client_id"] as? String {
                var credentials = expected["credentials"] as! [String: Any]
                credentials["client_id"] = stored
                expected["credentials"] = credentials
            }
            XCTAssertEqual(try foundationObject(opened.payload), expected as NSDictionary, file)
        }
    }

    func testBlobsSealedByVaultKitOpenInPyNaCl() throws {
        let pair = try KeyPair.generate()
        var all = samplePayload(to: pair.publicKey, label: "Bäckerei Müller — Café 東京 🍞 e\u{301}")
        all.from = "Jan <jan@example.nl>"
        all.note = "tab\there\nnew line"
        all.request = Handoff.newCode()
        all.credentials = .exactOnline(ExactOnlineCredentials(
            clientID: "{936AA40C-CDAA-523D-A8EA-6D21A185CC8E}", clientSecret: secret("q\"uote\\back"),
            webhookSecret: secret("dsUfeHBTYVayMQGQ"), region: .de, redirectURI: "http://[::1]:8080/cb",
            appName: "NN XS Connect", division: 42))
        let generic = samplePayload(to: pair.publicKey, label: "Generic", credentials: .generic([
            CredentialField(name: "pem", value: secret("-----BEGIN KEY-----\nabc\n-----END KEY-----\n")),
            CredentialField(name: "token", value: secret("Ω≈ç√")),
        ]))
        let payloads = [all, samplePayload(to: pair.publicKey), generic]
        var files: [String] = []
        for (i, p) in payloads.enumerated() {
            let path = directory.appendingPathComponent("blob\(i).txt").path
            try Handoff.seal(p, to: pair.publicKey).write(toFile: path, atomically: true, encoding: .utf8)
            files.append(path)
        }
        // Test keys only: the script takes the throwaway secret key as an argument.
        let result = try python(["check", "--secret-hex", pair.secretKey.withUnsafeBytes { Hex.encode(Array($0)) },
                                 "--now", Handoff.now().text] + files)
        XCTAssertEqual(result.status, 0, result.out)
        let lines = result.out.split(separator: "\n")
        XCTAssertEqual(lines.count, payloads.count)
        for (line, payload) in zip(lines, payloads) {
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            XCTAssertEqual(object["ok"] as? Bool, true, String(line.prefix(300)))
            XCTAssertEqual(object["payload"] as? NSDictionary, try foundationObject(payload))
        }
    }

    func testPyNaClCheckerRefusesWhatVaultKitRefuses() throws {
        // The second implementation is not a rubber stamp: a blob sealed to another key is refused.
        let pair = try KeyPair.generate(), other = try KeyPair.generate()
        let path = directory.appendingPathComponent("other.txt").path
        try Handoff.seal(samplePayload(to: other.publicKey), to: other.publicKey).write(toFile: path, atomically: true, encoding: .utf8)
        let result = try python(["check", "--secret-hex", pair.secretKey.withUnsafeBytes { Hex.encode(Array($0)) },
                                 "--now", Handoff.now().text, path])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.out.contains("\"no_matching_key\""), result.out)
    }
}
