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
