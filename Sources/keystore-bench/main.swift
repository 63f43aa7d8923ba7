// Benchmarks for docs/PERFORMANCE.md (scripts/bench runs them all). Usage:
//   swift run -c release keystore-bench [DIR] [SIZES] [REPEATS] [--keep]
//   swift run -c release keystore-bench --open DIR/bench-100000.vault
//   keystore-bench --handoff ARMORED_FILE SECRET_KEY_HEX SECONDS   VaultKit open and seal per second
//   keystore-bench --seal-blobs ARMORED_FILE SECRET_KEY_HEX RECIPIENT DIR COUNT
//   keystore-bench --argon2 PROFILE REPEATS                        median seconds of one Argon2id
// SIZES is a comma-separated list (default 100,10000,100000). Unlocks with a key file, so no
// KDF is in any figure. Every insert measured is a durable one: lock, catch up, append the
// frames, fsync, write the state slot, fsync. A cold open is what a short-lived `vault get`
// pays: `Keystore.open` in a fresh handle plus one `entry(_:)`.
import Foundation
import VaultKit

func seconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

/// An entry the size of the "exact-online, all fields" vector of ../shared/vectors/blobs.json.
func entry(_ n: Int) throws -> KeystoreEntry {
    let fields: [(String, String)] = [
        ("client_id", "1c07724e-cc1b-9ff3-2f42-4a50582c18c9"), ("client_secret", "EKKQh8KqRptS"),
        ("webhook_secret", "dsUfeHBTYVayMQGQ"), ("region", "es"),
        ("redirect_uri", "https://static.xpertsuite.nl/OAuthRedirect.html"), ("app_name", "NN XS Connect"),
    ]
    return KeystoreEntry(label: String(format: "Acme BV %06d", n), type: "exact-online",
                         fields: try fields.map { CredentialField(name: $0.0, value: try SecretBytes(Array($0.1.utf8))) },
                         blobID: hex(Random.bytes(16)), created: "2026-11-23T12:00:00Z",
                         expires: "2099-12-31T00:00:00Z", opened: "2026-11-24T00:00:00Z")
}

func directory(_ path: String) -> String { (path as NSString).deletingLastPathComponent }

func stats(_ xs: [Double]) -> (median: Double, p90: Double) {
    let s = xs.sorted()
    return (s[s.count / 2] * 1000, s[min(s.count - 1, s.count * 9 / 10)] * 1000)
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "--handoff": try handoffBench(Array(arguments.dropFirst()))
case "--seal-blobs": try sealBlobs(Array(arguments.dropFirst()))
case "--argon2": try argon2Bench(Array(arguments.dropFirst()))
default: try await keystoreBench(arguments)
}
