import Foundation
import VaultKit

// The command line arrives with its own issue; until then the binary only identifies itself.
if CommandLine.arguments.dropFirst().first == "--version" {
    print("vault \(vaultVersion) (libsodium \(sodiumVersion))")
} else {
    FileHandle.standardError.write(Data("vault: error: no commands yet; only --version\n".utf8))
    exit(2)
}
