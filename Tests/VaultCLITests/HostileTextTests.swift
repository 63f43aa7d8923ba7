import Foundation
import XCTest
import VaultKit

/// Issue 8, item 2: text someone else chose — payload key names, labels, from, note, a request's
/// label, file names, arguments — reaches standard error and standard output only escaped. Every
/// path that can show such text is walked with a hostile string: ESC sequences (erase line, OSC 52
/// clipboard write, C1 CSI), BEL, CR, LF, zero-width and bidirectional characters. The one
/// exception is the value `get` and `export` print, which is data asked for.
final class HostileTextTests: IntegratorTestCase {
    /// Erase the line, return, ring, write the clipboard (OSC 52), a C1 CSI, a fake line.
    static let controls = "\u{1b}[2K\r\u{07}\u{1b}]52;c;aGk=\u{07}\u{9b}31m\nvault: stored"
    /// Zero-width, bidi overrides and isolates, an Arabic letter mark, a BOM, a soft hyphen, a
    /// variation selector, a tag character: none is a control character, so a label may hold them.
    static let invisible = "\u{200b}\u{200c}\u{200d}\u{2060}\u{202e}\u{2066}\u{2069}\u{061c}\u{200f}\u{feff}\u{ad}\u{fe0f}\u{e0041}"
    /// Both, for places with no rule against controls (key names, file names, arguments).
    static let hostile = "ev" + controls + invisible + "il"
    /// Text a payload rule accepts: no Cc.
    static let printable = "Acme" + invisible + " BV"

    /// A scalar that must never reach a terminal raw.
    static func forbidden(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v == 0x0a || v == 0x09 { return false }
        return v < 0x20 || (0x7f...0x9f).contains(v) || [0x061c, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2060, 0xfeff, 0xad, 0xfe0f, 0xe0041].contains(v)
            || (0x202a...0x202e).contains(v) || (0x2066...0x2069).contains(v)
    }

    /// Asserts that nothing raw reached either stream, and that the text was really shown
    /// (escaped) where `shown` says, so that no case passes by saying nothing.
    func assertEscaped(_ r: Run, shown: Bool = true, stdoutIsData: Bool = false, _ what: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        let streams = stdoutIsData ? [r.stderr] : [r.stderr, r.stdout]
        for s in streams {
            let bad = s.unicodeScalars.filter(Self.forbidden)
            XCTAssertTrue(bad.isEmpty, "\(what): raw \(bad.map { String($0.value, radix: 16) }) in: \(s.debugDescription)", file: file, line: line)
        }
        if shown {
            // An argument's LF ends argument-parser's first line: then the ESC is what shows.
            let escapes = ["\\u{202e}", "\\u202e", "\\u{1b}"]
            XCTAssertTrue(escapes.contains { r.all.contains($0) }, "\(what): the hostile text was not shown: \(r.all)", file: file, line: line)
        }
    }

    /// A JSON string literal of `s` with every control character as \u00XX.
    func jsonLiteral(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            if u.value < 0x20 || u.value == 0x22 || u.value == 0x5c { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
        }
        return out + "\""
    }

    /// A payload text sealed to the keystore, valid but for what `edit` changes in its members.
    func rawBlob(type: String = "exact-online", credentials: String? = nil, extra: String = "") -> String {
        let now = Handoff.now()
        let creds = credentials ?? #"{"client_id":"\#(clientID)","client_secret":"\#(secret)"}"#
        let json = #"{"v":1,"type":"\#(type)","id":"\#(Handoff.newCode())","recipient":"\#(identity.fingerprint.canonical)","# +
            #""created":"\#(now.text)","expires":"\#(now.adding(seconds: 86400).text)","label":"Acme BV"\#(extra),"credentials":\#(creds)}"#
        return try! sealRaw(json)
    }

    func testPayloadKeyNamesInRefusalsAreEscaped() throws {
        try makeKeystore()
        let key = jsonLiteral(Self.hostile)
        let blobs = [
            "unknown top-level key": rawBlob(extra: ",\(key):\"x\""),
            "unknown exact-online key": rawBlob(credentials: #"{"client_id":"\#(clientID)","client_secret":"\#(secret)",\#(key):"x"}"#),
            "generic key breaking its rule": rawBlob(type: "generic", credentials: "{\(key):\"x\"}"),
            "duplicate key": rawBlob(extra: ",\(key):\"x\",\(key):\"y\""),
            "key path of a JSON rule": rawBlob(extra: ",\(key):\"\\udc00\""),
            "null under the key": rawBlob(extra: ",\(key):null"),
        ]
        for (what, blob) in blobs {
            try write("b.vault", blob)
            let before = try digest(ks)
            let r = try vault("open", "b.vault")
            XCTAssertEqual(r.status, 1, "\(what): \(r.stderr)")
            assertEscaped(r, what)
            XCTAssertFalse(r.stderr.contains("\nvault: stored"), "\(what): a forged line")
            XCTAssertEqual(try digest(ks), before)
        }
    }

    func testSenderTextOfAStoredEntryIsEscapedEverywhere() throws {
        try makeKeystore()
        let note = Self.printable + "\nvault: hint: stored\tfine"
        try write("acme.vault", try sealed(Self.printable, extra: ["--from", Self.printable, "--note", note]))
        let open = try vault("open", "acme.vault")
        XCTAssertEqual(open.status, 0, open.stderr)
        assertEscaped(open, "open's stored line")
        assertEscaped(try vault("list"), "list")
        assertEscaped(try vault("list", "--json"), "list --json")
        assertEscaped(try vault("show", Self.printable), "show")
        assertEscaped(try vault("show", "--json", "--history", Self.printable), "show --json")
        assertEscaped(try vault("get", Self.printable, Self.hostile), "get of a missing field")
        assertEscaped(try reveal("get", Self.printable, "client_id"), shown: false, stdoutIsData: true, "get")
        assertEscaped(try reveal("export", Self.printable, "--format", "env"), shown: false, stdoutIsData: true, "export")
        assertEscaped(try vault("export", Self.printable, "--format", "env", "--prefix", Self.hostile), "export --prefix")
        assertEscaped(try vault("open", "acme.vault"), "a replay names the label")
        try write("again.vault", try sealed(Self.printable))
        assertEscaped(try vault("open", "again.vault"), "label in use")
        assertEscaped(try vault("open", "--replace", "again.vault"), "replaced hint")
        assertEscaped(try vault("show", "--history", Self.printable), "show --history")
        assertEscaped(try vault("remove", Self.printable), "remove")
        assertEscaped(try vault("get", Self.hostile, "client_id"), "get of a missing entry")
        assertEscaped(try vault("open", "--as", Self.hostile, "acme.vault"), shown: false, "--as breaking the label rule")
    }

    func testFileNamesAndArgumentsAreEscaped() throws {
        try makeKeystore()
        let name = Self.hostile + ".vault"
        try write(name, "no blob here\n")
        assertEscaped(try vault("open", name), "open of a file with no blob")
        assertEscaped(try vault("open", Self.hostile), "open of a missing file")
        assertEscaped(try run("inspect", name), "inspect")
        assertEscaped(try run("fingerprint", name), "fingerprint of a file")
        assertEscaped(try run("fingerprint", pub, "--expect", Self.hostile), "fingerprint --expect")
        assertEscaped(try run("seal", "--to", Self.hostile, "--input", "x.json"), "seal --to")
        assertEscaped(try run("seal", "--to", pub, "--label", Self.hostile, "--input", "x.json"), "seal --label")
        assertEscaped(try run("seal", "--to", pub, "--type", Self.hostile), "seal --type")
        assertEscaped(try run("seal", "--to", pub, "--region", Self.hostile), "seal --region")
        assertEscaped(try run("seal", "--to", pub, "--expect-fingerprint", Self.hostile), "seal --expect-fingerprint")
        assertEscaped(try run("seal", "--to", pub, "--input", Self.hostile), "seal --input")
        assertEscaped(try run("seal", "--to", pub, "--input", "x.json", "-o", Self.hostile + "/out"), "seal -o")
        assertEscaped(try plain(["list", "--keystore", Self.hostile, "--key-file", keyFile]), "--keystore")
        assertEscaped(try plain(["list", "--keystore", ks, "--key-file", Self.hostile]), "--key-file")
        assertEscaped(try plain(["list", "--keystore", ks, "--passphrase-file", Self.hostile]), "--passphrase-file")
        assertEscaped(try plain(["list", "--\(Self.hostile)"]), "an unknown option")
        assertEscaped(try plain([Self.hostile]), "an unknown command")
        assertEscaped(try plain(["export", "x", "--format", Self.hostile]), "a bad option value")
    }

    func testSealInputKeyNamesAreEscaped() throws {
        try makeKeystore()
        let key = jsonLiteral(Self.hostile)
        try write("x.json", "{\(key):\"x\"}")
        let base = ["seal", "--to", pub, "--expect-fingerprint", fingerprint, "--label", "A", "--input", "x.json"]
        assertEscaped(try run(base), "seal --input exact-online")
        assertEscaped(try run(base + ["--type", "generic"]), "seal --input generic")
        try write("x.json", "{\(key):\"x\",\(key):\"x\"}")
        assertEscaped(try run(base), "seal --input duplicate key")
    }

    func testARequestLabelIsEscaped() throws {
        try makeKeystore()
        let request = [HandoffRequest.begin, "Recipient: \(identity.recipient)", "Fingerprint: \(identity.fingerprint.canonical)",
                       "Label: \(Self.printable)", "Code: \(Handoff.newCode())", "Expires: 2099-01-01T00:00:00Z",
                       HandoffRequest.end].joined(separator: "\n") + "\n"
        try write("request.txt", request)
        assertEscaped(try run("inspect", "request.txt"), "inspect of a request")
        let json = try run("inspect", "--json", "request.txt")
        assertEscaped(json, "inspect --json of a request")
        // JSON escapes are still the same text for a program that reads it.
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((object["request"] as? [String: Any])?["label"] as? String, Self.printable)
    }
}
