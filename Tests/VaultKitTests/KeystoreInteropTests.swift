import Foundation
import XCTest
@testable import VaultKit

/// docs/KEYSTORE.md is enough to read a keystore: scripts/keystore-read.py, written from it with
/// PyNaCl (its own libsodium), lists the same entries.
final class KeystoreInteropTests: XCTestCase {
    func runReader(_ args: [String]) throws -> String {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../scripts/keystore-read.py").standardized.path
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import nacl.bindings"]
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { throw XCTSkip("no python3") }
        probe.waitUntilExit()
        guard probe.terminationStatus == 0 else { throw XCTSkip("PyNaCl not installed") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script] + args
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        return String(decoding: data, as: UTF8.self)
    }

    func expectedLines(_ ks: Keystore) async throws -> String {
        try await ks.list().map { [$0.label, $0.type, $0.fieldNames.joined(separator: ","), $0.blobID].joined(separator: "\t") }
            .sorted().joined(separator: "\n") + "\n"
    }

    func testAnotherBindingReadsAKeyFileKeystore() async throws {
        let f = try KeystoreFixture()
        let ks = try await f.create()
        try await ks.insert(contentsOf: ["alpha", "beta", "gamma"].map { sampleEntry(label: $0) })
        try await ks.insert(sampleEntry(label: "beta", secretValue: "new"), replace: true)
        try await ks.remove("gamma")
        let output = try runReader([f.path, "--key-file", f.keyPath])
        expectEqual(output, try await expectedLines(ks))
    }

    func testAnotherBindingReadsAPassphraseKeystore() async throws {
        let f = try KeystoreFixture()
        let ks = try await Keystore.create(at: f.path, protection: .passphrase(secret("correct horse"), profile: .interactive))
        try await ks.insert(sampleEntry())
        try await ks.compact()
        let passFile = f.dir + "/pass"
        try "correct horse\n".write(toFile: passFile, atomically: true, encoding: .utf8)
        let output = try runReader([f.path, "--passphrase-file", passFile])
        expectEqual(output, try await expectedLines(ks))
    }

    /// A snapshot written by a commit, records after it, tokens, settings, another unlock
    /// method: the reader checks the snapshot's rows against its own reading of the log.
    func testAnotherBindingReadsASnapshotAndItsTail() async throws {
        let f = try KeystoreFixture()
        let ks = try await f.create()
        try await ks.insert(contentsOf: (0..<1050).map { sampleEntry(label: "a\($0)") })
        try await ks.insert(contentsOf: (0..<1050).map { sampleEntry(label: "b\($0)") })
        try await ks.remove("a1")
        try await ks.insert(sampleEntry(label: "a2", secretValue: "newer"), replace: true)
        _ = try await ks.withTokenLease("a3") { _ in
            TokenState(refreshToken: secret("r"), accessToken: secret("a"), accessTokenExpires: "2026-11-24T00:10:00Z")
        }
        try await ks.setSetting("x", to: "y")
        let other = f.dir + "/other.key"
        try KeyFile.create(at: other)
        try await ks.addUnlockMethod(name: "other", .keyFile(path: other))
        try await ks.remove("b5")
        let output = try runReader([f.path, "--key-file", other])
        expectEqual(output, try await expectedLines(ks))
    }
}
