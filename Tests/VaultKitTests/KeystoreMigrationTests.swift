import Foundation
import XCTest
@testable import VaultKit

/// Every keystore vault 0.1.0 wrote (Fixtures/keystore-v1, a copy of ../shared/fixtures) opens,
/// is migrated to format 2, and reads exactly as its expected.tsv says (docs/KEYSTORE.md §9).
final class KeystoreMigrationTests: XCTestCase {
    static let fixtures = TestData.testsDirectory.appendingPathComponent("Fixtures/keystore-v1")

    /// label, client_id, client_secret, webhook_secret per line of expected.tsv.
    static func expected() throws -> [[String]] {
        try String(contentsOf: fixtures.appendingPathComponent("expected.tsv"), encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    /// A private copy of the fixtures (git keeps no modes; vault refuses readable keystores).
    static func copy() throws -> String {
        let dir = NSTemporaryDirectory() + "keystore-v1-" + Random.bytes(6).map { String(format: "%02x", $0) }.joined()
        try FileManager.default.copyItem(atPath: fixtures.path, toPath: dir)
        for name in try FileManager.default.subpathsOfDirectory(atPath: dir) {
            chmod(dir + "/" + name, name == "replays" ? 0o700 : 0o600)
        }
        chmod(dir, 0o700)
        return dir
    }

    func testTheCopyIsTheSharedFixtures() throws {
        let shared = TestData.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures/keystore-v1")
        guard FileManager.default.fileExists(atPath: shared.path) else {
            throw XCTSkip("no ../shared/fixtures beside the package (a user's clone): nothing to compare")
        }
        for file in try FileManager.default.subpathsOfDirectory(atPath: shared.path) {
            var isDirectory: ObjCBool = false
            if !FileManager.default.fileExists(atPath: shared.appendingPathComponent(file).path, isDirectory: &isDirectory)
                || isDirectory.boolValue { continue }
            XCTAssertEqual(try Data(contentsOf: Self.fixtures.appendingPathComponent(file)), try Data(contentsOf: shared.appendingPathComponent(file)),
                           "Tests/VaultKitTests/Fixtures/keystore-v1/\(file) differs from ../shared: copy it again")
        }
    }

    func check(_ e: KeystoreEntry, line n: Int, label: String? = nil, file: StaticString = #filePath, fileLine: UInt = #line) throws {
        let row = try Self.expected()[n - 1]
        XCTAssertEqual(e.label, label ?? row[0], file: file, line: fileLine)
        XCTAssertEqual(string(e.field("client_id")), row[1], file: file, line: fileLine)
        XCTAssertEqual(string(e.field("client_secret")), row[2], file: file, line: fileLine)
        XCTAssertEqual(string(e.field("webhook_secret")), row[3], file: file, line: fileLine)
        XCTAssertEqual(string(e.field("region")), "nl", file: file, line: fileLine)
        XCTAssertEqual(string(e.field("division")), String(100000 + n), file: file, line: fileLine)
    }

    func recipient(_ dir: String, _ name: String) throws -> PublicKey {
        try PublicKey(publicKeyFile: Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))))
    }

    func testTheKeyFileKeystoreMigratesLosingNothing() async throws {
        let dir = try Self.copy()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/keyfile.vault"
        let ks = try await Keystore.open(at: path, unlock: .keyFile(path: dir + "/keystore.key"))
        XCTAssertEqual(ks.upgrade, KeystoreUpgrade(fromVersion: 1, written: true, writeFailure: nil, droppedUnlockMethods: []))
        // The audit log begins with the migration (format 1 kept none).
        expectEqual(try await ks.auditLog().map(\.record.operation), ["migrate"])
        expectEqual(try await ks.auditLog().first?.record.detail, "from format 1")
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(Array(bytes[8..<10]), [0, 2], "written as format 2")
        for reopened in [ks, try await Keystore.open(at: path, unlock: .keyFile(path: dir + "/keystore.key"))] {
            expectEqual(try await reopened.list().map(\.label), ["Acme BV", "Bakkerij De Vries", "Café Zürich GmbH"])
            let acme = try await reopened.history("Acme BV")
            XCTAssertEqual(acme.count, 2)
            try check(acme[0], line: 1)
            try check(acme[1], line: 4)
            try check(try await reopened.entry("Bakkerij De Vries"), line: 2)
            try check(try await reopened.entry("Café Zürich GmbH"), line: 3)
            await assertThrows(.noSuchEntry(label: "Removed NV")) { try await reopened.entry("Removed NV") }
            expectEqual(try await reopened.identity().publicKey, try recipient(dir, "keyfile.pub"))
            let ids = try await reopened.identities()
            XCTAssertEqual(ids.map(\.state), [.current])
            expectEqual(try await reopened.unlockMethods().map(\.name), ["key-file"])
            try await reopened.verify()
        }
        // The blob of line 1, opened again: a replay, refused, nothing written.
        let blob = Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/replays/acme-v1.vault")))
        let identity = try await ks.identity()
        let opened = try XCTUnwrap(try? Handoff.open(blob, keys: [identity], now: Handoff.now(), allowExpired: true).first?.result.get())
        let before = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let entry = try Receiver.entry(for: opened.payload, opened: Handoff.now())
        await assertThrows(.replay(blobID: opened.payload.id, label: "Acme BV")) { try await ks.insert(entry, replace: true) }
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: path))), before)
    }

    func testThePassphraseKeystoreMigrates() async throws {
        let dir = try Self.copy()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = try String(contentsOfFile: dir + "/passphrase.txt", encoding: .utf8)
        let pass = secret(String(text.split(separator: "\n", omittingEmptySubsequences: false)[0]))
        let ks = try await Keystore.open(at: dir + "/passphrase.vault", unlock: .passphrase(pass))
        XCTAssertEqual(ks.upgrade?.written, true)
        expectEqual(try await ks.list().map(\.label), ["Pass BV"])
        try check(try await ks.entry("Pass BV"), line: 5, label: "Pass BV")
        expectEqual(try await ks.identity().publicKey, try recipient(dir, "passphrase.pub"))
        let methods = try await ks.unlockMethods()
        XCTAssertEqual(methods.map(\.name), ["passphrase"])
        XCTAssertEqual(methods.map(\.profile), [.interactive], "the slot keeps its KDF profile")
        let again = try await Keystore.open(at: dir + "/passphrase.vault", unlock: .passphrase(pass))
        XCTAssertNil(again.upgrade)
        await assertThrows(.wrongPassphrase(profiles: [.interactive])) {
            try await Keystore.open(at: dir + "/passphrase.vault", unlock: .passphrase(secret("not it")))
        }
    }

    /// Migration re-keys: the format-1 header (the old way in) opens nothing of the new file.
    func testAFormatOneHeaderSplicedOntoTheMigratedFileOpensNothing() async throws {
        let dir = try Self.copy()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/keyfile.vault"
        let old = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        _ = try await Keystore.open(at: path, unlock: .keyFile(path: dir + "/keystore.key"))
        let new = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let oldHeader = Int(old[10]) << 8 | Int(old[11])
        try Data(Array(old[0..<oldHeader]) + Array(new[Layout(new).headerLength...])).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o600)
        do {
            let ks = try await Keystore.open(at: path, unlock: .keyFile(path: dir + "/keystore.key"))
            let listed = try await ks.list()
            XCTFail("the spliced file opened: \(listed.map(\.label))")
        } catch {
            guard case .damaged = error else { return XCTFail("\(error)") }
        }
    }

    /// A format-1 file served from memory where nothing may be written, and the two processes
    /// migrating at once: the second finds format 2 and opens it with its key.
    func testMigrationInMemoryAndConcurrently() async throws {
        let dir = try Self.copy()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let image = Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/keyfile.vault")))
        let key = dir + "/keystore.key"
        let mem = MemoryKeystoreStorage(image: image)
        let a = try await Keystore.open(storage: mem, unlock: .keyFile(path: key))
        XCTAssertEqual(a.upgrade?.written, true)
        expectEqual(try await a.list().count, 3)
        // Opening the same (now format-2) storage with the format-1 header in hand.
        let b = try await Keystore.open(storage: mem, unlock: .keyFile(path: key))
        XCTAssertNil(b.upgrade)
        expectEqual(try await b.list().count, 3)
    }
}
