import Foundation
import XCTest
import VaultKit

/// What every vault process loads at start (docs/PERFORMANCE.md, "Start-up"): Foundation
/// (CoreFoundation, and ICU through FoundationInternationalization) costs several milliseconds
/// before the first line of vault runs. The one file that needs it is `Format/Label.swift`, for
/// Unicode NFKC (issue 8 item 11; the standard library has none); every other file of the CLI and
/// of VaultKit uses FoundationEssentials or Glibc, so that removing that one import removes
/// Foundation from every start.
final class StartupTests: XCTestCase {
    func testOnlyLabelNormalizationImportsFoundation() throws {
        var offenders: [String] = []
        for target in ["Sources/vault", "Sources/VaultKit"] {
            let root = CLI.packageRoot.appendingPathComponent(target)
            let files = FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String } ?? []
            XCTAssertFalse(files.isEmpty, "no sources under \(target)")
            for file in files where file.hasSuffix(".swift") && file != "Format/Label.swift" {
                let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
                // `#if canImport(FoundationEssentials) … #else import Foundation` is for Darwin only.
                let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                for (i, line) in lines.enumerated() where line == "import Foundation" || line.hasPrefix("import Foundation ") {
                    if i > 0 && lines[i - 1] == "#else" { continue }
                    offenders.append("\(target)/\(file)")
                }
            }
        }
        XCTAssertEqual(offenders, [], "use FoundationEssentials or Glibc (docs/PERFORMANCE.md, Start-up)")
    }

    /// The binary loads no more of Foundation than Label.swift's NFKC needs: no FoundationNetworking
    /// (libcurl and its thirty libraries) and no XML.
    func testTheBinaryLoadsNoNetworkingOrXML() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["readelf", "-d", CLI.binary]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let needed = text.split(separator: "\n").filter { $0.contains("(NEEDED)") }
        XCTAssertFalse(needed.isEmpty, "readelf showed no NEEDED entries:\n\(text)")
        for line in needed {
            XCTAssertFalse(line.contains("FoundationNetworking") || line.contains("FoundationXML") || line.contains("curl"), "vault loads \(line)")
        }
    }

    /// `vault --version` is answered before argument-parser runs: the text argument-parser would
    /// print from the root command's configuration.
    func testVersionIsAnsweredAsArgumentParserWould() throws {
        let r = try CLI.run(["--version"], in: FileManager.default.temporaryDirectory)
        XCTAssertEqual(r.status, 0)
        // The line BuildInfo gives the root command: the commit of a release build, or saying it is not one.
        let expected = try Regex("^vault \(vaultVersion) \\((commit [0-9a-f]{40}|not a release build), libsodium \(sodiumVersion)\\)\n$")
        XCTAssertNotNil(r.stdout.wholeMatch(of: expected), r.stdout)
        XCTAssertEqual(r.stderr, "")
    }
}
