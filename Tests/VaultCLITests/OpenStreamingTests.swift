import Foundation
import XCTest
import VaultKit

/// `vault open` of many files and many blobs: files are read one at a time (memory bounded by
/// the largest file, not the total), blobs are stored in groups, and every blob still gets its
/// own line or refusal, in the order read.
final class OpenStreamingTests: IntegratorTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        try makeKeystore()
    }

    /// Peak resident memory (KiB) of `vault args`, measured by a wrapper that waits for it.
    private func peakMemory(_ args: [String]) throws -> (Run, Int) {
        let wrapper = ["python3", "-c", """
            import os, sys
            pid = os.fork()
            if pid == 0:
                os.execvp(sys.argv[2], sys.argv[2:])
            _, status, usage = os.wait4(pid, 0)
            open(sys.argv[1], "w").write(str(usage.ru_maxrss))
            sys.exit(os.waitstatus_to_exitcode(status))
            """, path("rss.txt")]
        let r = try CLI.run(args + ["--keystore", ks, "--key-file", keyFile], in: dir, wrapper: wrapper)
        return (r, Int(try String(contentsOfFile: path("rss.txt"), encoding: .utf8)) ?? -1)
    }

    /// Issue 8, item 10: forty 16 MiB files reached 728 MB. Twelve files of 15 MiB (180 MiB in
    /// all), each a blob inside a long e-mail, must not take more than a few of them at once.
    func testMemoryIsBoundedByOneFileNotAllOfThem() throws {
        let padding = String(repeating: "> quoted text of a long e-mail thread, line after line\n", count: 15 * 1024 * 1024 / 56)
        var files: [String] = []
        for n in 0..<12 {
            let name = "mail-\(n).txt"
            try write(name, padding + (try sealed("Mail \(n)")) + padding.prefix(1000))
            files.append(name)
        }
        let (r, kib) = try peakMemory(["open"] + files)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout.split(separator: "\n").count, 12)
        XCTAssertTrue(r.stderr.contains("opened 12, refused 0"), r.stderr)
        XCTAssertLessThan(kib, 120 * 1024, "peak memory \(kib) KiB for 180 MiB of files")
    }

    /// More blobs than one group: each stored, each reported once, in order; refusals in their place.
    func testManyBlobsInGroupsKeepTheirOrder() throws {
        var files: [String] = []
        var expected: [String] = []
        for n in 0..<600 {
            let name = String(format: "b%03d.vault", n)
            if n % 97 == 5 {
                try write(name, "no blob here\n") // refused in its place: armor
            } else {
                let p = try payload(label: String(format: "Entry %03d", n))
                try write(name, try Handoff.seal(p, to: identity))
                expected.append(String(format: "Entry %03d\texact-online\t%@", n, clientID))
            }
            files.append(name)
        }
        // A replay of a blob stored in an earlier group, and of one in the same group.
        try write("again.vault", try String(contentsOfFile: path("b000.vault"), encoding: .utf8))
        try write("twice.vault", try String(contentsOfFile: path("b598.vault"), encoding: .utf8))
        let r = try CLI.run(["open"] + files + ["again.vault", "twice.vault", "--keystore", ks, "--key-file", keyFile], in: dir)
        assertNoSecret(r)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.stdout, expected.joined(separator: "\n") + "\n")
        XCTAssertTrue(r.stderr.contains("opened \(expected.count), refused 9 (7 armor, 2 replay)"), r.stderr)
        // Refusals are reported in the order of the files.
        let refusedFiles = r.stderr.split(separator: "\n").filter { $0.hasPrefix("vault: error: '") }.map { $0.split(separator: "'")[1] }
        XCTAssertEqual(refusedFiles, ["b005.vault", "b102.vault", "b199.vault", "b296.vault", "b393.vault", "b490.vault", "b587.vault",
                                      "again.vault", "twice.vault"])
        XCTAssertEqual(try labels().count, expected.count)
    }
}
