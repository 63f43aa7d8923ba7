import Foundation
import XCTest
import VaultKit

/// `vault --version` names the version and where the binary came from: the commit of a release
/// (scripts/release), or that it is not a release build (any other build, git or not).
final class BuildInfoTests: CLITestCase {
    func testVersionNamesTheVersionAndTheCommitOrThatItIsNoRelease() throws {
        let r = try run("--version")
        XCTAssertEqual(r.status, 0)
        let line = r.stdout.trimmingCharacters(in: .newlines)
        let origin = #"(commit [0-9a-f]{40}(-dirty)?|not a release build)"#
        let pattern = #"^vault \#(NSRegularExpression.escapedPattern(for: vaultVersion)) \(\#(origin), libsodium [0-9.]+\)$"#
        XCTAssertNotNil(line.range(of: pattern, options: .regularExpression), line)
        XCTAssertTrue(line.hasPrefix("vault \(vaultVersion) ("), line)
    }

    /// The tests run a plain `swift build`, which has no commit compiled in (unless VAULT_BINARY
    /// names a release binary).
    func testAPlainBuildSaysItIsNotARelease() throws {
        try XCTSkipIf(ProcessInfo.processInfo.environment["VAULT_BINARY"] != nil, "VAULT_BINARY is set")
        let r = try run("--version")
        XCTAssertTrue(r.stdout.contains("(not a release build, libsodium "), r.stdout)
    }
}
