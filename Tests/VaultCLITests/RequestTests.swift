import Foundation
import XCTest
import VaultKit

/// Hand-off requests end to end through the built binary (issue 13, FORMAT.md §7, CLI.md):
/// the integrator issues, the customer seals from the text, the integrator opens; every
/// forged, repeated or late answer is refused with its own message and changes nothing.
final class RequestTests: IntegratorTestCase {
    /// `vault request --label LABEL -o FILE`; returns the request's code.
    func issue(_ label: String, to file: String = "request.txt", extra: [String] = []) throws -> String {
        let r = try plain(["request", "--label", label, "-o", file, "--keystore", ks, "--key-file", keyFile] + extra)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "")
        let (request, fp) = try HandoffRequest.parse(Array(try read(file).utf8))
        XCTAssertEqual(fp, identity.fingerprint)
        XCTAssertEqual(request.recipient, identity.bytes)
        XCTAssertEqual(request.label, label)
        return request.code
    }

    /// `vault seal --request FILE` as a customer without a terminal.
    func sealFromRequest(_ file: String, stdin: String? = nil) throws -> Run {
        try writeInput("seal-input.json")
        return try plain(["seal", "--request", file, "--expect-fingerprint", identity.fingerprint.canonical, "--input", "seal-input.json"],
                         stdin: stdin)
    }

    /// A blob carrying `code` and `label`, made in this process (what vault seal would not make).
    func forged(label: String, code: String?) throws -> String {
        let now = Handoff.now()
        let p = Payload(id: Handoff.newCode(), recipient: identity.fingerprint, created: now, expires: now.adding(seconds: 86400),
                        label: label, request: code,
                        credentials: .exactOnline(ExactOnlineCredentials(clientID: clientID, clientSecret: try SecretBytes(Array(secret.utf8)))))
        return try Handoff.seal(p, to: identity)
    }

    func requestsJSON() throws -> [[String: Any]] {
        let r = try vault("requests", "--json")
        XCTAssertEqual(r.status, 0, r.stderr)
        return try XCTUnwrap(try json(r) as? [[String: Any]])
    }

    func testTheRequestLifeCycle() throws {
        try makeKeystore()
        let code = try issue("Acme BV")
        var listed = try requestsJSON()
        XCTAssertEqual(listed.count, 1)
        XCTAssertEqual(listed[0]["code"] as? String, code)
        XCTAssertEqual(listed[0]["status"] as? String, "open")
        // The customer pastes the request as an e-mail quoted it.
        let quoted = "Dear customer,\n\n" + (try read("request.txt")).split(separator: "\n").map { "> " + $0 }.joined(separator: "\n") + "\n\nRegards\n"
        let s = try sealFromRequest("-", stdin: quoted)
        XCTAssertEqual(s.status, 0, s.stderr)
        try write("acme.vault", s.stdout)
        let o = try vault("open", "--require-request", "acme.vault")
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertTrue(o.stdout.hasPrefix("Acme BV\texact-online\t"))
        // The entry and the log name the request; the request names the blob that answered.
        let show = try XCTUnwrap(try json(try vault("show", "Acme BV", "--json")) as? [String: Any])
        XCTAssertEqual(show["request"] as? String, code)
        listed = try requestsJSON()
        XCTAssertEqual(listed[0]["status"] as? String, "answered")
        XCTAssertEqual(listed[0]["answered_by"] as? String, show["blob_id"] as? String)
        let table = try vault("requests")
        XCTAssertTrue(table.stdout.contains("answered"), table.stdout)
        let log = try vault("log", "--json")
        let ops = try XCTUnwrap(try json(log) as? [[String: Any]]).map { $0["operation"] as? String }
        XCTAssertEqual(ops.suffix(2), ["open", "request-answer"])

        // A second blob for the same code: refused, its own message, nothing changed.
        let second = try sealFromRequest("request.txt")
        XCTAssertEqual(second.status, 0, second.stderr)
        try write("again.vault", second.stdout)
        let before = try digest(ks)
        try assertRefused(try vault("open", "--replace", "again.vault"), 1, "was answered already", "a request is answered once",
                          "answering a request already answered", unchanged: before)

        // Cancelled: a blob for it is refused, and so is a second cancel.
        let gone = try issue("Gone BV", to: "gone.txt")
        let c = try vault("request", "--cancel", gone)
        XCTAssertEqual(c.status, 0, c.stderr)
        XCTAssertTrue(c.stderr.contains("cancelled request \(gone)"), c.stderr)
        try write("gone.vault", try sealFromRequest("gone.txt").stdout)
        let now = try digest(ks)
        try assertRefused(try vault("open", "gone.vault"), 1, "was cancelled", unchanged: now)
        try assertRefused(try vault("request", "--cancel", gone), 1, "was cancelled", unchanged: now)
        try assertRefused(try vault("request", "--cancel", "0123"), 1, "has no request '0123'", unchanged: now)
        listed = try requestsJSON()
        XCTAssertEqual(listed.first { $0["code"] as? String == gone }?["status"] as? String, "cancelled")
    }

    /// Under the policy, each forged answer: the right key but no code, an unknown code, the
    /// right code with another label, a late answer; the option and the setting alike.
    func testForgedBlobsAreRefusedUnderThePolicy() async throws {
        try makeKeystore()
        let code = try issue("Acme BV")
        var before = try digest(ks)
        try write("nocode.vault", try sealed("Acme BV"))
        try assertRefused(try vault("open", "--require-request", "nocode.vault"), 1,
                          "answers no hand-off request of this keystore, and one is required (--require-request)",
                          "answering no request", unchanged: before)
        try write("unknown.vault", try forged(label: "Acme BV", code: Handoff.newCode()))
        try assertRefused(try vault("open", "unknown.vault"), 1, "which this keystore never issued", "answering an unknown request",
                          unchanged: before)
        try write("other.vault", try forged(label: "Acme NV", code: code))
        try assertRefused(try vault("open", "--require-request", "other.vault"), 1, "made for 'Acme BV', but is labelled 'Acme NV'",
                          "with another label than its request's", unchanged: before)
        // --as does not make another label answer: the label sealed in the blob does.
        try assertRefused(try vault("open", "--as", "Acme BV", "other.vault"), 1, "but is labelled 'Acme NV'", unchanged: before)

        // Late: a request that expires in a second, answered after.
        // (Issued through VaultKit: vault request's shortest expiry is an hour.)
        let store = try await Keystore.open(at: path(ks), unlock: .keyFile(path: path(keyFile)))
        let soon = Handoff.now().adding(seconds: 1)
        let late = try await store.issueRequest(label: "Late BV", expires: soon)
        while Handoff.now() <= soon { usleep(100_000) }
        try write("late.vault", try forged(label: "Late BV", code: late.code))
        before = try digest(ks)
        try assertRefused(try vault("open", "late.vault"), 1, "expired at \(soon.text), before this blob was opened",
                          "answering an expired request", unchanged: before)

        // The setting makes the policy the default; off again, a blob without a code opens.
        XCTAssertEqual(try vault("settings", "require-request", "on").status, 0)
        let listed = try vault("settings")
        XCTAssertTrue(listed.stdout.contains("require-request  on"), listed.stdout)
        before = try digest(ks)
        try assertRefused(try vault("open", "nocode.vault"), 1, "the keystore's setting require-request is on",
                          "vault settings require-request off", unchanged: before)
        XCTAssertEqual(try vault("settings", "require-request", "off").status, 0)
        XCTAssertEqual(try vault("open", "nocode.vault").status, 0)
        // And the genuine answer still opens, under the policy.
        try write("acme.vault", try sealFromRequest("request.txt").stdout)
        let o = try vault("open", "--require-request", "--replace", "acme.vault")
        XCTAssertEqual(o.status, 0, o.stderr)
    }

    func testSealFromARequestRefusesWhatCannotAnswerIt() throws {
        try makeKeystore()
        _ = try issue("Acme BV")
        try writeInput("seal-input.json")
        for (args, words) in [(["--to", identity.recipient], "give --request or --to, not both"),
                              (["--label", "Other"], "give --request or --label, not both")] {
            let r = try plain(["seal", "--request", "request.txt", "--input", "seal-input.json"] + args)
            XCTAssertEqual(r.status, 2, r.stderr)
            XCTAssertTrue(r.stderr.contains(words), r.stderr)
        }
        // Another key's fingerprint expected: refused as for --to.
        let other = try KeyPair.generate().publicKey.fingerprint.canonical
        let m = try plain(["seal", "--request", "request.txt", "--input", "seal-input.json", "--expect-fingerprint", other])
        XCTAssertEqual(m.status, 1)
        XCTAssertTrue(m.stderr.contains("does not have the expected fingerprint"), m.stderr)
        // A request whose fingerprint line was edited: refused, naming both.
        let text = try read("request.txt")
        try write("edited.txt", text.replacingOccurrences(of: identity.fingerprint.canonical, with: other))
        let e = try plain(["seal", "--request", "edited.txt", "--input", "seal-input.json"])
        XCTAssertEqual(e.status, 1)
        XCTAssertTrue(e.stderr.contains("but the recipient's is"), e.stderr)
        // An expired request: nothing is sealed.
        let expired = try HandoffRequest(recipient: identity.bytes, label: "Acme BV", code: Handoff.newCode(),
                                         expires: Handoff.now().adding(seconds: -10))
        try write("expired.txt", expired.text(fingerprint: identity.fingerprint))
        let x = try plain(["seal", "--request", "expired.txt", "--input", "seal-input.json"])
        XCTAssertEqual(x.status, 1)
        XCTAssertTrue(x.stderr.contains("expired at"), x.stderr)
        XCTAssertEqual(x.stdout, "")
        // A blob given as a request: named as what it is.
        try write("blob.txt", try sealed("Acme BV"))
        let b = try plain(["seal", "--request", "blob.txt", "--input", "seal-input.json"])
        XCTAssertEqual(b.status, 1)
        XCTAssertTrue(b.stderr.contains("sealed"), b.stderr)
    }

    func testRequestUsage() throws {
        try makeKeystore()
        for (args, words) in [([String](), "give --label TEXT"), (["--label", "Acme BV", "--expires", "2w"], "--expires '2w'"),
                              (["--label", " Acme"], "white space"), (["--cancel", "x", "--label", "A"], "--cancel takes only the code")] {
            let r = try plain(["request"] + args + ["--keystore", ks, "--key-file", keyFile])
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(words), "\(args): \(r.stderr)")
        }
        // To standard output, with --expires.
        let r = try vault("request", "--label", "Acme BV", "--expires", "2d")
        XCTAssertEqual(r.status, 0, r.stderr)
        let (request, _) = try HandoffRequest.parse(Array(r.stdout.utf8))
        XCTAssertLessThanOrEqual(abs(request.expires.seconds - Handoff.now().seconds - 2 * 86400), 5)
        // An existing output file is refused before anything is recorded.
        try write("taken.txt", "mine")
        let count = try requestsJSON().count
        let t = try vault("request", "--label", "Acme BV", "-o", "taken.txt")
        XCTAssertEqual(t.status, 1)
        XCTAssertEqual(try requestsJSON().count, count)
        XCTAssertEqual(try read("taken.txt"), "mine")
    }
}
