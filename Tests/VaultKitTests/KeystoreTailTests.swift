import Foundation
import XCTest
@testable import VaultKit

/// The index snapshot and the tail (docs/KEYSTORE.md §2.7): lookups merge the snapshot's rows
/// with the records after it, a removal in the tail hides an entry of the snapshot, versions of
/// one label span both, and a cut below the committed log end is damage, never an older keystore.
final class KeystoreTailTests: XCTestCase {
    func testSnapshotAndTailMerge() async throws {
        let f = try KeystoreFixture(onTestBackEnd: ())
        let ks = try await f.create()
        // 2,100 entries = 4,200 records: over the tail bound, so the second commit writes a snapshot.
        try await ks.insert(contentsOf: (0..<1050).map { sampleEntry(label: "e\($0)", secretValue: "v\($0)") })
        let start = Layout(try await f.image())
        XCTAssertNotEqual(start.frames.last?.type, 10, "no snapshot yet")
        try await ks.insert(contentsOf: (1050..<2100).map { sampleEntry(label: "e\($0)", secretValue: "v\($0)") })
        let afterBulk = Layout(try await f.image())
        XCTAssertNotEqual(afterBulk.indexPosition, 0)
        XCTAssertEqual(afterBulk.frames.last?.type, 10, "the snapshot ends the commit")
        try await ks.insert(sampleEntry(label: "e7", secretValue: "newer"), replace: true)
        try await ks.remove("e8")
        try await ks.setSetting("s", to: "1")
        let reopened = try await f.open()
        expectEqual(try await reopened.history("e7").map { string($0.field("client_secret")) }, ["v7", "newer"])
        await assertThrows(.noSuchEntry(label: "e8")) { try await reopened.entry("e8") }
        expectEqual(string(try await reopened.entry("e2099").field("client_secret")), "v2099")
        expectEqual(try await reopened.list().count, 2099)
        expectEqual(try await reopened.setting("s"), "1")
        let report = try await reopened.verify()
        XCTAssertEqual(report.entries, 2099)
        XCTAssertEqual(report.versions, 2100)
        // A cut below the committed log end: damage, never read as an older keystore (on
        // PostgreSQL: PostgresKeystoreTests.testRowsDroppedOrEditedAreRefused).
        guard !f.isDatabase else { return }
        let bytes = try f.bytes()
        try f.write(Array(bytes.dropLast(7)))
        do { _ = try await f.open(); XCTFail("a cut log was accepted") } catch KeystoreError.damaged(let detail) {
            XCTAssertTrue(detail.hasPrefix("cut short"), detail)
        }
    }

    /// The snapshot is rewritten once the tail passes its bound again, and compaction keeps it
    /// exact: verify() rebuilds the live set from the whole log and compares.
    func testSnapshotsFollowChurn() async throws {
        let f = try KeystoreFixture(onTestBackEnd: ())
        let ks = try await f.create()
        for round in 0..<4 {
            try await ks.insert(contentsOf: (0..<1050).map { sampleEntry(label: "r\(round)-\($0)") })
            if round > 0 { try await ks.remove("r\(round - 1)-0") }
        }
        let frames = Layout(try await f.image()).frames
        XCTAssertEqual(frames.filter { $0.type == 10 }.count, 3, "the one of creation and two more, the older ones dead")
        try await f.open().verify()
        expectEqual(try await f.open().list().count, 4 * 1050 - 3)
        try await ks.compact()
        let snapshots = Layout(try await f.image()).frames.filter { $0.type == 10 }.count
        XCTAssertEqual(snapshots, 1)
        let report = try await f.open().verify()
        XCTAssertEqual(report.entries, 4 * 1050 - 3)
    }
}

/// `insert` says whether it kept an earlier version, decided under its own lock.
final class KeystoreReplaceResultTests: XCTestCase {
    func testInsertReportsWhetherItSupersededAnEntry() async throws {
        let f = try KeystoreFixture(onTestBackEnd: ())
        let store = try await f.create()
        let first = try await store.insert(sampleEntry(label: "Acme BV"))
        XCTAssertFalse(first)
        let fresh = try await store.insert(sampleEntry(label: "Other"), replace: true)
        XCTAssertFalse(fresh, "replace allowed, but nothing to supersede")
        let second = try await store.insert(sampleEntry(label: "Acme BV"), replace: true)
        XCTAssertTrue(second)
        let versions = try await store.history("Acme BV").count
        XCTAssertEqual(versions, 2)
    }
}

/// `store` gives each entry its own outcome in one commit: refused ones change nothing.
final class KeystoreBatchStoreTests: XCTestCase {
    func testStoreGivesPerEntryOutcomes() async throws {
        let f = try KeystoreFixture(onTestBackEnd: ())
        let ks = try await f.create()
        let taken = randomBlobID()
        try await ks.insert(sampleEntry(label: "old", blobID: taken))
        var bad = sampleEntry(label: "bad")
        bad.blobID = "XYZ"
        let again = randomBlobID()
        let results = try await ks.store([sampleEntry(label: "a"), sampleEntry(label: "replayed", blobID: taken), bad,
                                          sampleEntry(label: "old"), sampleEntry(label: "b", blobID: again),
                                          sampleEntry(label: "c", blobID: again)])
        XCTAssertEqual(results.count, 6)
        XCTAssertEqual(try results[0].get(), false)
        XCTAssertEqual(results[1], .failure(.replay(blobID: taken, label: "old")))
        XCTAssertEqual(results[2], .failure(.invalidEntry(detail: "blob id is not 32 lower-case hex digits")))
        XCTAssertEqual(results[3], .failure(.labelInUse(label: "old")))
        XCTAssertEqual(try results[4].get(), false)
        XCTAssertEqual(results[5], .failure(.replay(blobID: again, label: "b")))
        expectEqual(try await f.open().list().map(\.label), ["a", "b", "old"])
        let replaced = try await ks.store([sampleEntry(label: "a"), sampleEntry(label: "a")], replace: true)
        XCTAssertEqual(replaced.map { try? $0.get() }, [true, true])
        expectEqual(try await f.open().history("a").count, 3)
        let none = try await ks.store([])
        XCTAssertEqual(none.count, 0)
    }
}
