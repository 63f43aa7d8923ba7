// A test helper, not a tool: the keystore tests start several of these at once to show that
// real processes contending for one keystore lose nothing. Usage:
//   keystore-stress insert KEYSTORE KEYFILE PREFIX COUNT
//   keystore-stress lease KEYSTORE KEYFILE LABEL HOLD_MS LOG [crash]
//   keystore-stress compact KEYSTORE KEYFILE COUNT
//   keystore-stress refresh-crash KEYSTORE KEYFILE LABEL
// `lease` adds one to the counter kept in the entry's refresh token and appends
// "start end" (milliseconds) to LOG; with `crash` it exits while holding the lease.
// `refresh-crash` takes the lease as a refresh (marked in flight, lease of 0.5 s) and exits
// inside the refresh, as a process killed after sending the refresh token would.
import Foundation
import VaultKit

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("keystore-stress: \(message)\n".utf8))
    exit(1)
}

func millis() -> Int { Int(Date().timeIntervalSince1970 * 1000) }

func entry(label: String) throws -> KeystoreEntry {
    let hex = Random.bytes(16).map { String(format: "%02x", $0) }.joined()
    return KeystoreEntry(label: label, type: "generic",
                         fields: [CredentialField(name: "client_secret", value: try SecretBytes(Array("s3cret-\(label)".utf8)))],
                         blobID: hex, created: "2026-11-23T12:00:00Z", expires: "2099-12-31T00:00:00Z", opened: Timestamp.now())
}

let args = Array(CommandLine.arguments.dropFirst())
guard args.count >= 4 else { fail("usage: insert|lease KEYSTORE KEYFILE …") }
do {
    let ks = try await Keystore.open(at: args[1], unlock: .keyFile(path: args[2]), lockTimeout: 60)
    switch args[0] {
    case "insert":
        guard args.count == 5, let count = Int(args[4]) else { fail("usage: insert KEYSTORE KEYFILE PREFIX COUNT") }
        for i in 0..<count { try await ks.insert(try entry(label: "\(args[3])-\(i)")) }
    case "lease":
        guard args.count >= 6, let hold = Int(args[4]) else { fail("usage: lease KEYSTORE KEYFILE LABEL HOLD_MS LOG [crash]") }
        let crash = args.count > 6 && args[6] == "crash"
        _ = try await ks.withTokenLease(args[3], leaseDuration: 2, waitAtMost: 30) { state in
            let start = millis()
            let n = state.map { s in s.refreshToken.withUnsafeBytes { Int(String(decoding: $0, as: UTF8.self)) ?? 0 } } ?? 0
            if crash { exit(3) }
            usleep(useconds_t(hold * 1000))
            let line = "\(start) \(millis())\n"
            let h = FileHandle(forWritingAtPath: args[5])!
            h.seekToEndOfFile(); h.write(Data(line.utf8)); h.closeFile()
            return TokenState(refreshToken: try SecretBytes(Array(String(n + 1).utf8)),
                              accessToken: try SecretBytes(Array("access".utf8)), accessTokenExpires: Timestamp.now())
        }
    case "refresh-crash":
        _ = try await ks.refreshTokenState(args[3], leaseDuration: 0.5, waitAtMost: 30, needsRefresh: { _, _ in true }) { _, _ in exit(3) }
    case "compact":
        guard let count = Int(args[3]) else { fail("usage: compact KEYSTORE KEYFILE COUNT") }
        for _ in 0..<count { try await ks.compact() }
    default:
        fail("unknown command \(args[0])")
    }
} catch {
    fail("\(error)")
}
