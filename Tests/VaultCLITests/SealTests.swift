import Foundation
import XCTest
import VaultKit

/// `vault seal` without a terminal: everything from options and `--input`.
final class SealTests: CLITestCase {
    func testSealsToAPublicKeyFileIntoAFile() throws {
        try writeInput()
        let r = try run("seal", "--to", pub, "--label", "Acme BV", "--input", "creds.json", "-o", "acme.vault")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "")
        XCTAssertTrue(r.stderr.contains("vault: hint: e-mail the file 'acme.vault' to your integrator; only their key opens it"), r.stderr)
        XCTAssertTrue(r.stderr.contains("vault: warning: the recipient's fingerprint was not checked"), r.stderr)
        XCTAssertFalse(r.all.contains(secret))
        let text = try read("acme.vault")
        XCTAssertFalse(text.contains(secret))
        XCTAssertTrue(text.hasPrefix("-----BEGIN VAULT SEALED CREDENTIALS-----\n"))
        let p = try payload(text)
        XCTAssertEqual(p.label, "Acme BV")
        XCTAssertEqual(p.type, .exactOnline)
        guard case .exactOnline(let c) = p.credentials else { return XCTFail() }
        XCTAssertEqual(c.clientID, clientID, "stored lower case")
        XCTAssertEqual(string(c.clientSecret), secret)
        XCTAssertNil(c.webhookSecret)
        XCTAssertEqual(p.expires.seconds - p.created.seconds, 30 * 86400, "default 30d")
        XCTAssertEqual(try files(), [pub, "creds.json", "acme.vault"], "no temporary file left")
        let mode = try FileManager.default.attributesOfItem(atPath: path("acme.vault"))[.posixPermissions] as? Int
        XCTAssertEqual(mode.map { $0 & 0o022 }, 0)
    }

    func testEveryOptionWithARecipientStringToStandardOutput() throws {
        let r = try run(["seal", "--to", recipient.uppercased(), "--expect-fingerprint", fingerprint.uppercased(),
                         "--label", "Acme BV – salarisadministratie", "--client-id", clientID, "--region", "be",
                         "--redirect-uri", "https://example.com/cb", "--app-name", "Payroll sync", "--division", "123456",
                         "--from", "Jan Jansen", "--note", "hello", "--expires", "2h", "--input", "-"],
                        stdin: #"{"client_secret":"\#(secret)","webhook_secret":"Wh00kS3cretX"}"#)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stderr.contains("warning"), r.stderr)
        XCTAssertTrue(r.stderr.contains("e-mail the text above"), r.stderr)
        XCTAssertFalse(r.all.contains(secret))
        XCTAssertFalse(r.all.contains("Wh00kS3cretX"))
        let p = try payload(r.stdout)
        XCTAssertEqual(p.label, "Acme BV – salarisadministratie")
        XCTAssertEqual(p.from, "Jan Jansen")
        XCTAssertEqual(p.note, "hello")
        XCTAssertEqual(p.expires.seconds - p.created.seconds, 7200)
        XCTAssertEqual(p.recipient.canonical, fingerprint)
        guard case .exactOnline(let c) = p.credentials else { return XCTFail() }
        XCTAssertEqual(c.region, .be)
        XCTAssertEqual(c.redirectURI, "https://example.com/cb")
        XCTAssertEqual(c.appName, "Payroll sync")
        XCTAssertEqual(c.division, 123456)
        XCTAssertEqual(c.webhookSecret.map(string), "Wh00kS3cretX")
    }

    func testAllFieldsFromInput() throws {
        try writeInput("all.json", #"{"client_id":"\#(clientID)","client_secret":"\#(secret)","region":"uk","redirect_uri":"http://localhost:8080/cb","app_name":"X","division":7}"#)
        let r = try run("seal", "--to", pub, "--label", "A", "--input", "all.json")
        XCTAssertEqual(r.status, 0, r.stderr)
        guard case .exactOnline(let c) = try payload(r.stdout).credentials else { return XCTFail() }
        XCTAssertEqual(c.region, .uk)
        XCTAssertEqual(c.redirectURI, "http://localhost:8080/cb")
        XCTAssertEqual(c.division, 7)
    }

    func testGenericType() throws {
        try writeInput("g.json", #"{"api_key":"k-123","pem":"-----BEGIN KEY-----\nabc\n-----END KEY-----"}"#)
        let r = try run("seal", "--to", pub, "--label", "Other", "--type", "generic", "--input", "g.json")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.all.contains("k-123"))
        guard case .generic(let fields) = try payload(r.stdout).credentials else { return XCTFail() }
        XCTAssertEqual(fields.map(\.name), ["api_key", "pem"])
        XCTAssertEqual(string(fields[1].value), "-----BEGIN KEY-----\nabc\n-----END KEY-----")
    }

    func testUnusualSecretIsSealedWithAWarning() throws {
        try writeInput("odd.json", #"{"client_id":"\#(clientID)","client_secret":"abc!def"}"#)
        let r = try run("seal", "--to", pub, "--label", "A", "--input", "odd.json")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("vault: warning: the client secret does not look like an Exact Online secret"), r.stderr)
        XCTAssertFalse(r.stderr.contains("abc!def"))
    }

    func testReadableInputFileIsWarnedAbout() throws {
        try write("creds.json", #"{"client_id":"\#(clientID)","client_secret":"\#(secret)"}"#, mode: 0o644)
        let r = try run("seal", "--to", pub, "--label", "A", "--input", "creds.json")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("can be read by group or others"), r.stderr)
        XCTAssertTrue(r.stderr.contains("chmod 600 creds.json"), r.stderr)
    }

    func testExpiryLimitsAreAccepted() throws {
        try writeInput()
        for (text, seconds) in [("1h", 3600), ("365d", 365 * 86400), ("48h", 48 * 3600)] {
            let r = try run("seal", "--to", pub, "--label", "A", "--input", "creds.json", "--expires", text)
            XCTAssertEqual(r.status, 0, r.stderr)
            let p = try payload(r.stdout)
            XCTAssertEqual(p.expires.seconds - p.created.seconds, Int64(seconds), text)
        }
    }

    // MARK: refusals (status 1), nothing written

    func testTooLargeIsRefusedBeforeWriting() throws {
        let value = String(repeating: "x", count: 4000)
        let fields = (1...5).map { #""f\#($0)":"\#(value)""# }.joined(separator: ",")
        try writeInput("big.json", "{\(fields)}")
        let r = try run("seal", "--to", pub, "--label", "A", "--type", "generic", "--input", "big.json", "-o", "big.vault")
        assertFails(r, 1, "cannot seal: the sealed contents would be", "at most 16384")
        XCTAssertFalse(r.all.contains(value))
        XCTAssertFalse(try files().contains("big.vault"))
    }

    func testFingerprintMismatchShowsBothAndWritesNothing() throws {
        try writeInput()
        let other = try KeyPair.generate().publicKey.fingerprint.canonical
        let r = try run("seal", "--to", pub, "--expect-fingerprint", other, "--label", "A", "--input", "creds.json", "-o", "x.vault")
        assertFails(r, 1, "does not have the expected fingerprint", "expected: \(other)", "actual:   \(fingerprint)")
        XCTAssertFalse(try files().contains("x.vault"))
    }

    func testExistingOutputIsRefusedUnlessForce() throws {
        try writeInput()
        try write("x.vault", "keep me")
        let r = try run("seal", "--to", pub, "--label", "A", "--input", "creds.json", "-o", "x.vault")
        assertFails(r, 1, "'x.vault' already exists", "--force")
        XCTAssertEqual(try read("x.vault"), "keep me")
        let forced = try run("seal", "--to", pub, "--label", "A", "--input", "creds.json", "-o", "x.vault", "--force")
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertNoThrow(try payload(try read("x.vault")))
        XCTAssertEqual(try files(), [pub, "creds.json", "x.vault"])
    }

    func testUnwritableOutputLeavesNoFile() throws {
        try writeInput()
        let r = try run("seal", "--to", pub, "--label", "A", "--input", "creds.json", "-o", "missing-dir/x.vault")
        assertFails(r, 1, "cannot write 'missing-dir/x.vault': no such directory")
        XCTAssertEqual(try files(), [pub, "creds.json"])
    }

    func testInvalidInputContentIsRefusedNamingTheKey() throws {
        let cases: [(String, String)] = [
            (#"{"client_id":"\#(clientID)","client_secret":"EKKQh8Kq RptS"}"#, "'client_secret' must be printable ASCII"),
            (#"{"client_id":"\#(clientID)","client_secret":"\#(secret)","colour":"x"}"#, "'colour' is not a field of exact-online credentials"),
            (#"{"client_id":"\#(clientID)","client_secret":"\#(secret)","webhook_secret":"\#(secret)"}"#, "'webhook_secret' must differ from client_secret"),
            (#"{"client_id":"not-a-guid","client_secret":"\#(secret)"}"#, "'client_id' must be a GUID"),
            (#"{"client_id":"\#(clientID)","client_secret":"\#(secret)","division":1.5}"#, "'division' must be an integer"),
            (#"{"client_id":"\#(clientID)","client_secret":"\#(secret)","region":"xx"}"#, "'region' must be one of"),
            (#"{"client_id":"\#(clientID)","client_secret":"\#(secret)","client_secret":"\#(secret)"}"#, "client_secret"),
            (#"["\#(secret)"]"#, "must be a JSON object"),
            ("{\"client_secret\":\"\(secret)\"", "not valid JSON"),
        ]
        for (json, words) in cases {
            try writeInput("bad.json", json)
            let r = try run("seal", "--to", pub, "--label", "A", "--input", "bad.json", "-o", "x.vault")
            assertFails(r, 1, "--input 'bad.json'", words)
            XCTAssertFalse(try files().contains("x.vault"), json)
        }
    }

    func testBrokenPublicKeyFileIsRefused() throws {
        let other = try KeyPair.generate().publicKey.fingerprint.canonical
        try write("edited.pub", "# fingerprint: \(other)\n\(recipient)\n")
        try writeInput()
        assertFails(try run("seal", "--to", "edited.pub", "--label", "A", "--input", "creds.json"), 1,
                    "--to 'edited.pub'", "states fingerprint \(other)", "vault: hint:")
        assertFails(try run("seal", "--to", "nowhere.pub", "--label", "A", "--input", "creds.json"), 1,
                    "cannot read 'nowhere.pub': no such file or directory")
    }

    // MARK: usage mistakes (status 2)

    func testMissingValuesNameTheOption() throws {
        try writeInput()
        try writeInput("noid.json", #"{"client_secret":"\#(secret)"}"#)
        let cases: [([String], String)] = [
            (["seal", "--label", "A", "--input", "creds.json"], "missing --to RECIPIENT"),
            (["seal", "--to", pub, "--input", "creds.json"], "--label TEXT"),
            (["seal", "--to", pub, "--label", "A", "--client-id", clientID], "client_secret in --input FILE"),
            (["seal", "--to", pub, "--label", "A", "--input", "noid.json"], "--client-id GUID"),
        ]
        for (args, option) in cases {
            let r = try run(args)
            assertFails(r, 2, "missing", option)
        }
    }

    func testMalformedOptionsAreUsageMistakes() throws {
        try writeInput()
        let base = ["seal", "--to", pub, "--label", "A", "--input", "creds.json", "-o", "x.vault"]
        let cases: [([String], String)] = [
            (["--client-id", "123"], "--client-id '123' must be a GUID"),
            (["--expires", "0h"], "--expires '0h' must be a whole number followed by h or d, from 1h to 365d"),
            (["--expires", "366d"], "--expires '366d'"),
            (["--expires", "5m"], "--expires '5m'"),
            (["--expires=-1d"], "--expires '-1d'"),
            (["--region", "nlx"], "--region 'nlx' must be one of"),
            (["--division", "0"], "--division 0 must be an integer from 1"),
            (["--redirect-uri", "http://example.com"], "--redirect-uri 'http://example.com' must start with https://"),
            (["--type", "aws"], "--type 'aws' must be exact-online or generic"),
            (["--label", ""], "--label '' must not be empty"),
            (["--label", "a\u{7}b"], "--label 'a\\u{7}b' must not contain control characters"),
            (["--expect-fingerprint", "SHA256:abc"], "--expect-fingerprint 'SHA256:abc': not a fingerprint"),
            (["--expect-fingerprint", "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"], "OpenSSH-style fingerprint"),
        ]
        for (extra, words) in cases {
            // An option given twice is a usage mistake of its own: the base gives no label then.
            let r = try run((extra.first == "--label" ? base.filter { $0 != "--label" && $0 != "A" } : base) + extra)
            assertFails(r, 2, words)
            XCTAssertFalse(try files().contains("x.vault"))
        }
        let ssh = try run(base + ["--expect-fingerprint", "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"])
        XCTAssertTrue(ssh.stderr.contains("vault: hint: a vault fingerprint is SHA256: and 64 hex digits"), ssh.stderr)
    }

    func testFieldGivenTwiceIsAUsageMistake() throws {
        try writeInput()
        assertFails(try run("seal", "--to", pub, "--label", "A", "--input", "creds.json", "--client-id", clientID), 2,
                    "'client_id' is given both by --client-id and in --input")
        try writeInput("r.json", #"{"client_id":"\#(clientID)","client_secret":"\#(secret)","region":"nl"}"#)
        assertFails(try run("seal", "--to", pub, "--label", "A", "--input", "r.json", "--region", "nl"), 2, "'region' is given both")
    }

    func testGenericMistakes() throws {
        try writeInput()
        assertFails(try run("seal", "--to", pub, "--label", "A", "--type", "generic"), 2, "--type generic takes its fields from --input")
        assertFails(try run("seal", "--to", pub, "--label", "A", "--type", "generic", "--input", "creds.json", "--client-id", clientID), 2,
                    "--client-id is for --type exact-online")
        try writeInput("g.json", #"{"Bad-Name":"x"}"#)
        assertFails(try run("seal", "--to", pub, "--label", "A", "--type", "generic", "--input", "g.json"), 1, "'Bad-Name' must match")
    }

    func testBadRecipientsAreRefused() throws {
        try writeInput()
        let typo = String(recipient.dropLast()) + (recipient.last == "q" ? "p" : "q")
        assertFails(try run("seal", "--to", typo, "--label", "A", "--input", "creds.json"), 2, "wrong checksum")
        let secretKey = "VAULT-SECRET-KEY-1Y2GA3NWRZPQ3ULKZWDU2VCWFX5V8CPLY643KAX7RCSQTYUJYHRXSJ3LEQ8"
        let r = try run("seal", "--to", secretKey, "--label", "A", "--input", "creds.json")
        assertFails(r, 2, "--to is a secret key", "not shown")
        XCTAssertFalse(r.all.contains("1Y2GA3NWRZPQ"), "the secret key was echoed")
    }
}
