import Foundation
import XCTest
import VaultKit

/// What every vault process loads at start (docs/PERFORMANCE.md, "Start-up"): not Foundation
/// (CoreFoundation, FoundationInternationalization and ICU), which cost several milliseconds
/// before the first line of vault runs, and 34 MB of ICU data in the static release binary.
/// Label normalization, its last user, comes from the standard library and a generated table
/// (Format/Label.swift). FoundationEssentials, which argument-parser loads anyway, is allowed.
final class StartupTests: XCTestCase {
    func testNoFileOfVaultOrVaultKitImportsFoundation() throws {
        var offenders: [String] = []
        for target in ["Sources/vault", "Sources/VaultKit"] {
            let root = CLI.packageRoot.appendingPathComponent(target)
            let files = FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String } ?? []
            XCTAssertFalse(files.isEmpty, "no sources under \(target)")
            for file in files where file.hasSuffix(".swift") {
                let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
                // `#if canImport(FoundationEssentials) … #else import Foundation` is for Darwin only.
                let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                for (i, line) in lines.enumerated() where line.wholeMatch(of: /(@_implementationOnly |(public |internal |private )?)?import (Foundation|FoundationInternationalization|_FoundationICU|FoundationNetworking|FoundationXML)( .*)?/) != nil {
                    if i > 0 && lines[i - 1] == "#else" && line.hasSuffix("import Foundation") { continue }
                    offenders.append("\(target)/\(file): \(line)")
                }
            }
        }
        XCTAssertEqual(offenders, [], "use FoundationEssentials or Glibc (docs/PERFORMANCE.md, Start-up)")
    }

    /// Linked: no Foundation, FoundationInternationalization, ICU, FoundationNetworking (libcurl
    /// and its thirty libraries) or FoundationXML among the shared libraries the binary needs.
    func testTheBinaryNeedsNoFoundationOrICU() throws {
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
            XCTAssertFalse(Self.isForbidden(String(line)), "vault needs \(line)")
        }
    }

    /// Loaded: the dynamic loader's own list (LD_DEBUG=libs) of what a command that parses its
    /// arguments and reads a file loads, from the binary or later by dlopen.
    func testARunLoadsNoFoundationOrICU() throws {
        let dir = FileManager.default.temporaryDirectory
        let r = try CLI.run(["fingerprint", "/nonexistent/vault-startup-test.pub"], in: dir, environment: ["LD_DEBUG": "libs"])
        XCTAssertEqual(r.status, 1, r.stderr)
        let loaded = r.stderr.split(separator: "\n").filter { $0.contains("calling init:") }
        XCTAssertFalse(loaded.isEmpty, "LD_DEBUG=libs showed no library initialised:\n\(r.stderr)")
        for line in loaded {
            XCTAssertFalse(Self.isForbidden(String(line)), "vault loaded \(line)")
        }
    }

    /// Every command names itself (`commandName:`): argument-parser otherwise derives the name
    /// from `String(describing: Type.self)`, whose protocol-conformance lookups cost about a
    /// million instructions per command at every start (docs/PERFORMANCE.md, "Start-up").
    func testEveryCommandNamesItself() throws {
        let root = CLI.packageRoot.appendingPathComponent("Sources/vault")
        let files = FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String } ?? []
        var configurations = 0, unnamed: [String] = []
        for file in files where file.hasSuffix(".swift") {
            let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
            var rest = text[...]
            while let r = rest.range(of: "CommandConfiguration(") {
                configurations += 1
                // The arguments up to the first line that ends one: commandName comes first.
                let call = rest[r.upperBound...].prefix(400)
                if !call.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("commandName:") {
                    unnamed.append("\(file): \(call.prefix(60).replacingOccurrences(of: "\n", with: " "))")
                }
                rest = rest[r.upperBound...]
            }
        }
        XCTAssertGreaterThan(configurations, 15)
        XCTAssertEqual(unnamed, [], "give the command's name first: CommandConfiguration(commandName: \"…\", …)")
    }

    static func isForbidden(_ line: String) -> Bool {
        ["libFoundation.so", "FoundationInternationalization", "ICU", "icu", "FoundationNetworking", "FoundationXML", "curl"]
            .contains { line.contains($0) }
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
