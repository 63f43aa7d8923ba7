import Foundation
import XCTest

/// What every vault process loads at start (docs/PERFORMANCE.md, "Start-up"): not Foundation's
/// CoreFoundation and ICU, which cost several milliseconds before the first line of vault runs.
/// A file that imports Foundation again (rather than FoundationEssentials or Glibc) fails here.
final class StartupTests: XCTestCase {
    func testTheBinaryDoesNotLoadFoundationOrICU() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["readelf", "-d", "-p", ".comment", CLI.binary]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let needed = text.split(separator: "\n").filter { $0.contains("(NEEDED)") }
        XCTAssertFalse(needed.isEmpty, "readelf showed no NEEDED entries:\n\(text)")
        for line in needed {
            XCTAssertFalse(line.contains("libFoundation.so") || line.contains("ICU") || line.contains("FoundationInternationalization"),
                           "vault loads \(line); use FoundationEssentials or Glibc (docs/PERFORMANCE.md)")
        }
    }

    /// `vault --version` is answered before argument-parser runs: the same text it would print.
    func testVersionIsAnsweredAsArgumentParserWould() throws {
        let dir = FileManager.default.temporaryDirectory
        let quick = try CLI.run(["--version"], in: dir)
        XCTAssertEqual(quick.status, 0)
        XCTAssertTrue(quick.stdout.hasPrefix("vault "), quick.stdout)
        XCTAssertTrue(quick.stdout.contains("(libsodium "), quick.stdout)
        XCTAssertTrue(quick.stdout.hasSuffix(")\n"), quick.stdout)
        // Through argument-parser (a second argument defeats the shortcut): the same line.
        let parsed = try CLI.run(["--version", "--version"], in: dir)
        XCTAssertEqual(parsed.stdout, quick.stdout, parsed.stderr)
    }
}
