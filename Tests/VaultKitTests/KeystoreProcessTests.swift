import Foundation
import XCTest
@testable import VaultKit

/// Real processes (the `keystore-stress` helper) contending for one keystore.
final class KeystoreProcessTests: XCTestCase {
    func helper() throws -> URL {
        let url = productsDirectory().appendingPathComponent("keystore-stress")
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw XCTSkip("keystore-stress not built at \(url.path)")
        }
        return url
    }

    func start(_ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = try helper()
        p.arguments = args
        try p.run()
        return p
    }

    func testEightProcessesTimesFiftyInsertsLoseNothing() async throws {
        let f = try KeystoreFixture(onTestBackEnd: ())
        _ = try await f.create()
        let procs = try (0..<8).map { try start(["insert", f.location, f.keyPath, "p\($0)", "50"]) }
        for p in procs { p.waitUntilExit() }
        XCTAssertEqual(procs.map(\.terminationStatus), Array(repeating: 0, count: 8))
        let ks = try await f.open()
        let labels = Set(try await ks.list().map(\.label))
        XCTAssertEqual(labels.count, 400)
        for p in 0..<8 { for i in 0..<50 { XCTAssertTrue(labels.contains("p\(p)-\(i)"), "p\(p)-\(i) missing") } }
        try await ks.verify()
    }

    func testTwoProcessesContendingForOneTokenLease() async throws {
        let f = try KeystoreFixture(onTestBackEnd: ())
        let ks = try await f.create()
        try await ks.insert(sampleEntry())
        let log = f.dir + "/lease.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        // Two processes at once, then two more; each refreshes once, holding the lease 150 ms.
        let procs = try (0..<2).map { _ in
            try start(["lease", f.location, f.keyPath, "Acme BV", "150", log])
        }
        for p in procs { p.waitUntilExit() }
        let more = try (0..<2).map { _ in try start(["lease", f.location, f.keyPath, "Acme BV", "150", log]) }
        for p in more { p.waitUntilExit() }
        XCTAssertEqual((procs + more).map(\.terminationStatus), [0, 0, 0, 0])
        // Never two holders at once: the intervals do not overlap.
        let spans = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: " ").map { Int($0)! } }.sorted { $0[0] < $1[0] }
        XCTAssertEqual(spans.count, 4)
        for (a, b) in zip(spans, spans.dropFirst()) { XCTAssertLessThanOrEqual(a[1], b[0], "leases overlap: \(a) \(b)") }
        // Every refresh saw the previous one's state: none was lost.
        let state = try await f.open().withTokenLease("Acme BV") { _ in nil }
        XCTAssertEqual(string(state?.refreshToken), "4")
    }

    func testCrashedLeaseHolderBlocksOthersOnlyUntilItsLeaseExpires() async throws {
        let f = try KeystoreFixture(onTestBackEnd: ())
        let ks = try await f.create()
        try await ks.insert(sampleEntry())
        let log = f.dir + "/lease.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let crashed = try start(["lease", f.location, f.keyPath, "Acme BV", "0", log, "crash"])
        crashed.waitUntilExit()
        XCTAssertEqual(crashed.terminationStatus, 3)
        // Its 2-second lease is still recorded: a short wait times out, a longer one succeeds.
        let other = try await f.open()
        await assertThrows(.leaseTimeout(label: "Acme BV")) {
            try await other.withTokenLease("Acme BV", waitAtMost: 0.2) { $0 }
        }
        let t = Date()
        let state = try await other.withTokenLease("Acme BV", waitAtMost: 10) { _ in
            TokenState(refreshToken: secret("after crash"), accessToken: secret("a"), accessTokenExpires: "2026-11-24T00:00:00Z")
        }
        XCTAssertEqual(string(state?.refreshToken), "after crash")
        XCTAssertLessThan(Date().timeIntervalSince(t), 3)
    }

    func testSIGKILLDuringInsertsAndCompactionsLeavesAConsistentKeystore() async throws {
        let f = try KeystoreFixture(onTestBackEnd: ())
        _ = try await f.create()
        var before = 0
        for round in 0..<8 {
            // One process appends while another rewrites the file by rename; both are killed.
            let p = try start(["insert", f.location, f.keyPath, "r\(round)", "1000"])
            let c = try start(["compact", f.location, f.keyPath, "1000"])
            usleep(useconds_t.random(in: 30_000...120_000))
            kill(p.processIdentifier, SIGKILL)
            kill(c.processIdentifier, SIGKILL)
            p.waitUntilExit()
            c.waitUntilExit()
            // Old or new state, never a mix: it opens, every record authenticates, and nothing
            // stored earlier is gone.
            let ks = try await f.open()
            try await ks.verify()
            let labels = try await ks.list().map(\.label)
            XCTAssertGreaterThanOrEqual(labels.count, before)
            before = labels.count
        }
        XCTAssertGreaterThan(before, 0, "no insert finished before the kills")
        // Writers carry on after the crashes.
        try await f.open().insert(sampleEntry(label: "after"))
        expectEqual(try await f.open().list().count, before + 1)
    }
}
