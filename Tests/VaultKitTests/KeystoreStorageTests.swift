import Foundation
import XCTest
@testable import VaultKit

/// A back end other than the file: what a network back end (PostgreSQL) implements. It sees
/// only the header and sealed records.
final class MemoryStorage: KeystoreStorage {
    var header: [UInt8]?
    var records: [SealedRecord] = []
    var generation: UInt64 = 0
    var location: String { "memory" }

    func create(header: [UInt8], records: [SealedRecord]) async throws(KeystoreError) {
        guard self.header == nil else { throw .alreadyExists(path: location) }
        self.header = header
        self.records = records
    }

    func readHeader() async throws(KeystoreError) -> [UInt8] {
        guard let header else { throw .notFound(path: location) }
        return header
    }

    func withAccess<R>(exclusive: Bool, _ body: (any KeystoreStorageSession) throws(KeystoreError) -> R) async throws(KeystoreError) -> R {
        try body(Session(storage: self))
    }

    struct Session: KeystoreStorageSession {
        let storage: MemoryStorage
        func header() throws(KeystoreError) -> [UInt8] { storage.header! }
        func records(since cursor: StorageCursor?) throws(KeystoreError) -> (records: [SealedRecord], cursor: StorageCursor, restarted: Bool) {
            let fresh = cursor?.generation != [storage.generation]
            let start = fresh ? 0 : cursor!.position
            return (Array(storage.records[start...]), StorageCursor(generation: [storage.generation], position: storage.records.count), fresh)
        }
        func append(_ records: [SealedRecord]) throws(KeystoreError) -> StorageCursor {
            storage.records += records
            return StorageCursor(generation: [storage.generation], position: storage.records.count)
        }
        func replaceAll(header: [UInt8], records: [SealedRecord]) throws(KeystoreError) -> StorageCursor {
            storage.header = header
            storage.records = records
            storage.generation += 1
            return StorageCursor(generation: [storage.generation], position: records.count)
        }
    }
}

final class KeystoreStorageTests: XCTestCase {
    func testTheAPIRunsOverAnotherBackEnd() async throws {
        let f = try KeystoreFixture() // only for its key file
        let storage = MemoryStorage()
        let ks = try await Keystore.create(storage: storage, protection: .keyFile(path: f.keyPath))
        try await ks.insert(sampleEntry(secretValue: "one"))
        try await ks.insert(sampleEntry(secretValue: "two"), replace: true)
        _ = try await ks.withTokenLease("Acme BV") { _ in
            TokenState(refreshToken: secret("r"), accessToken: secret("a"), accessTokenExpires: "2026-11-24T00:00:00Z")
        }
        let other = try await Keystore.open(storage: storage, unlock: .keyFile(path: f.keyPath))
        expectEqual(try await other.history("Acme BV").map { string($0.field("client_secret")) }, ["one", "two"])
        try await other.compact()
        expectEqual(try await ks.list().map(\.label), ["Acme BV"])
        // Nothing secret reaches the back end.
        let stored = storage.header! + storage.records.flatMap { $0.frame() }
        for needle in ["two", "Acme BV", "1c07724e", "EKKQ"] {
            XCTAssertNil(stored.firstRange(of: Array(needle.utf8)), "\(needle) stored in clear")
        }
    }
}
