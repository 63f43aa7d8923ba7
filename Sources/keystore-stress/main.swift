// A test helper, not a tool: the keystore tests start several of these at once to show that
// real processes contending for one keystore lose nothing. KEYSTORE is a file or (built with
// the PostgreSQL trait) a postgres:// address, its password from PGPASSFILE. Usage:
//   keystore-stress insert KEYSTORE KEYFILE PREFIX COUNT
//   keystore-stress lease KEYSTORE KEYFILE LABEL HOLD_MS LOG [crash]
//   keystore-stress compact KEYSTORE KEYFILE COUNT
//   keystore-stress leases KEYSTORE KEYFILE LABEL ROUNDS LOG
//   keystore-stress refresh-crash KEYSTORE KEYFILE LABEL
// `leases` takes the lease ROUNDS times in one process (one connection), adding one to the
// counter each time and appending "start end" (microseconds) to LOG with O_APPEND.
// `lease` adds one to the counter kept in the entry's refresh token and appends
// "start end" (milliseconds) to LOG; with `crash` it exits while holding the lease.
// `refresh-crash` takes the lease as a refresh (marked in flight, lease of 0.5 s) and exits
// inside the refresh, as a process killed after sending the refresh token would.
import Foundation
import VaultKit
#if PostgreSQL
import VaultPostgres
#endif

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

/// The keystore at a path or a postgres:// address, waiting up to a minute for the lock.
func open(_ location: String, keyFile: String) async throws -> Keystore {
    #if PostgreSQL
    if location.hasPrefix("postgres") {
        let address = try PostgresAddress(parsing: location, defaultUser: NSUserName())
        var password: SecretBytes?
        if let file = ProcessInfo.processInfo.environment["PGPASSFILE"] {
            password = try PostgresPassword.lookup(in: try SecretBytes(Array(try Data(contentsOf: URL(fileURLWithPath: file)))), for: address)
        }
        let storage = try PostgresKeystoreStorage(address: address, password: password, lockTimeout: 60)
        return try await Keystore.open(storage: storage, unlock: .keyFile(path: keyFile))
    }
    #endif
    return try await Keystore.open(at: location, unlock: .keyFile(path: keyFile), lockTimeout: 60)
}

let args = Array(CommandLine.arguments.dropFirst())
guard args.count >= 4 else { fail("usage: insert|lease KEYSTORE KEYFILE …") }
do {
    let ks = try await open(args[1], keyFile: args[2])
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
    case "leases":
        guard args.count == 6, let rounds = Int(args[4]) else { fail("usage: leases KEYSTORE KEYFILE LABEL ROUNDS LOG") }
        let log = open(args[5], O_WRONLY | O_APPEND | O_CREAT, 0o600)
        guard log >= 0 else { fail("cannot open \(args[5])") }
        func micros() -> Int { Int(Date().timeIntervalSince1970 * 1_000_000) }
        var last = 0
        for _ in 0..<rounds {
            _ = try await ks.withTokenLease(args[3], leaseDuration: 30, waitAtMost: 300) { state in
                let start = micros()
                let n = state.map { s in s.refreshToken.withUnsafeBytes { Int(String(decoding: $0, as: UTF8.self)) ?? 0 } } ?? 0
                usleep(500)
                let line = Array("\(start) \(micros())\n".utf8)
                guard write(log, line, line.count) == line.count else { fail("cannot write the log") }
                last = n + 1
                return TokenState(refreshToken: try SecretBytes(Array(String(n + 1).utf8)),
                                  accessToken: try SecretBytes(Array("access".utf8)), accessTokenExpires: Timestamp.now())
            }
        }
        close(log)
        print("counter \(last)")
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
