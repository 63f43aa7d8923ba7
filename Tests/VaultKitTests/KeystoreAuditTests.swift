import Foundation
import XCTest
@testable import VaultKit

/// The audit log (issue 13, docs/KEYSTORE.md §2.8): a record for every change and every read
/// of secrets, in the same commit; a chain whose breaks `verifyAuditLog` names; an export whose
/// signed head an auditor checks with the recipient alone, and against which a keystore put
/// back to an older copy is seen. On the back end the run names (`TestBackEnd`), but for the
/// two tests that put a file back or serve it read-only.
final class KeystoreAuditTests: XCTestCase {
    func operations(_ ks: Keystore) async throws -> [String] { try await ks.auditLog().map(\.record.operation) }

    /// Every operation of the keystore, in order, and the record each one leaves.
    func testEveryChangeAndEveryReadOfSecretsLeavesItsRecord() async throws {
        let f = try KeystoreFixture(onTestBackEnd: ())
        let ks = try await f.create()
        let original = try await ks.identity().publicKey.fingerprint
        var expected = ["init"]
        let first = sampleEntry()
        try await ks.insert(first)
        expected.append("open")
        try await ks.insert(sampleEntry(secretValue: "S3condSecret"), replace: true)
        expected.append("replace")
        _ = try await ks.entry("Acme BV")
        expected.append("read")
        _ = try await ks.entry("Acme BV", version: 1, for: .get(field: "client_secret"))
        expected.append("get")
        _ = try await ks.entry("Acme BV", for: .get(field: "no_such_field"))   // nothing handed out: no record
        _ = try await ks.entry("Acme BV", for: .export)
        expected.append("export")
        _ = try await ks.history("Acme BV")
        expected.append("read")
        _ = try await ks.versions("Acme BV")   // no values: no record
        _ = try await ks.list()
        try await ks.setSetting(KeystoreSettingName.requireRequest, to: "off")
        expected.append("setting")
        let request = try await ks.issueRequest(label: "Bäckerei", expires: Handoff.now().adding(seconds: 3600))
        expected.append("request-issue")
        let other = try await ks.issueRequest(label: "Gone BV", expires: Handoff.now().adding(seconds: 3600))
        expected.append("request-issue")
        try await ks.cancelRequest(code: other.code)
        expected.append("request-cancel")
        var answer = sampleEntry(label: "Bäckerei")
        answer.request = request.code
        answer.origin = BlobOrigin(sha256: Array(repeating: 7, count: 32), fingerprint: try await ks.identity().publicKey.fingerprint,
                                   label: "Bäckerei")
        try await ks.insert(answer)
        expected += ["open", "request-answer"]
        try await ks.remove("Bäckerei")
        expected.append("remove")
        _ = try await ks.withTokenLease("Acme BV") { _ in
            TokenState(refreshToken: secret("RT-secret"), accessToken: secret("AT-secret"), accessTokenExpires: "2026-11-24T00:10:00Z")
        }
        expected += ["token-lease", "token-store"]
        _ = try await ks.withTokenLease("Acme BV") { _ in nil }
        expected += ["token-lease", "token-release"]
        _ = try await ks.refreshTokenState("Acme BV", needsRefresh: { _, _ in true }) { _, _ in
            .stored(TokenState(refreshToken: secret("RT2-secret"), accessToken: secret("AT2-secret"), accessTokenExpires: "2026-11-24T00:20:00Z"))
        }
        expected += ["token-refresh-start", "token-refresh"]
        let next = try KeyPair.generate()
        let now = Timestamp.now()
        try await ks.updateIdentities([IdentityUpdate(keyPair: next, state: .current, created: now),
                                       IdentityUpdate(keyPair: try await ks.identity(), state: .active, created: try await ks.identityCreated())],
                                      operation: .rotate)
        expected += ["identity", "identity"]
        let keyPath = f.dir + "/second.key"
        try KeyFile.create(at: keyPath)
        try await ks.addUnlockMethod(name: "second", .keyFile(path: keyPath))
        expected.append("unlock-add")
        try await ks.removeUnlockMethod(name: "second")
        expected.append("unlock-remove")
        let newKey = f.dir + "/new.key"
        try KeyFile.create(at: newKey)
        try await ks.changeProtection(to: .keyFile(path: newKey))
        expected.append("passwd")
        _ = try await ks.image()
        expected.append("backup")
        try await ks.compact()
        expected.append("compact")

        let reopened = try await f.open(.keyFile(path: newKey))
        let log = try await reopened.auditLog()
        XCTAssertEqual(log.map(\.record.operation), expected)
        XCTAssertEqual(log.map(\.record.number), Array(1...UInt64(expected.count)))
        expectEqual(try await reopened.verifyAuditLog().problem, nil)
        try await reopened.verify()

        // What each record names.
        let byOp = { (op: String) in log.filter { $0.record.operation == op }.map(\.record) }
        XCTAssertEqual(byOp("init")[0].fingerprint, original.canonical)
        XCTAssertEqual(byOp("get")[0].fields, ["client_secret"])
        XCTAssertEqual(byOp("get")[0].detail, "entry version 1 of 2")
        XCTAssertEqual(byOp("export")[0].fields, first.fields.map(\.name))
        XCTAssertEqual(byOp("open")[1].request, request.code)
        XCTAssertEqual(byOp("open")[1].blobSHA256, Array(repeating: 7, count: 32))
        XCTAssertEqual(byOp("open")[1].blobID, answer.blobID)
        XCTAssertEqual(byOp("request-answer")[0].request, request.code)
        XCTAssertEqual(byOp("setting")[0].subject, "require-request")
        XCTAssertEqual(byOp("setting")[0].detail, "off")
        XCTAssertEqual(byOp("token-refresh")[0].detail, "stored")
        XCTAssertEqual(byOp("identity").map(\.detail), ["current", "active"])
        XCTAssertEqual(byOp("identity").map(\.subject), ["rotate", "rotate"])
        XCTAssertEqual(byOp("unlock-add")[0].subject, "second")
        XCTAssertEqual(byOp("remove")[0].label, "Bäckerei")

        // No secret value anywhere in the log: field names only.
        let all = log.flatMap(\.record.bytes)
        for value in ["EKKQh8KqRptS", "S3condSecret", "dsUfeHBTYVayMQGQ", "RT-secret", "AT-secret", "RT2-secret", "AT2-secret"] {
            XCTAssertNil(find(Array(value.utf8), in: all), "\(value) is in the audit log")
        }
    }

    /// Issue 12's operations (merged after the log): rotate, retire, import, export of an
    /// identity, a backup and its restore, each with its records.
    func testKeyOperationsLeaveTheirRecords() async throws {
        let f = try KeystoreFixture(onTestBackEnd: ())
        let ks = try await f.create()
        let first = try await ks.identity().publicKey.fingerprint
        let start = try await ks.auditLog().count
        let second = try await ks.rotateIdentity()
        _ = try await ks.retireIdentity(fingerprint: first)
        _ = try await ks.retireIdentity(fingerprint: first)     // retired already: nothing written
        let imported = try KeyPair.generate()
        try await ks.importIdentity(imported, makeCurrent: false)
        _ = try await ks.exportIdentity(fingerprint: imported.publicKey.fingerprint)
        let backupPath = f.dir + "/k.backup"
        let fd = open(backupPath, O_RDWR | O_CREAT | O_EXCL, 0o600)
        defer { close(fd) }
        let backupKey = f.dir + "/backup.key"
        try KeyFile.create(at: backupKey)
        try await ks.writeBackup(to: fd, path: backupPath, protection: .keyFile(path: backupKey))
        let log = try await ks.auditLog().dropFirst(start).map(\.record)
        XCTAssertEqual(log.map(\.operation), ["identity", "identity", "identity", "identity", "identity-export", "backup"])
        XCTAssertEqual(log.map(\.subject), ["rotate", "rotate", "retire", "import", nil, nil])
        XCTAssertEqual(log.map(\.detail), ["active", "current", "retired", "retired", nil, nil])
        XCTAssertEqual(log[1].fingerprint, second.fingerprint.canonical)
        XCTAssertEqual(log[4].fingerprint, imported.publicKey.fingerprint.canonical)
        XCTAssertEqual(log[4].fields, ["secret_key"])
        // The restored keystore's log is the keystore's as the backup took it: ending with `backup`.
        lseek(fd, 0, SEEK_SET)
        let restored = f.dir + "/restored.vault"
        try await Keystore.restore(backup: fd, backupPath: backupPath, unlock: .keyFile(path: backupKey), to: restored)
        let copy = try await Keystore.open(at: restored, unlock: .keyFile(path: f.keyPath))
        expectEqual(try await copy.auditLog(), try await ks.auditLog())
        expectEqual(try await copy.verifyAuditLog().problem, nil)
    }

    func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        return (0...(haystack.count - needle.count)).first { Array(haystack[$0..<($0 + needle.count)]) == needle }
    }

    /// A change and its record are one commit: a refused change leaves no record, and the
    /// state's count and head always name the newest record.
    func testARefusedChangeLeavesNoRecordAndTheStateHoldsTheHead() async throws {
        let f = try KeystoreFixture(onTestBackEnd: ())
        let ks = try await f.create()
        let e = sampleEntry()
        try await ks.insert(e)
        await assertThrows(.replay(blobID: e.blobID, label: "Acme BV")) { try await ks.insert(e) }
        await assertThrows(.noSuchEntry(label: "Nobody")) { try await ks.entry("Nobody") }
        await assertThrows(.noSuchEntryVersion(label: "Acme BV", version: 2, count: 1)) { try await ks.entry("Acme BV", version: 2) }
        let log = try await ks.auditLog()
        XCTAssertEqual(log.map(\.record.operation), ["init", "open"])
        let v = try await ks.verifyAuditLog()
        XCTAssertEqual(v.count, 2)
        XCTAssertEqual(v.head, log.last?.hash)
        XCTAssertEqual(log[1].record.previous, log[0].hash)
        XCTAssertEqual(log[0].record.previous, [UInt8](repeating: 0, count: 32))
    }

    // MARK: A log edited by someone holding the keystore's secrets

    /// Rewrites the keystore as someone holding its key file could: every record kept, the
    /// audit records' plaintexts passed through `edit` and sealed again in their slots (fewer
    /// slots are filled when records are dropped). With `restate`, the state's audit count and
    /// head are recomputed from the edited records (a careful forger); else kept.
    func forge(_ f: KeystoreFixture, restate: Bool, _ edit: (inout [[UInt8]]) -> Void) async throws {
        let ks = try await f.open()
        try await ks.write { (s) throws(KeystoreError) in
            let v = ks.current()
            let rows = try ks.liveRecords(s, authenticateTail: true).rows.sorted { $0.sequence < $1.sequence }
            var audit = try rows.filter { $0.type == .audit }.map { (r) throws(KeystoreError) in try ks.open(r, s).withUnsafeBytes { Array($0) } }
            edit(&audit)
            var frames: [[UInt8]] = []
            var refs: [FrameRef] = []
            var position = v.logStart
            var next = 0
            for r in rows {
                let plain: SecretBytes
                if r.type == .audit {
                    guard next < audit.count else { continue }
                    do throws(SodiumError) { plain = try SecretBytes(audit[next]) } catch { throw .sodium(error) }
                    next += 1
                } else {
                    plain = try ks.open(r, s)
                }
                let frame = try SealedFrame.seal(plain, type: r.type, sequence: r.sequence, key: r.key, keystoreID: ks.keystoreID,
                                                 recordKey: ks.keys.record)
                refs.append(FrameRef(position: position, length: frame.count, type: r.type, sequence: r.sequence, key: r.key))
                frames.append(frame)
                position += frame.count
            }
            var count = v.state.auditCount, head = v.state.auditHead
            if restate {
                count = UInt64(audit.count)
                head = audit.last.map { AuditChain.hash($0, keystoreID: ks.keystoreID) } ?? KeystoreState.zeroDigest
            }
            var h = v.header
            h.generation = Random.bytes(KeystoreHeader.generationByteCount)
            let parts = try KeystoreImage.copy(header: h, keys: ks.keys, frames: frames, refs: refs, lastSequence: v.state.lastSequence,
                                               auditCount: count, auditHead: head)
            try s.replaceAll(header: parts.header, state: parts.state, frames: parts.frames)
        }
    }

    /// A keystore with a few records: init, open, read, open, read; on the run's back end
    /// unless `file`.
    func keystoreWithHistory(file: Bool = false) async throws -> KeystoreFixture {
        let f = try KeystoreFixture(onTestBackEnd: file ? nil : ())
        let ks = try await f.create()
        try await ks.insert(sampleEntry())
        _ = try await ks.entry("Acme BV", for: .get(field: "client_secret"))
        try await ks.insert(sampleEntry(label: "Bäckerei"))
        _ = try await ks.entry("Bäckerei", for: .export)
        return f
    }

    /// A record re-encoded with one byte of its readable text changed (the forger's edit).
    static func changed(_ bytes: [UInt8], operation: String) throws -> [UInt8] {
        let r = try AuditRecord(bytes: bytes)
        return AuditRecord(number: r.number, previous: r.previous, time: r.time, operation: operation, label: r.label,
                           blobID: r.blobID, blobSHA256: r.blobSHA256, fingerprint: r.fingerprint, request: r.request,
                           fields: r.fields, subject: r.subject, detail: r.detail).bytes
    }

    func testALogEditedByHandIsDetected() async throws {
        // A record changed (a `get` made to read as a `show`): the next one no longer follows it.
        var f = try await keystoreWithHistory()
        try await forge(f, restate: false) { $0[2] = try! Self.changed($0[2], operation: "list") }
        expectEqual(try await f.open().verifyAuditLog().problem, .brokenLink(number: 4))
        // The newest record changed: it is not the head the state holds.
        f = try await keystoreWithHistory()
        try await forge(f, restate: false) { $0[4] = try! Self.changed($0[4], operation: "list") }
        expectEqual(try await f.open().verifyAuditLog().problem, .headMismatch(number: 5))
        // A record removed.
        f = try await keystoreWithHistory()
        try await forge(f, restate: true) { $0.remove(at: 2) }
        expectEqual(try await f.open().verifyAuditLog().problem, .missing(number: 3, next: 4))
        // Two records swapped.
        f = try await keystoreWithHistory()
        try await forge(f, restate: false) { $0.swapAt(2, 3) }
        expectEqual(try await f.open().verifyAuditLog().problem, .outOfOrder(number: 4, after: 2))
        // The tail cut off, the state left as it was.
        f = try await keystoreWithHistory()
        try await forge(f, restate: false) { $0.removeLast(2) }
        expectEqual(try await f.open().verifyAuditLog().problem, .cutShort(stateCount: 5, logCount: 3))
        // Every verify of the whole keystore says so too.
        await assertThrows(.damaged(detail: "audit log: the log ends at record 3, but the keystore's state records 5")) { () async throws in
            try await f.open().verify()
        }
        // And the command line, naming the first broken link (exit 1).
        let r = try vault(["log", "--verify"], f)
        XCTAssertEqual(r.status, 1, r.err)
        XCTAssertTrue(r.err.contains("vault: error: the audit log is broken: the log ends at record 3, but the keystore's state records 5: "
                                     + "records were cut off the end"), r.err)
        let g = try await keystoreWithHistory()
        try await forge(g, restate: false) { $0[2] = try! Self.changed($0[2], operation: "list") }
        let b = try vault(["log", "--verify"], g)
        XCTAssertEqual(b.status, 1, b.err)
        XCTAssertTrue(b.err.contains("record 4 does not carry the hash of record 3: one of them was changed"), b.err)
        let intact = try await keystoreWithHistory()
        XCTAssertEqual(try vault(["log", "--verify"], intact).status, 0)
    }

    /// The built `vault` with `args` on the fixture's keystore.
    func vault(_ args: [String], _ f: KeystoreFixture) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = productsDirectory().appendingPathComponent("vault")
        p.arguments = args + ["--keystore", f.location, "--key-file", f.keyPath]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    func testALogRewrittenWholeIsSeenOnlyAgainstAnExport() async throws {
        let f = try await keystoreWithHistory()
        let export = try await f.open().auditExport()
        expectEqual(Keystore.exportProblem(export), nil)
        // The tail cut and the state restated: the chain alone holds.
        try await forge(f, restate: true) { $0.removeLast(2) }
        let ks = try await f.open()
        expectEqual(try await ks.verifyAuditLog().problem, nil)
        expectEqual(try await ks.verifyAuditLog(against: export).problem, .olderThanExport(keystoreCount: 3, exportCount: 5))
        // Written since, until it is as long again: the records differ from the export's.
        _ = try await ks.entry("Acme BV")
        _ = try await ks.entry("Acme BV")
        _ = try await ks.entry("Acme BV")
        expectEqual(try await ks.verifyAuditLog(against: export).problem, .differsFromExport(number: 4))
    }

    func testAKeystorePutBackToAnOlderCopyIsDetectedAgainstALaterExport() async throws {
        let f = try await keystoreWithHistory(file: true)
        let older = try f.bytes()
        let ks = try await f.open()
        _ = try await ks.entry("Acme BV", for: .get(field: "client_id"))
        try await ks.remove("Bäckerei")
        let later = try await ks.auditExport()
        try f.write(older)
        let restored = try await f.open()
        expectEqual(try await restored.verifyAuditLog().problem, nil)
        expectEqual(try await restored.verifyAuditLog(against: later).problem, .olderThanExport(keystoreCount: 5, exportCount: 7))
        _ = try await restored.entry("Acme BV")
        _ = try await restored.entry("Acme BV")
        expectEqual(try await restored.verifyAuditLog(against: later).problem, .differsFromExport(number: 6))
    }

    func testAnExportLaterExtendedStillChecks() async throws {
        let f = try await keystoreWithHistory()
        let ks = try await f.open()
        let first = try await ks.auditExport()
        XCTAssertEqual(first.count, 5)
        try await ks.remove("Acme BV")
        _ = try await ks.issueRequest(label: "Next BV", expires: Handoff.now().adding(seconds: 600))
        let second = try await ks.auditExport()
        XCTAssertEqual(second.count, 7)
        expectEqual(try await ks.verifyAuditLog(against: first), AuditVerification(count: 7, head: second.head, exportCount: 5, problem: nil))
        // The file round-trips, byte for byte in its records.
        let parsed = try AuditExport.parse(Array(second.text().utf8))
        XCTAssertEqual(parsed, second)
        expectEqual(try await ks.verifyAuditLog(against: parsed).problem, nil)
    }

    func testAnEditedExportIsRefused() async throws {
        let f = try await keystoreWithHistory()
        let ks = try await f.open()
        let e = try await ks.auditExport()
        // A record's bytes changed (its hash restated): the chain of the export breaks.
        var records = e.records
        let changed = try AuditRecord(bytes: try Self.changed(records[1].record.bytes, operation: "list"))
        records[1] = ExportedAuditRecord(record: changed, hash: AuditChain.hash(changed.bytes, keystoreID: e.keystoreID))
        let edited = AuditExport(keystoreID: e.keystoreID, recipient: e.recipient, fingerprint: e.fingerprint, verifyingKey: e.verifyingKey,
                                 count: e.count, head: e.head, time: e.time, signature: e.signature, records: records)
        expectEqual(Keystore.exportProblem(edited), .export(.brokenLink(number: 3)))
        // Records dropped and the count lowered: the signature no longer holds.
        let cut = AuditExport(keystoreID: e.keystoreID, recipient: e.recipient, fingerprint: e.fingerprint, verifyingKey: e.verifyingKey,
                              count: 3, head: e.records[2].hash, time: e.time, signature: e.signature, records: Array(e.records.prefix(3)))
        expectEqual(Keystore.exportProblem(cut), .signature(detail: "the signature of its head does not verify"))
        // Another key's export of this log: not an identity of this keystore.
        let stranger = try KeyPair.generate()
        let signed = try IdentitySignature.sign(e.signedMessage, secretKey: stranger.secretKey)
        let foreign = AuditExport(keystoreID: e.keystoreID, recipient: stranger.publicKey.bytes, fingerprint: stranger.publicKey.fingerprint,
                                  verifyingKey: signed.verifyingKey, count: e.count, head: e.head, time: e.time, signature: signed.signature,
                                  records: e.records)
        expectEqual(Keystore.exportProblem(foreign), nil)
        expectEqual(try await ks.verifyAuditLog(against: foreign).problem,
                    .signature(detail: "it is signed by \(stranger.publicKey.fingerprint.canonical), which is not an identity of this keystore"))
        // The readable copy edited, the bytes left: refused when read.
        let text = e.text().replacingOccurrences(of: "\"operation\": \"get\"", with: "\"operation\": \"list\"")
        XCTAssertThrowsError(try AuditExport.parse(Array(text.utf8))) { error in
            XCTAssertEqual(error as? AuditExportError, .readable(number: 3, key: "operation"))
        }
    }

    // MARK: Signatures

    func testTheIdentitySignatureIsAnEd25519SignatureUnderTheRecipientsEdwardsForm() throws {
        for _ in 0..<20 {
            let pair = try KeyPair.generate()
            let message = Random.bytes(Int.random(in: 0...200))
            let signed = try IdentitySignature.sign(message, secretKey: pair.secretKey)
            XCTAssertEqual(signed.verifyingKey, try IdentitySignature.verifyingKey(of: pair.secretKey))
            XCTAssertTrue(IdentitySignature.belongs(signed.verifyingKey, to: pair.publicKey))
            XCTAssertTrue(IdentitySignature.verify(signed.signature, message: message, verifyingKey: signed.verifyingKey))
            XCTAssertFalse(IdentitySignature.verify(signed.signature, message: message + [0], verifyingKey: signed.verifyingKey))
            var bad = signed.signature
            bad[Int.random(in: 0..<64)] ^= 1
            XCTAssertFalse(IdentitySignature.verify(bad, message: message, verifyingKey: signed.verifyingKey))
            XCTAssertFalse(IdentitySignature.belongs(signed.verifyingKey, to: try KeyPair.generate().publicKey))
            // Two signatures of one message differ (a fresh nonce), and both verify.
            let again = try IdentitySignature.sign(message, secretKey: pair.secretKey)
            XCTAssertNotEqual(again.signature, signed.signature)
            XCTAssertTrue(IdentitySignature.verify(again.signature, message: message, verifyingKey: signed.verifyingKey))
        }
    }

    // MARK: A keystore that cannot be written

    func testAReadThatCannotBeLoggedFailsUnlessTheSettingAllowsIt() async throws {
        let f = try KeystoreFixture()
        let ks = try await f.create()
        try await ks.insert(sampleEntry())
        let refusal = KeystoreError.io(operation: "open", path: f.path + ".lock", errno: EROFS)
        let readOnly = { () async throws -> Keystore in
            try await Keystore.open(storage: MemoryKeystoreStorage(image: try f.bytes(), location: f.path, refusingChangesWith: refusal),
                                    unlock: .keyFile(path: f.keyPath))
        }
        var served = try await readOnly()
        await assertThrows(.readNotLogged(cause: refusal)) { try await served.entry("Acme BV", for: .get(field: "client_secret")) }
        await assertThrows(.readNotLogged(cause: refusal)) { try await served.image() }
        XCTAssertEqual(served.unloggedReads, 0)
        // What holds no secret still reads.
        expectEqual(try await served.list().map(\.label), ["Acme BV"])
        expectEqual(try await served.versions("Acme BV").count, 1)
        try await ks.setSetting(KeystoreSettingName.unloggedReads, to: "on")
        let count = try await ks.auditLog().count
        served = try await readOnly()
        expectEqual(string(try await served.entry("Acme BV", for: .get(field: "client_secret")).field("client_secret")), "EKKQh8KqRptS")
        XCTAssertEqual(served.unloggedReads, 1)
        expectEqual(try await served.auditLog().count, count)
    }
}
