import Foundation
import XCTest
import VaultKit

/// A scratch directory with a keystore made by the built `vault init`, for the integrator's
/// commands. Most tests unlock with a key file (no KDF, so fast); the passphrase tests use
/// `--kdf interactive`, never the default moderate profile.
class IntegratorTestCase: CLITestCase {
    /// The keystore and its key file, relative to the scratch directory.
    let ks = "ks.vault"
    let keyFile = "ks.key"
    /// A passphrase and a webhook secret that must never appear in output.
    let passphrase = "correct horse battery staple"
    let webhook = "Wh00kS3cretX"
    /// The keystore's public key, read from `vault recipient`.
    var identity: PublicKey!

    /// Every secret of these tests, for the "no secret in output" checks.
    var secrets: [String] { [secret, webhook, passphrase] }

    /// `vault args` with the keystore and its key file; asserts that no secret was printed
    /// (callers of `get` and `export` use `reveal`).
    @discardableResult
    func vault(_ args: String..., stdin: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> Run {
        let r = try CLI.run(args + ["--keystore", ks, "--key-file", keyFile], in: dir, stdin: stdin)
        assertNoSecret(r, file: file, line: line)
        return r
    }

    /// `vault args` with the keystore and its key file, secrets allowed on standard output.
    func reveal(_ args: String...) throws -> Run {
        try CLI.run(args + ["--keystore", ks, "--key-file", keyFile], in: dir)
    }

    /// `vault args` exactly as given (no keystore options added), with `environment`.
    @discardableResult
    func plain(_ args: [String], stdin: String? = nil, environment: [String: String] = [:],
               file: StaticString = #filePath, line: UInt = #line) throws -> Run {
        let r = try CLI.run(args, in: dir, stdin: stdin, environment: environment)
        assertNoSecret(r, file: file, line: line)
        return r
    }

    func assertNoSecret(_ r: Run, file: StaticString = #filePath, line: UInt = #line) {
        for s in secrets { XCTAssertFalse(r.all.contains(s), "a secret was printed: \(r.all)", file: file, line: line) }
    }

    /// Makes the key-file keystore (`vault init --with-key-file`) and reads its public key.
    func makeKeystore(file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try plain(["init", "--keystore", ks, "--with-key-file", keyFile])
        XCTAssertEqual(r.status, 0, r.stderr, file: file, line: line)
        try readIdentity()
    }

    /// Makes a passphrase keystore (`--kdf interactive`) unlocked by `pass.txt`.
    func makePassphraseKeystore(file: StaticString = #filePath, line: UInt = #line) throws {
        try write("pass.txt", passphrase + "\n")
        let r = try plain(["init", "--keystore", ks, "--passphrase-file", "pass.txt", "--kdf", "interactive"])
        XCTAssertEqual(r.status, 0, r.stderr, file: file, line: line)
        identity = try PublicKey(recipient: String(r.stdout.split(separator: "\n")[0]))
    }

    func readIdentity() throws {
        let r = try vault("recipient")
        XCTAssertEqual(r.status, 0, r.stderr)
        identity = try PublicKey(publicKeyFile: Array(r.stdout.utf8))
    }

    /// A blob sealed to the keystore by the built `vault seal` (the usual credentials).
    func sealed(_ label: String, extra: [String] = [], input: String? = nil) throws -> String {
        try writeInput("seal-input.json", input)
        let r = try plain(["seal", "--to", identity.recipient, "--expect-fingerprint", identity.fingerprint.canonical,
                           "--label", label, "--input", "seal-input.json"] + extra)
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.stdout
    }

    /// A payload for the keystore's key, made in this process (for what `vault seal` refuses
    /// to make: past times, broken rules).
    func payload(label: String = "Acme BV", created: UTCTime = Handoff.now(), lifetime: Int64 = 86400,
                 recipient: Fingerprint? = nil) throws -> Payload {
        Payload(id: Handoff.newCode(), recipient: recipient ?? identity.fingerprint, created: created,
                expires: created.adding(seconds: lifetime), label: label,
                credentials: .exactOnline(ExactOnlineCredentials(clientID: clientID, clientSecret: try SecretBytes(Array(secret.utf8)))))
    }

    /// The binary blob of an armored text with one block.
    func binary(_ armored: String) throws -> [UInt8] {
        guard case .success(let bytes) = Armor.decode(Array(armored.utf8))[0].contents else {
            throw XCTSkip("the blob does not decode")
        }
        return bytes
    }

    /// A blob whose sealed plaintext is exactly `plaintext`, sealed to the keystore's key.
    func sealRaw(_ plaintext: String) throws -> String {
        let box = try SealedBox.seal(try SecretBytes(Array(plaintext.utf8)), to: identity)
        return Armor.encode(SealedBlob(recipient: identity.fingerprint, sealed: box).bytes)
    }

    /// SHA-256 of a file in the scratch directory, to show it did not change.
    func digest(_ name: String) throws -> [UInt8] {
        SHA256.hash(Array(try Data(contentsOf: dir.appendingPathComponent(name))))
    }

    func mode(_ name: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path(name))[.posixPermissions] as? Int ?? -1) & 0o777
    }

    /// The labels `vault list --json` shows.
    func labels() throws -> [String] {
        let r = try vault("list", "--json")
        XCTAssertEqual(r.status, 0, r.stderr)
        let array = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        return array.compactMap { $0["label"] as? String }
    }

    func json(_ r: Run) throws -> Any { try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) }

    /// Asserts a failure that names `words`, leaves stdout empty and the keystore unchanged.
    func assertRefused(_ r: Run, _ status: Int32 = 1, _ words: String..., unchanged before: [UInt8],
                       file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(r.status, status, "stderr: \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.contains("vault: error: "), r.stderr, file: file, line: line)
        for w in words { XCTAssertTrue(r.stderr.contains(w), "\(w) not in: \(r.stderr)", file: file, line: line) }
        XCTAssertEqual(try digest(ks), before, "the keystore changed", file: file, line: line)
        assertNoSecret(r, file: file, line: line)
    }
}
