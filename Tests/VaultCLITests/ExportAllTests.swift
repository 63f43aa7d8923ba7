import Foundation
import XCTest
import VaultKit

/// `vault export --all`: every entry in one JSON object keyed by label, each member exactly the
/// object `vault export LABEL` prints; JSON only.
final class ExportAllTests: IntegratorTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        try makeKeystore()
    }

    func testEveryEntryKeyedByLabelAsExportPrintsIt() throws {
        try write("a.vault", try sealed("Acme BV", extra: ["--division", "42"]))
        try write("b.vault", try sealed("Beta \"quoted\" BV"))
        try write("c.vault", try sealed("Gamma", extra: ["--type", "generic"], input: #"{"token":"\#(secret)","path":"C:\\x \"q\""}"#))
        XCTAssertEqual(try vault("open", "a.vault", "b.vault", "c.vault").status, 0)
        let r = try reveal("export", "--all")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "")
        let all = try XCTUnwrap(try json(r) as? [String: Any])
        XCTAssertEqual(all.keys.sorted(), ["Acme BV", "Beta \"quoted\" BV", "Gamma"])
        for label in all.keys {
            let one = try reveal("export", label)
            XCTAssertEqual(one.status, 0, one.stderr)
            let single = try XCTUnwrap(try json(one) as? NSDictionary)
            XCTAssertEqual(all[label] as? NSDictionary, single, label)
        }
        XCTAssertEqual((all["Acme BV"] as? [String: Any])?["division"] as? Int, 42)
        // Sorted by label, as `vault list`.
        let order = ["Acme BV", "Beta", "Gamma"].map { r.stdout.range(of: "\"\($0)")!.lowerBound }
        XCTAssertEqual(order, order.sorted())
    }

    func testAnEmptyKeystoreGivesAnEmptyObject() throws {
        let r = try reveal("export", "--all")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "{}\n")
    }

    func testUsageMistakesPrintNothing() throws {
        try write("a.vault", try sealed("Acme BV"))
        XCTAssertEqual(try vault("open", "a.vault").status, 0)
        for args in [["export", "--all", "--format", "env"], ["export", "Acme BV", "--all"], ["export"]] {
            let r = try CLI.run(args + ["--keystore", ks, "--key-file", keyFile], in: dir)
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
            XCTAssertEqual(r.stdout, "", "\(args)")
            XCTAssertTrue(r.stderr.hasPrefix("vault: error: "), r.stderr)
        }
    }

    /// More entries than one buffer of secret memory holds: written in several pieces, all there.
    func testManyEntriesInSeveralPieces() throws {
        var text = ""
        for n in 0..<400 { text += try sealRaw(try payloadJSON(label: "Entry \(n)")) + "\n" }
        try write("many.txt", text)
        let opened = try vault("open", "many.txt")
        XCTAssertEqual(opened.status, 0, opened.stderr)
        let r = try reveal("export", "--all")
        XCTAssertEqual(r.status, 0, r.stderr)
        let all = try XCTUnwrap(try json(r) as? [String: [String: Any]])
        XCTAssertEqual(all.count, 400)
        XCTAssertEqual(all["Entry 399"]?["client_secret"] as? String, secret)
        XCTAssertGreaterThan(r.stdout.utf8.count, 64 * 1024, "the test should need more than one buffer")
    }

    /// The plaintext of a valid payload for the keystore's key, with a long redirect URI so that
    /// a few hundred entries fill more than one output buffer.
    private func payloadJSON(label: String) throws -> String {
        let p = try payload(label: label)
        return #"{"v":1,"type":"exact-online","id":"\#(p.id)","recipient":"\#(p.recipient.canonical)","created":"\#(p.created.text)","expires":"\#(p.expires.text)","label":"\#(label)","credentials":{"client_id":"\#(clientID)","client_secret":"\#(secret)","redirect_uri":"https://example.com/\#(String(repeating: "x", count: 150))"}}"#
    }
}
