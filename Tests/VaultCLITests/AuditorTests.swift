import Foundation
import XCTest
import VaultKit

/// `vault fingerprint` and `vault inspect`: no secret involved, every outcome checked.
final class AuditorTests: CLITestCase {
    /// Seals a blob to `key` through the binary and returns its text.
    func sealed(label: String = "Acme BV") throws -> String {
        try writeInput()
        let r = try run("seal", "--to", pub, "--label", label, "--input", "creds.json")
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.stdout
    }

    /// An e-mail reply quoting two blobs, with a greeting and a signature.
    func email(_ a: String, _ b: String) -> String {
        "Hello,\r\n\r\nhere are the credentials.\r\n\r\n" + a.split(separator: "\n").map { "> " + $0 }.joined(separator: "\r\n")
            + "\r\n\r\n" + b + "\r\n-- \r\nJan\r\n"
    }

    func testFingerprintOfEveryKindOfInput() throws {
        let other = try KeyPair.generate()
        let blob = try sealed()
        try write("mail.txt", email(blob, blob))
        let r = try run("fingerprint", recipient, pub, "mail.txt", other.publicKey.recipient.uppercased())
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, [fingerprint, fingerprint, fingerprint, fingerprint, other.publicKey.fingerprint.canonical]
            .map { $0 + "\n" }.joined())
        XCTAssertFalse(r.stderr.contains("error") || r.stderr.contains("warning"), r.stderr)
        let stdin = try run(["fingerprint", "-"], stdin: blob)
        XCTAssertEqual(stdin.stdout, fingerprint + "\n")
    }

    func testFingerprintExpect() throws {
        let typed = key.publicKey.fingerprint.grouped.lowercased().replacingOccurrences(of: " ", with: ":")
        let ok = try run("fingerprint", pub, recipient, "--expect", typed)
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(ok.stdout, "\(fingerprint)\n\(fingerprint)\n")
        XCTAssertEqual(ok.stderr, "")

        let other = try KeyPair.generate().publicKey
        let bad = try run("fingerprint", pub, other.recipient, "--expect", fingerprint)
        XCTAssertEqual(bad.status, 1)
        XCTAssertEqual(bad.stdout, "\(fingerprint)\n\(other.fingerprint.canonical)\n")
        XCTAssertTrue(bad.stderr.contains("vault: error: recipient '\(other.recipient)' does not have the expected fingerprint"), bad.stderr)
        XCTAssertTrue(bad.stderr.contains("vault:   expected: \(fingerprint)"), bad.stderr)
        XCTAssertTrue(bad.stderr.contains("vault:   actual:   \(other.fingerprint.canonical)"), bad.stderr)
    }

    func testFingerprintUsageMistakes() throws {
        assertFails(try run("fingerprint", pub, "--expect", "SHA256:12345"), 2, "--expect 'SHA256:12345': not a fingerprint")
        let ssh = try run("fingerprint", pub, "--expect", "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU")
        assertFails(ssh, 2, "OpenSSH-style fingerprint", "vault: hint: a vault fingerprint is SHA256: and 64 hex digits")
        assertFails(try run("fingerprint", "vault1qqqq"), 2, "recipient 'vault1qqqq'")
        let secretKey = "vault-secret-key-1y2ga3nwrzpq3ulkzwdu2vcwfx5v8cply643kax7rcsqtyujyhrxsj3leq8"
        let r = try run("fingerprint", pub, secretKey)
        assertFails(r, 2, "argument 2 is a secret key", "not shown")
        XCTAssertFalse(r.all.lowercased().contains("1y2ga3nwrzpq3"))
        let e = try run("fingerprint", pub, "--expect", secretKey)
        assertFails(e, 2, "--expect is a secret key")
        XCTAssertFalse(e.all.lowercased().contains("1y2ga3nwrzpq3"))
    }

    func testFingerprintRefusals() throws {
        let blob = try sealed()
        var lines = blob.split(separator: "\n").map(String.init)
        lines[2] = "*" + lines[2].dropFirst()
        try write("damaged.vault", lines.joined(separator: "\n") + "\n" + blob)
        let r = try run("fingerprint", "damaged.vault", "missing.pub")
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stdout, fingerprint + "\n", "the good blob is still shown")
        XCTAssertTrue(r.stderr.contains("vault: error: 'damaged.vault' blob 1 (line 1): a sealed blob is not valid base64"), r.stderr)
        XCTAssertTrue(r.stderr.contains("vault: error: cannot read 'missing.pub': no such file or directory"), r.stderr)

        try write("key.txt", "VAULT-SECRET-KEY-1Y2GA3NWRZPQ3ULKZWDU2VCWFX5V8CPLY643KAX7RCSQTYUJYHRXSJ3LEQ8\n")
        let s = try run("fingerprint", "key.txt")
        assertFails(s, 1, "'key.txt' holds a secret key")
        XCTAssertFalse(s.all.contains("1Y2GA3"))
        try write("junk.txt", "hello\n")
        assertFails(try run("fingerprint", "junk.txt"), 1, "'junk.txt' is neither a public key file nor a text with sealed blobs")
        let other = try KeyPair.generate().publicKey.fingerprint.canonical
        try write("edited.pub", "# fingerprint: \(other)\n\(recipient)\n")
        assertFails(try run("fingerprint", "edited.pub"), 1, "'edited.pub': the file states fingerprint \(other) but its key's is \(fingerprint)")
        try write("two.pub", "\(recipient)\n\(recipient)\n")
        assertFails(try run("fingerprint", "two.pub"), 1, "'two.pub': more than one recipient line")
    }

    func testInspectBlobs() throws {
        let blob = try sealed()
        try write("mail.txt", email(blob, blob))
        let binary = Base64.decode(Array(blob.split(separator: "\n").dropFirst().dropLast().joined().utf8))!
        let size = binary.count
        let r = try run("inspect", "mail.txt")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stderr.contains("error") || r.stderr.contains("warning"), r.stderr)
        XCTAssertTrue(r.stdout.contains("blob 1 (line 5)\n  format version: 1\n  sealed to:      \(fingerprint)\n  size:           \(size) bytes\n"
                                        + "  sha256:         \(Hex.encode(SHA256.hash(binary)))\n"), r.stdout)
        XCTAssertTrue(r.stdout.contains("blob 2 (line"), r.stdout)
        XCTAssertFalse(r.stdout.contains("Acme"), "inspect never decrypts")

        let j = try run("inspect", "--json", "mail.txt")
        XCTAssertEqual(j.status, 0, j.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["kind"] as? String, "blobs")
        let blobs = try XCTUnwrap(object["blobs"] as? [[String: Any]])
        XCTAssertEqual(blobs.count, 2)
        XCTAssertEqual(blobs[0]["index"] as? Int, 1)
        XCTAssertEqual(blobs[0]["line"] as? Int, 5)
        XCTAssertEqual(blobs[0]["version"] as? Int, 1)
        XCTAssertEqual(blobs[0]["fingerprint"] as? String, fingerprint)
        XCTAssertEqual(blobs[0]["size"] as? Int, size)
        XCTAssertEqual(blobs[0]["sha256"] as? String, Hex.encode(SHA256.hash(binary)))
        XCTAssertEqual((object["errors"] as? [Any])?.count, 0)
    }

    func testInspectDamagedBlobs() throws {
        let blob = try sealed()
        let truncated = blob.split(separator: "\n").dropLast().joined(separator: "\n")
        try write("cut.vault", blob + truncated + "\n")
        let r = try run("inspect", "--json", "cut.vault")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("vault: error: 'cut.vault' blob 2 (line "), r.stderr)
        XCTAssertTrue(r.stderr.contains("): a sealed blob has a BEGIN line but no END line"), r.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((object["blobs"] as? [Any])?.count, 1)
        let errors = try XCTUnwrap(object["errors"] as? [[String: Any]])
        XCTAssertEqual(errors.first?["error"] as? String, "armor")
        XCTAssertEqual(errors.first?["index"] as? Int, 2)

        var bytes = Array(blob.split(separator: "\n").dropFirst().dropLast().joined().utf8)
        var binary = Base64.decode(bytes)!
        binary[5] = 2
        bytes = Array(Armor.encode(binary).utf8)
        try write("v2.vault", String(decoding: bytes, as: UTF8.self))
        let v = try run("inspect", "v2.vault")
        assertFails(v, 1, "format version 2 is not supported; this program reads version 1")

        try write("empty.txt", "nothing here\n")
        assertFails(try run("inspect", "empty.txt"), 1, "'empty.txt' holds no sealed blob and no hand-off request")
        assertFails(try run("inspect", "nope.vault"), 1, "cannot read 'nope.vault'")
    }

    func testInspectRequest() throws {
        let request = try HandoffRequest(recipient: key.publicKey.bytes, label: "Acme BV", code: Handoff.newCode(),
                                         expires: UTCTime(seconds: 1_900_000_000))
        try write("request.txt", "> " + request.text(fingerprint: key.publicKey.fingerprint).replacingOccurrences(of: "\n", with: "\n> "))
        let r = try run("inspect", "request.txt")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("hand-off request\n  recipient:   \(recipient)\n  fingerprint: \(fingerprint)\n  label:       Acme BV\n  code:        \(request.code)\n  expires:     2030-03-17T17:46:40Z\n"), r.stdout)
        let j = try run("inspect", "--json", "request.txt")
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["kind"] as? String, "request")
        let fields = try XCTUnwrap(object["request"] as? [String: String])
        XCTAssertEqual(fields, ["recipient": recipient, "fingerprint": fingerprint, "label": "Acme BV",
                                "code": request.code, "expires": "2030-03-17T17:46:40Z"])
        XCTAssertEqual(try run("fingerprint", "request.txt").stdout, fingerprint + "\n")

        let other = try KeyPair.generate().publicKey.fingerprint
        try write("forged.txt", request.text(fingerprint: other))
        assertFails(try run("inspect", "forged.txt"), 1, "'forged.txt': the hand-off request's fingerprint states")
    }
}
