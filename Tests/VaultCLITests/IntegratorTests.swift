import Foundation
import XCTest
import VaultKit

/// The integrator's side run as a user would: init, recipient, the whole hand-off through
/// seal, open, list, show, get, export and remove.
final class IntegratorTests: IntegratorTestCase {
    // MARK: init

    func testInitWithKeyFile() throws {
        let r = try plain(["init", "--keystore", ks, "--with-key-file", keyFile])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2, r.stdout)
        let key = try PublicKey(recipient: lines[0])
        XCTAssertTrue(lines[0].hasPrefix("vault1"))
        XCTAssertEqual(lines[1], key.fingerprint.canonical)
        XCTAssertTrue(lines[1].hasPrefix("SHA256:") && lines[1].count == 71, lines[1])
        XCTAssertTrue(r.stderr.contains("vault recipient --keystore ks.vault --key-file ks.key -o integrator.pub"), "a hint that works as typed: \(r.stderr)")
        XCTAssertTrue(r.stderr.contains("key file"), r.stderr)
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent(keyFile)).count, 32)
        XCTAssertEqual(try mode(keyFile), 0o600)
        XCTAssertEqual(try mode(ks), 0o600)
        // The key file unlocks it, and it holds the key init printed.
        identity = nil
        try readIdentity()
        XCTAssertEqual(identity, key)
    }

    func testInitWithPassphraseFile() throws {
        try makePassphraseKeystore()
        let r = try plain(["recipient", "--keystore", ks, "--passphrase-file", "pass.txt"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try PublicKey(publicKeyFile: Array(r.stdout.utf8)), identity)
        // A key file does not unlock a passphrase keystore.
        XCTAssertEqual(try mode(ks), 0o600)
    }

    func testInitRefusesAnExistingKeystoreAndLeavesNoKeyFile() throws {
        try makeKeystore()
        let before = try digest(ks)
        let r = try plain(["init", "--keystore", ks, "--with-key-file", "second.key"])
        try assertRefused(r, 1, "already exists", "never overwritten", unchanged: before)
        XCTAssertFalse(try files().contains("second.key"), "a key file was left behind")
        // Nor with a passphrase, and nothing is asked.
        try write("pass.txt", passphrase)
        try assertRefused(try plain(["init", "--keystore", ks, "--passphrase-file", "pass.txt", "--kdf", "interactive"]),
                          1, "already exists", unchanged: before)
    }

    func testInitAtTheDefaultLocation() throws {
        // XDG_DATA_HOME, its folder made private; an empty VAULT_KEYSTORE counts as unset.
        for (n, variables) in [["VAULT_KEYSTORE": ""], [:]].enumerated() {
            let data = path("data-\(n)")
            let env = variables.merging(["XDG_DATA_HOME": data]) { $1 }
            let r = try plain(["init", "--with-key-file", "k\(n).key"], environment: env)
            XCTAssertEqual(r.status, 0, "\(variables): \(r.stderr)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: data + "/vault/keystore.vault"), "\(variables)")
            XCTAssertEqual(try mode("data-\(n)/vault"), 0o700)
            let l = try plain(["list", "--json", "--key-file", "k\(n).key"], environment: env)
            XCTAssertEqual(l.status, 0, l.stderr)
        }
        // Else ~/.local/share.
        let home = ["HOME": path("home"), "XDG_DATA_HOME": ""]
        XCTAssertEqual(try plain(["init", "--with-key-file", "h.key"], environment: home).status, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("home/.local/share/vault/keystore.vault")))
    }

    func testInitLeavesNoKeyFileWhenTheKeystoreCannotBeCreated() throws {
        let r = try plain(["init", "--keystore", "missing-dir/ks.vault", "--with-key-file", keyFile])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("cannot create the keystore"), r.stderr)
        XCTAssertTrue(r.stderr.contains("no such directory"), r.stderr)
        XCTAssertFalse(r.stderr.contains("create a keystore with `vault init`"), "odd advice while running init: \(r.stderr)")
        XCTAssertEqual(r.stdout, "")
        XCTAssertFalse(try files().contains(keyFile), "a key file was left behind")
    }

    func testInitRefusesAnExistingKeyFile() throws {
        try write(keyFile, "not mine")
        let r = try plain(["init", "--keystore", ks, "--with-key-file", keyFile])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(try read(keyFile), "not mine", "an existing key file was overwritten")
        XCTAssertFalse(try files().contains(ks))
    }

    func testInitWithoutTerminalOrPassphraseSourceIsAUsageError() throws {
        let r = try plain(["init", "--keystore", ks, "--kdf", "interactive"])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertEqual(r.stdout, "")
        XCTAssertTrue(r.stderr.contains("no terminal"), r.stderr)
        XCTAssertTrue(r.stderr.contains("--passphrase-file"), r.stderr)
        XCTAssertTrue(r.stderr.contains("VAULT_PASSPHRASE_FILE"), r.stderr)
        XCTAssertTrue(r.stderr.contains("--with-key-file"), "the unattended way is named too: \(r.stderr)")
        XCTAssertEqual(try files(), [pub], "nothing created")
        // --kdf with a key file is a usage mistake too.
        let k = try plain(["init", "--keystore", ks, "--with-key-file", keyFile, "--kdf", "interactive"])
        XCTAssertEqual(k.status, 2, k.stderr)
        XCTAssertEqual(try files(), [pub])
        // And a passphrase file with a key file: a keystore has one or the other, not both.
        try write("pass.txt", passphrase)
        let both = try plain(["init", "--keystore", ks, "--with-key-file", keyFile, "--passphrase-file", "pass.txt"])
        XCTAssertEqual(both.status, 2, both.stderr)
        XCTAssertTrue(both.stderr.contains("--with-key-file") && both.stderr.contains("--passphrase-file"), both.stderr)
        XCTAssertEqual(try files(), [pub, "pass.txt"])
    }

    // MARK: recipient

    func testRecipientToStandardOutputAndFile() throws {
        try makeKeystore()
        let r = try vault("recipient")
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3, r.stdout)
        XCTAssertEqual(lines[0], "# fingerprint: \(identity.fingerprint.canonical)")
        XCTAssertTrue(lines[1].hasPrefix("# created: 20") && lines[1].hasSuffix("Z"), lines[1])
        XCTAssertEqual(lines[2], identity.recipient)

        let o = try vault("recipient", "-o", "me.pub")
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertEqual(o.stdout, "")
        XCTAssertEqual(try read("me.pub"), r.stdout)
        XCTAssertEqual(try mode("me.pub") & 0o622, 0o600, "a public key file is meant to be read (whatever the umask lets through)")

        // Refused without --force, accepted with it.
        try write("me.pub", "old")
        let refused = try vault("recipient", "-o", "me.pub")
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("already exists"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("--force"), refused.stderr)
        XCTAssertEqual(try read("me.pub"), "old")
        XCTAssertEqual(try vault("recipient", "-o", "me.pub", "--force").status, 0)
        XCTAssertEqual(try read("me.pub"), r.stdout)

        // The published file works for the auditor and the customer.
        let f = try plain(["fingerprint", "me.pub", "--expect", identity.fingerprint.canonical])
        XCTAssertEqual(f.status, 0, f.stderr)
        XCTAssertEqual(f.stdout, identity.fingerprint.canonical + "\n")
        try writeInput()
        let s = try plain(["seal", "--to", "me.pub", "--expect-fingerprint", identity.fingerprint.canonical,
                           "--label", "Acme BV", "--input", "creds.json", "-o", "acme.vault"])
        XCTAssertEqual(s.status, 0, s.stderr)
        let opened = try vault("open", "acme.vault")
        XCTAssertEqual(opened.status, 0, opened.stderr)
        XCTAssertEqual(opened.stdout, "Acme BV\texact-online\t\(clientID)\n")
    }

    // MARK: the whole hand-off

    func testFullHandOff() throws {
        try makeKeystore()
        XCTAssertEqual(try vault("recipient", "-o", "integrator-ks.pub").status, 0)

        // The customer seals from a private input file, checking the fingerprint.
        try write("acme.json", #"{"client_id":"\#(clientID.uppercased())","client_secret":"\#(secret)","webhook_secret":"\#(webhook)","region":"be","division":42}"#)
        XCTAssertEqual(try mode("acme.json"), 0o600)
        let s = try plain(["seal", "--to", "integrator-ks.pub", "--expect-fingerprint", identity.fingerprint.canonical,
                           "--label", "Acme BV", "--from", "Jan Jansen", "--note", "hi", "--input", "acme.json", "-o", "acme.vault"])
        XCTAssertEqual(s.status, 0, s.stderr)
        XCTAssertFalse(s.stderr.contains("warning"), s.stderr)

        // A generic entry with a quote in a value, for the env quoting.
        try write("other.json", #"{"api_key":"it's a 'key'","url":"https://x.example/a b"}"#)
        let g = try plain(["seal", "--to", "integrator-ks.pub", "--expect-fingerprint", identity.fingerprint.canonical,
                           "--label", "Other", "--type", "generic", "--input", "other.json", "-o", "other.vault"])
        XCTAssertEqual(g.status, 0, g.stderr)

        // open
        let o = try vault("open", "acme.vault", "other.vault")
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertEqual(o.stdout, "Acme BV\texact-online\t\(clientID)\nOther\tgeneric\t-\n")
        XCTAssertTrue(o.stderr.contains("opened 2, refused 0"), o.stderr)
        XCTAssertFalse(o.all.contains("it's a"))

        // list
        let l = try vault("list")
        XCTAssertEqual(l.status, 0, l.stderr)
        XCTAssertTrue(l.stdout.hasPrefix("LABEL"), l.stdout)
        XCTAssertTrue(l.stdout.contains("Acme BV"))
        XCTAssertTrue(l.stdout.contains(clientID))
        XCTAssertTrue(l.stdout.contains("Jan Jansen"))
        XCTAssertFalse(l.stdout.contains("it's a"))
        let lj = try XCTUnwrap(try json(try vault("list", "--json")) as? [[String: Any]])
        XCTAssertEqual(lj.count, 2)
        let acme = try XCTUnwrap(lj.first { $0["label"] as? String == "Acme BV" })
        XCTAssertEqual(acme["type"] as? String, "exact-online")
        XCTAssertEqual(acme["client_id"] as? String, clientID)
        XCTAssertEqual(acme["region"] as? String, "be")
        XCTAssertEqual(acme["from"] as? String, "Jan Jansen")
        XCTAssertEqual(acme["note"] as? String, "hi")
        XCTAssertEqual(acme["versions"] as? Int, 1)
        XCTAssertEqual(acme["fields"] as? [String], ["client_id", "client_secret", "webhook_secret", "region", "division"])
        for key in ["created", "expires", "opened"] {
            let t = try XCTUnwrap(acme[key] as? String, key)
            XCTAssertNotNil(UTCTime(exact: t), "\(key) is not an RFC 3339 time: \(t)")
        }
        XCTAssertEqual((acme["blob_id"] as? String)?.count, 32)
        let other = try XCTUnwrap(lj.first { $0["label"] as? String == "Other" })
        XCTAssertNil(other["client_id"])
        XCTAssertEqual(other["fields"] as? [String], ["api_key", "url"])

        // show
        let sh = try vault("show", "Acme BV")
        XCTAssertEqual(sh.status, 0, sh.stderr)
        XCTAssertTrue(sh.stdout.contains(clientID))
        XCTAssertTrue(sh.stdout.contains("client_secret"))
        XCTAssertTrue(sh.stdout.contains("hidden"), sh.stdout)
        let shj = try XCTUnwrap(try json(try vault("show", "Acme BV", "--json")) as? [String: Any])
        XCTAssertEqual(shj["label"] as? String, "Acme BV")
        let fields = try XCTUnwrap(shj["fields"] as? [[String: Any]])
        XCTAssertEqual(fields.map { $0["name"] as? String }, ["client_id", "client_secret", "webhook_secret", "region", "division"])
        XCTAssertEqual(fields.map { $0["secret"] as? Bool }, [false, true, true, false, false])
        XCTAssertEqual(fields[0]["value"] as? String, clientID)
        XCTAssertNil(fields[1]["value"])
        XCTAssertEqual(fields[4]["value"] as? Int, 42, "a number, as in export")
        let hist = try XCTUnwrap(try json(try vault("show", "Acme BV", "--json", "--history")) as? [[String: Any]])
        XCTAssertEqual(hist.count, 1)
        let gsh = try XCTUnwrap(try json(try vault("show", "Other", "--json")) as? [String: Any])
        XCTAssertEqual((gsh["fields"] as? [[String: Any]])?.map { $0["secret"] as? Bool }, [true, true], "generic values are all secret")
        XCTAssertFalse(try vault("show", "Other").stdout.contains("it's"))

        // get each field
        let expected = ["client_id": clientID, "client_secret": secret, "webhook_secret": webhook, "region": "be", "division": "42"]
        for (field, value) in expected {
            let r = try reveal("get", "Acme BV", field)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(r.stdout, value + "\n", field)
            XCTAssertEqual(r.stderr, "")
        }
        XCTAssertEqual(try reveal("get", "Other", "api_key").stdout, "it's a 'key'\n")
        let missing = try vault("get", "Acme BV", "app_name")
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("has no field 'app_name'"), missing.stderr)
        XCTAssertEqual(missing.stdout, "")
        let nolabel = try vault("get", "Nobody", "client_id")
        XCTAssertEqual(nolabel.status, 1)
        XCTAssertTrue(nolabel.stderr.contains("no entry 'Nobody'"), nolabel.stderr)

        // export json and env
        let ej = try reveal("export", "Acme BV")
        XCTAssertEqual(ej.status, 0, ej.stderr)
        let object = try XCTUnwrap(try json(ej) as? [String: Any])
        XCTAssertEqual(object["client_secret"] as? String, secret)
        XCTAssertEqual(object["webhook_secret"] as? String, webhook)
        XCTAssertEqual(object["client_id"] as? String, clientID)
        XCTAssertEqual(object["division"] as? Int, 42)
        let ee = try reveal("export", "Acme BV", "--format", "env")
        XCTAssertEqual(ee.stdout, """
            VAULT_CLIENT_ID='\(clientID)'
            VAULT_CLIENT_SECRET='\(secret)'
            VAULT_WEBHOOK_SECRET='\(webhook)'
            VAULT_REGION='be'
            VAULT_DIVISION='42'

            """)
        let ge = try reveal("export", "Other", "--format", "env")
        XCTAssertEqual(ge.stdout, "VAULT_API_KEY='it'\\''s a '\\''key'\\'''\nVAULT_URL='https://x.example/a b'\n")
        // A shell reads it back exactly.
        try write("other.env", ge.stdout)
        let sh2 = Process()
        sh2.executableURL = URL(fileURLWithPath: "/bin/sh")
        sh2.arguments = ["-c", ". ./other.env && printf '%s' \"$VAULT_API_KEY\""]
        sh2.currentDirectoryURL = dir
        let pipe = Pipe()
        sh2.standardOutput = pipe
        try sh2.run()
        let back = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        sh2.waitUntilExit()
        XCTAssertEqual(back, "it's a 'key'")
        XCTAssertEqual(try XCTUnwrap(try json(try reveal("export", "Other")) as? [String: String]),
                       ["api_key": "it's a 'key'", "url": "https://x.example/a b"])

        // remove; the same blob is then a replay
        let rm = try vault("remove", "Acme BV")
        XCTAssertEqual(rm.status, 0, rm.stderr)
        XCTAssertEqual(try labels(), ["Other"])
        let before = try digest(ks)
        try assertRefused(try vault("open", "acme.vault"), 1, "replay", unchanged: before)
        XCTAssertEqual(try labels(), ["Other"])
        let again = try vault("remove", "Acme BV")
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.stderr.contains("no entry 'Acme BV'"), again.stderr)
    }

    func testHelpOfEveryIntegratorCommandHasAnExample() throws {
        for command in ["init", "recipient", "open", "list", "show", "get", "export", "remove", "passwd"] {
            let r = try plain([command, "--help"])
            XCTAssertEqual(r.status, 0, command)
            XCTAssertTrue(r.stdout.contains("Example"), "no example in help of \(command)")
            XCTAssertTrue(r.stdout.contains("USAGE: vault \(command)"), r.stdout)
            XCTAssertEqual(r.stderr, "")
        }
    }

    func testInitRefusesAPassphraseFileOthersCanRead() throws {
        try write("pass.txt", passphrase, mode: 0o640)
        let r = try plain(["init", "--keystore", ks, "--passphrase-file", "pass.txt", "--kdf", "interactive"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("chmod 600 pass.txt"), r.stderr)
        XCTAssertFalse(try files().contains(ks))
    }

    /// `vault recipient > integrator.pub` on a full disk must not end with status 0 and an
    /// empty file: a failed write to standard output is a failure of the command.
    func testAFailedWriteToStandardOutputIsStatusOne() throws {
        try makeKeystore()
        try write("acme.vault", try sealed("Acme BV"))
        XCTAssertEqual(try vault("open", "acme.vault").status, 0)
        for args in [["recipient"], ["list"], ["list", "--json"], ["show", "Acme BV"], ["show", "Acme BV", "--json"],
                     ["get", "Acme BV", "client_id"], ["export", "Acme BV"]] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
            process.arguments = ["-w", CLI.binary] + args + ["--keystore", ks, "--key-file", keyFile]
            process.currentDirectoryURL = dir
            process.standardOutput = try XCTUnwrap(FileHandle(forWritingAtPath: "/dev/full"))
            let errors = Pipe()
            process.standardError = errors
            try process.run()
            let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 1, "\(args): \(stderr)")
            XCTAssertTrue(stderr.contains("vault: error: cannot write to standard output: "), "\(args): \(stderr)")
        }
        let f = Process()
        f.executableURL = URL(fileURLWithPath: CLI.binary)
        f.arguments = ["fingerprint", identity.recipient]
        f.standardOutput = try XCTUnwrap(FileHandle(forWritingAtPath: "/dev/full"))
        f.standardError = FileHandle.nullDevice
        try f.run()
        f.waitUntilExit()
        XCTAssertEqual(f.terminationStatus, 1, "fingerprint")
    }

    func testEmptyKeystore() throws {
        try makeKeystore()
        let l = try vault("list")
        XCTAssertEqual(l.status, 0)
        XCTAssertEqual(l.stdout, "")
        XCTAssertTrue(l.stderr.contains("no entries"), l.stderr)
        XCTAssertEqual(try vault("list", "--json").stdout.filter { !$0.isWhitespace }, "[]")
        let s = try vault("show", "Nobody")
        XCTAssertEqual(s.status, 1)
        XCTAssertTrue(s.stderr.contains("no entry 'Nobody'"), s.stderr)
    }
}
