import Foundation
import XCTest
@testable import VaultKit

/// A temporary directory with a key file, removed when the test ends. Keystores in tests are
/// unlocked by key files, or by passphrases at the `interactive` profile, to keep Argon2id cheap.
/// `KeystoreFixture(onTestBackEnd: ())` puts the keystore on the back end the run names
/// (`TestBackEnd`: a file, or a new schema on the PostgreSQL server of VAULT_TEST_POSTGRES).
final class KeystoreFixture {
    let dir: String
    /// The keystore file, or the database address as the storage names it in errors.
    let path: String
    let keyPath: String
    /// The postgres:// address when the keystore is in a database.
    let address: String?

    init(onTestBackEnd: Void? = nil) throws {
        dir = NSTemporaryDirectory() + "keystore-test-" + Random.bytes(6).map { String(format: "%02x", $0) }.joined()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        keyPath = dir + "/test.key"
        try KeyFile.create(at: keyPath)
        if onTestBackEnd != nil, let a = try TestBackEnd.newDatabaseAddress() {
            address = a
            path = try TestBackEnd.storage(a).location
        } else {
            address = nil
            path = dir + "/test.vault"
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    var isDatabase: Bool { address != nil }

    /// What a process is given to find the keystore: the file or the address.
    var location: String { address ?? path }

    /// A new storage object for the keystore (as another process would open it).
    func storage() throws -> any KeystoreStorage {
        if let address { return try TestBackEnd.storage(address) }
        return try FileKeystoreStorage(path: path)
    }

    func create(_ protection: KeystoreProtection? = nil) async throws -> Keystore {
        try await Keystore.create(storage: try storage(), protection: protection ?? .keyFile(path: keyPath))
    }

    func open(_ unlock: KeystoreUnlock? = nil) async throws -> Keystore {
        try await Keystore.open(storage: try storage(), unlock: unlock ?? .keyFile(path: keyPath))
    }

    /// Every stored byte, as a keystore file would hold them (any back end).
    func image() async throws -> [UInt8] {
        try await storage().withAccess(exclusive: false) { (s) throws(KeystoreError) in try s.storedImage() }
    }

    func bytes() throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

    func write(_ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o600)
    }
}


func string(_ s: SecretBytes?) -> String? { s.map { $0.withUnsafeBytes { String(decoding: $0, as: UTF8.self) } } }

func randomBlobID() -> String { Random.bytes(16).map { String(format: "%02x", $0) }.joined() }

/// An entry shaped like the "exact-online, all fields" vector.
func sampleEntry(label: String = "Acme BV", blobID: String = randomBlobID(), secretValue: String = "EKKQh8KqRptS") -> KeystoreEntry {
    KeystoreEntry(label: label, type: "exact-online",
                  fields: [CredentialField(name: "client_id", value: secret("1c07724e-cc1b-9ff3-2f42-4a50582c18c9")),
                           CredentialField(name: "client_secret", value: secret(secretValue)),
                           CredentialField(name: "webhook_secret", value: secret("dsUfeHBTYVayMQGQ")),
                           CredentialField(name: "region", value: secret("es")),
                           CredentialField(name: "redirect_uri", value: secret("https://static.xpertsuite.nl/OAuthRedirect.html")),
                           CredentialField(name: "app_name", value: secret("NN XS Connect"))],
                  from: "Jan, payroll", note: "first line\nsecond", blobID: blobID, created: "2026-11-23T12:00:00Z",
                  expires: "2099-12-31T00:00:00Z", opened: "2026-11-24T00:00:00Z")
}

/// Asserts that `body` throws exactly `expected`.
func assertThrows<T>(_ expected: KeystoreError, file: StaticString = #filePath, line: UInt = #line,
                     _ body: () async throws -> T) async {
    do {
        _ = try await body()
        XCTFail("expected \(expected), nothing thrown", file: file, line: line)
    } catch let e as KeystoreError {
        XCTAssertEqual(e, expected, file: file, line: line)
    } catch {
        XCTFail("expected \(expected), got \(error)", file: file, line: line)
    }
}

/// The directory holding the built products (the test bundle sits beside them).
func productsDirectory() -> URL {
    for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
        return bundle.bundleURL.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
}

/// `XCTAssertEqual` without an autoclosure, so its arguments may `await`.
func expectEqual<T: Equatable>(_ a: T, _ b: T, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a, b, file: file, line: line)
}

/// The layout of a format-2 keystore file, read by the tests themselves (docs/KEYSTORE.md §2),
/// to damage it on purpose.
struct Layout {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    static func be32(_ b: [UInt8], _ o: Int) -> Int { Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]) }
    static func be64(_ b: [UInt8], _ o: Int) -> UInt64 { (0..<8).reduce(UInt64(0)) { $0 << 8 | UInt64(b[o + $1]) } }

    var headerLength: Int { Layout.be32(bytes, 10) }
    var logStart: Int { headerLength + 512 }

    /// The state slot with the higher counter (no MAC check): its offset in the file.
    var currentStateOffset: Int {
        let a = Layout.be64(bytes, headerLength), b = Layout.be64(bytes, headerLength + 256)
        return a >= b ? headerLength : headerLength + 256
    }
    var logEnd: Int { Int(Layout.be64(bytes, currentStateOffset + 8)) }
    var indexPosition: Int { Int(Layout.be64(bytes, currentStateOffset + 32)) }

    /// (offset, type, sequence) of every frame up to the end of the file.
    var frames: [(offset: Int, type: UInt8, sequence: UInt64)] {
        var o = logStart
        var out: [(Int, UInt8, UInt64)] = []
        while o + 54 <= bytes.count {
            let length = Layout.be32(bytes, o)
            guard length >= 54 else { break }
            out.append((o, bytes[o + 4], Layout.be64(bytes, o + 6)))
            o += length
        }
        return out
    }

    /// The header with its SHA-256 checksum recomputed after an edit (what an attacker does).
    static func fixChecksum(_ b: inout [UInt8]) {
        let l = be32(b, 10)
        b.replaceSubrange((l - 32)..<l, with: SHA256.hash(Array(b[0..<(l - 32)])))
    }
}
