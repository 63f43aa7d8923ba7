import Foundation
import XCTest
@testable import VaultKit

/// Hand-off requests in the keystore (issue 13, FORMAT.md §7): one answer per code, with the
/// request's label (its comparison form), before its expiry, decided under the commit's lock,
/// inside `store`'s single commit too. On the back end the run names (`TestBackEnd`).
final class KeystoreRequestTests: XCTestCase {
    var f: KeystoreFixture!
    var ks: Keystore!

    override func setUp() async throws {
        f = try KeystoreFixture(onTestBackEnd: ())
        ks = try await f.create()
    }

    /// An entry answering `code`, its blob sealed with the label `sealed`.
    func answer(_ code: String?, label: String = "Acme BV", sealed: String? = nil) -> KeystoreEntry {
        var e = sampleEntry(label: label)
        e.request = code
        e.origin = BlobOrigin(sha256: Array(repeating: 1, count: 32), fingerprint: Fingerprint(digest: Array(repeating: 2, count: 32)),
                              label: sealed ?? label)
        return e
    }

    /// A request recorded as the keystore records one, with any expiry (a past one included,
    /// which `issueRequest` refuses to make).
    func record(_ label: String, expires: UTCTime) async throws -> String {
        let code = randomBlobID()
        let info = RequestInfo(code: code, label: label, created: Timestamp.now(), expires: expires.text, state: .open,
                               answeredBy: nil, changed: nil)
        let key = try ks.lookupKey(.request, code)
        try await ks.write { (s) throws(KeystoreError) -> Void in
            try ks.commit([Keystore.NewRecord(type: .request, key: key, plaintext: try info.encoded())], dead: 0,
                          audit: .requestIssued(code: code, label: label, expires: info.expires), in: s)
        }
        return code
    }

    func testAnAnswerMarksTheRequestAnsweredInTheSameCommit() async throws {
        let r = try await ks.issueRequest(label: "Acme BV", expires: Handoff.now().adding(seconds: 3600))
        XCTAssertEqual(r.code.count, 32)
        XCTAssertEqual(r.state, .open)
        let e = answer(r.code)
        try await ks.insert(e, requireRequest: true)
        let stored = try await f.open().requests()
        XCTAssertEqual(stored.count, 1)
        XCTAssertEqual(stored[0].state, .answered)
        XCTAssertEqual(stored[0].answeredBy, e.blobID)
        XCTAssertEqual(stored[0].status(at: Handoff.now()), "answered")
        expectEqual(try await ks.entry("Acme BV").request, r.code)
        // The entry, its ledger record, the request and both audit records: one commit.
        let log = try await ks.auditLog().suffix(3).map(\.record.operation)
        XCTAssertEqual(log, ["open", "request-answer", "read"])
    }

    func testEachWayAForgedOrLateAnswerIsRefused() async throws {
        let r = try await ks.issueRequest(label: "Acme BV", expires: Handoff.now().adding(seconds: 3600))
        // Right key, no code, under the policy (the caller's option, then the setting).
        await assertThrows(.requestRequired(label: "Acme BV", bySetting: false)) { try await ks.insert(answer(nil), requireRequest: true) }
        try await ks.setSetting(KeystoreSettingName.requireRequest, to: "on")
        await assertThrows(.requestRequired(label: "Acme BV", bySetting: true)) { try await ks.insert(answer(nil)) }
        // A code this keystore never issued.
        let unknown = randomBlobID()
        await assertThrows(.unknownRequest(code: unknown)) { try await ks.insert(answer(unknown)) }
        // The right code with another label (the sealed label decides, not `--as`).
        await assertThrows(.requestLabelMismatch(code: r.code, requested: "Acme BV", sealed: "Acme NV")) {
            try await ks.insert(answer(r.code, label: "Acme BV", sealed: "Acme NV"))
        }
        // Late.
        let late = try await record("Late BV", expires: Handoff.now().adding(seconds: -60))
        let lateRequest = try await ks.requests().first { $0.code == late }!
        await assertThrows(.requestExpired(code: late, label: "Late BV", expired: lateRequest.expires)) {
            try await ks.insert(answer(late, label: "Late BV"))
        }
        XCTAssertEqual(lateRequest.status(at: Handoff.now()), "expired")
        // Cancelled.
        let gone = try await ks.issueRequest(label: "Gone BV", expires: Handoff.now().adding(seconds: 3600))
        let cancelled = try await ks.cancelRequest(code: gone.code)
        await assertThrows(.requestCancelled(code: gone.code, label: "Gone BV", at: cancelled.changed!)) {
            try await ks.insert(answer(gone.code, label: "Gone BV"))
        }
        await assertThrows(.requestCancelled(code: gone.code, label: "Gone BV", at: cancelled.changed!)) {
            try await ks.cancelRequest(code: gone.code)
        }
        await assertThrows(.noSuchRequest(code: "nonsense")) { try await ks.cancelRequest(code: "nonsense") }
        // Nothing of it was stored; the request is still open and answers once, then never again.
        expectEqual(try await ks.list().count, 0)
        try await ks.insert(answer(r.code, label: "Acme BV (NL)", sealed: "Acme BV"))   // stored under --as
        let answered = try await ks.requests().first { $0.code == r.code }!
        await assertThrows(.requestAnswered(code: r.code, label: "Acme BV", at: answered.changed!)) {
            try await ks.insert(answer(r.code, label: "Acme BV"), replace: true)
        }
        await assertThrows(.requestAnswered(code: r.code, label: "Acme BV", at: answered.changed!)) {
            try await ks.cancelRequest(code: r.code)
        }
        expectEqual(try await ks.list().map(\.label), ["Acme BV (NL)"])
    }

    func testTheLabelIsComparedInItsComparisonForm() async throws {
        // Issued in decomposed form, answered in composed form with a zero-width space.
        let r = try await ks.issueRequest(label: "Ba\u{308}ckerei", expires: Handoff.now().adding(seconds: 3600))
        XCTAssertEqual(r.label, "Bäckerei")
        try await ks.insert(answer(r.code, label: "Bäckerei\u{200B}"))
        expectEqual(try await ks.requests()[0].state, .answered)
    }

    /// Batch opening: one commit, each entry its own outcome; a code answered earlier in the
    /// same batch is answered.
    func testWithinOneStoreEachEntryGetsItsOwnRequestOutcome() async throws {
        let a = try await ks.issueRequest(label: "A", expires: Handoff.now().adding(seconds: 3600))
        let b = try await ks.issueRequest(label: "B", expires: Handoff.now().adding(seconds: 3600))
        let before = try await ks.auditLog().count
        let results = try await ks.store([answer(a.code, label: "A"), answer(a.code, label: "A2", sealed: "A"),
                                          answer(b.code, label: "B", sealed: "Not B"), answer(nil, label: "C"), answer(b.code, label: "B")],
                                         requireRequest: true)
        XCTAssertEqual(results.map { (try? $0.get()) != nil }, [true, false, false, false, true])
        guard case .failure(.requestAnswered(let code, _, _)) = results[1] else { return XCTFail("\(results[1])") }
        XCTAssertEqual(code, a.code)
        guard case .failure(.requestLabelMismatch) = results[2] else { return XCTFail("\(results[2])") }
        guard case .failure(.requestRequired) = results[3] else { return XCTFail("\(results[3])") }
        expectEqual(Set(try await ks.requests().map(\.state)), [.answered])
        let log = try await ks.auditLog().dropFirst(before).map(\.record.operation)
        XCTAssertEqual(log, ["open", "request-answer", "open", "request-answer"])
        expectEqual(try await ks.verifyAuditLog().problem, nil)
        try await ks.verify()
    }

    func testAnIssuedRequestSurvivesRekeyAndCompaction() async throws {
        let r = try await ks.issueRequest(label: "Acme BV", expires: Handoff.now().adding(seconds: 3600))
        try await ks.cancelRequest(code: r.code)
        let other = try await ks.issueRequest(label: "Other", expires: Handoff.now().adding(seconds: 3600))
        let newKey = f.dir + "/new.key"
        try KeyFile.create(at: newKey)
        try await ks.changeProtection(to: .keyFile(path: newKey))
        try await ks.compact()
        let reopened = try await f.open(.keyFile(path: newKey))
        let all = Dictionary(uniqueKeysWithValues: try await reopened.requests().map { ($0.code, $0.state) })
        XCTAssertEqual(all, [r.code: .cancelled, other.code: .open])
        try await reopened.insert(answer(other.code, label: "Other"))
        try await reopened.verify()
    }
}
