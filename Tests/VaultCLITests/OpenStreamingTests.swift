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
        XCTAssertTrue(r.stderr.contains("opened \(expected.count), refused 9 (2 already opened, 7 without a sealed blob)"), r.stderr)
        // Refusals are reported in the order of the files.
        let refusedFiles = r.stderr.split(separator: "\n").filter { $0.hasPrefix("vault: error: '") }.map { $0.split(separator: "'")[1] }
        XCTAssertEqual(refusedFiles, ["b005.vault", "b102.vault", "b199.vault", "b296.vault", "b393.vault", "b490.vault", "b587.vault",
                                      "again.vault", "twice.vault"])
        XCTAssertEqual(try labels().count, expected.count)
    }

    /// Many file arguments take the quick path past argument-parser (OpenArguments.swift): the
    /// options anywhere among them, and every usage mistake worded as with few files.
    func testManyFileArgumentsParseAsFewDo() throws {
        var files: [String] = []
        for n in 0..<70 {
            try write("f\(n).vault", try Handoff.seal(try payload(label: "F \(n)"), to: identity))
            files.append("f\(n).vault")
        }
        let mixed = Array(files[0..<30]) + ["--keystore", ks] + Array(files[30...]) + ["--key-file", keyFile, "--replace"]
        let r = try CLI.run(["open"] + mixed, in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout.split(separator: "\n").count, 70)
        // Each a usage mistake (status 2); worded as with two files, but for the blob count of --as.
        for (extra, words, sameAsFew) in [(["--bogus"], "unknown option '--bogus'", true),
                                          (["--as", "Mine"], "the files hold 70 blobs", false),
                                          (["--as", "bad\u{7}label"], "--as label", true),
                                          (["--keystore"], "--keystore", true)] {
            let few = try CLI.run(["open", files[0], files[1]] + extra + ["--keystore", ks, "--key-file", keyFile], in: dir)
            let many = try CLI.run(["open"] + files + extra + ["--keystore", ks, "--key-file", keyFile], in: dir)
            XCTAssertEqual(many.status, 2, "\(extra): \(many.stderr)")
            XCTAssertTrue(many.stderr.contains(words), "\(extra): \(many.stderr)")
            if sameAsFew { XCTAssertEqual(few.stderr, many.stderr, "\(extra)") }
        }
        let help = try CLI.run(["open"] + files + ["--help"], in: dir)
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("USAGE: vault open"), help.stdout)
    }
}
