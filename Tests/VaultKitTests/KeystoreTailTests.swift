import Foundation
import XCTest
@testable import VaultKit

/// A log cut inside a change reads as the last complete change (what a crash mid-append leaves),
/// but never in silence: the ignored bytes are counted, and the next change drops them.
final class KeystoreTailTests: XCTestCase {
    func testACutInsideTheLogIsCountedAndDroppedByTheNextChange() async throws {
        let f = try KeystoreFixture()
        let store = try await f.create()
        try await store.insert(sampleEntry(label: "first"))
        let complete = try f.bytes()
        try await store.insert(sampleEntry(label: "second"))
        let full = try f.bytes()
        let whole = try await f.open()
        XCTAssertEqual(whole.interruptedWriteBytes, 0)

        // Cut 7 bytes before the end: the second change is incomplete.
        try f.write(Array(full.dropLast(7)))
        let cut = try await f.open()
        let labels = try await cut.list().map(\.label)
        XCTAssertEqual(labels, ["first"])
        XCTAssertEqual(cut.interruptedWriteBytes, full.count - 7 - complete.count)

        // The next change drops the remains; the file is whole again.
        try await cut.insert(sampleEntry(label: "third"))
        let reopened = try await f.open()
        XCTAssertEqual(reopened.interruptedWriteBytes, 0)
        let after = try await reopened.list().map(\.label)
        XCTAssertEqual(after, ["first", "third"])
    }
}

/// `insert` says whether it kept an earlier version, decided under its own lock.
final class KeystoreReplaceResultTests: XCTestCase {
    func testInsertReportsWhetherItSupersededAnEntry() async throws {
        let f = try KeystoreFixture()
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
        let f = try KeystoreFixture()
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
