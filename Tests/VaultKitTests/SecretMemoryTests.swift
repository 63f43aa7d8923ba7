import XCTest
@testable import VaultKit

/// Secret memory as SECURITY.md describes it: arenas, not a mapping per secret; zeroed when
/// handed out; the bytes a secret held are gone from its slot once it is freed.
final class SecretMemoryTests: XCTestCase {
    /// The kernel mappings of this process (lines of /proc/self/maps).
    private func mappingCount() throws -> Int {
        try String(contentsOfFile: "/proc/self/maps", encoding: .utf8).split(separator: "\n").count
    }

    /// 200,000 live secrets: three times what one `sodium_malloc` mapping per secret allowed
    /// (`vm.max_map_count`, 65,530 here), as a receiving system exporting every entry needs.
    func testManyLiveSecretsNeedOnlyAFewMappings() throws {
        let before = try mappingCount()
        var secrets: [SecretBytes] = []
        secrets.reserveCapacity(200_000)
        for i in 0..<200_000 {
            let s = try SecretBytes(count: 24 + i % 40)
            s.withUnsafeMutableBytes { b in for j in b.indices { b[j] = UInt8(truncatingIfNeeded: i &+ j) } }
            secrets.append(s)
        }
        // Each secret still holds its own bytes: no slot was handed out twice.
        for i in stride(from: 0, to: secrets.count, by: 997) {
            secrets[i].withUnsafeBytes { b in
                for j in b.indices { XCTAssertEqual(b[j], UInt8(truncatingIfNeeded: i &+ j)) }
            }
        }
        let grown = try mappingCount() - before
        XCTAssertLessThan(grown, 100, "secret memory should take a few arenas, not a mapping per secret")
        secrets.removeAll()
    }

    /// A slot comes back zeroed: a new secret never sees an old one's bytes.
    func testFreedSecretsAreWipedBeforeReuse() throws {
        for size in [0, 1, 15, 16, 17, 31, 100, 500, 4000, 16368, 16369, 32752, 32753, 70_000] {
            var pointers = Set<UnsafeRawPointer>()
            for _ in 0..<50 {
                let s = try SecretBytes(count: size)
                s.withUnsafeBytes { b in
                    XCTAssertTrue(b.allSatisfy { $0 == 0 }, "a new secret of \(size) bytes is not zero")
                    if let base = b.baseAddress { pointers.insert(base) }
                }
                s.withUnsafeMutableBytes { b in for j in b.indices { b[j] = 0xA5 } }
            }
            // Slots are reused (an arena, not fresh memory each time), and still came back zero.
            if size > 0 && size <= 32752 { XCTAssertLessThanOrEqual(pointers.count, 2, "size \(size)") }
        }
    }

    /// Secrets of every size class and the large ones side by side keep their bytes apart.
    func testNeighboursDoNotOverlap() throws {
        let sizes = [0, 1, 7, 16, 33, 64, 200, 1000, 3000, 9000, 16368, 20000]
        let secrets = try sizes.enumerated().map { n, size in
            let s = try SecretBytes(count: size)
            s.withUnsafeMutableBytes { b in for j in b.indices { b[j] = UInt8(n + 1) } }
            return s
        }
        for (n, s) in secrets.enumerated() {
            s.withUnsafeBytes { b in XCTAssertTrue(b.allSatisfy { $0 == UInt8(n + 1) }) }
        }
        // Copies, slices and comparisons behave as before.
        let a = try SecretBytes(Array("client secret".utf8))
        XCTAssertTrue(try a.slice(0, a.count).constantTimeEquals(a))
        XCTAssertTrue(try a.slice(7, 6).constantTimeEquals(Array("secret".utf8)))
    }

    /// Secrets made and freed on several threads at once: the allocator is shared by the process.
    func testSecretsFromSeveralThreads() throws {
        DispatchQueue.concurrentPerform(iterations: 4) { t in
            var live: [SecretBytes] = []
            for i in 0..<20_000 {
                guard let s = try? SecretBytes(count: 8 + (i + t) % 100) else { return XCTFail("out of secret memory") }
                s.withUnsafeMutableBytes { b in for j in b.indices { b[j] = UInt8(t) } }
                live.append(s)
                if i % 3 == 0 { live.removeFirst() }
            }
            for s in live { s.withUnsafeBytes { b in XCTAssertTrue(b.allSatisfy { $0 == UInt8(t) }) } }
        }
    }
}
