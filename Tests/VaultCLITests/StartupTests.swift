import Foundation
import XCTest
import VaultKit

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

    /// `vault --version` is answered before argument-parser runs: the text argument-parser would
    /// print from the root command's configuration.
    func testVersionIsAnsweredAsArgumentParserWould() throws {
        let r = try CLI.run(["--version"], in: FileManager.default.temporaryDirectory)
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.stdout, "vault \(vaultVersion) (libsodium \(sodiumVersion))\n")
        XCTAssertEqual(r.stderr, "")
    }
}
