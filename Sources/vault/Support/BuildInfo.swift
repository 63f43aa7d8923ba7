import CVaultBuild
import VaultKit

/// Where this binary came from, for `vault --version`: an auditor compares the commit with the
/// release's, so a binary of unknown origin says so instead of naming a version alone.
enum BuildInfo {
    /// The commit scripts/release built this binary from, or nil for any other build.
    static var commit: String? {
        let text = String(cString: vault_build_commit())
        return text.isEmpty ? nil : text
    }

    /// `vault 0.2.0 (commit 1f3c…, libsodium 1.0.18)`; a build not made by scripts/release says
    /// `not a release build` where the commit would be.
    static var versionLine: String {
        let origin = commit.map { "commit \($0)" } ?? "not a release build"
        return "vault \(vaultVersion) (\(origin), libsodium \(sodiumVersion))"
    }
}
