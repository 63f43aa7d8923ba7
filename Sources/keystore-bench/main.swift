// Measures the keystore at growing sizes (docs/PERFORMANCE.md). Usage:
//   swift run -c release keystore-bench [DIR] [SIZES] [REPEATS] [--keep]
//   swift run -c release keystore-bench --open DIR/bench-100000.vault
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

var args = Array(CommandLine.arguments.dropFirst())
// `--open KEYSTORE`: only time cold opens of a keystore a `--keep` run left (for profiling).
if args.first == "--open", args.count == 2 {
    for _ in 0..<5 {
        let t = seconds()
        let ks = try await Keystore.open(at: args[1], unlock: .keyFile(path: directory(args[1]) + "/bench.key"))
        _ = try await ks.entry("Acme BV 000001")
        print(String(format: "cold open + one read: %.1f ms", (seconds() - t) * 1000))
    }
    exit(0)
}
let keep = args.last == "--keep"
if keep { args.removeLast() }
let dir = args.count > 0 ? args[0] : NSTemporaryDirectory() + "keystore-bench-\(getpid())"
let sizes = (args.count > 1 ? args[1] : "100,10000,100000").split(separator: ",").compactMap { Int($0) }
let repeats = args.count > 2 ? Int(args[2]) ?? 50 : 50
try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
let keyPath = dir + "/bench.key"
try? FileManager.default.removeItem(atPath: keyPath)
try KeyFile.create(at: keyPath)

// One keystore per size, bulk-loaded first; the measurements then go round-robin over the sizes,
// so a burst of disk activity from another process falls on all of them alike.
var stores: [(size: Int, path: String, ks: Keystore, load: Double)] = []
var next = 0 // measured inserts get labels no bulk load uses
for size in sizes {
    let path = dir + "/bench-\(size).vault"
    try? FileManager.default.removeItem(atPath: path)
    let ks = try await Keystore.create(at: path, protection: .keyFile(path: keyPath))
    let loadStart = seconds()
    var count = 0
    while count < size {
        let batch = try (count..<min(size, count + 2000)).map { try entry($0) }
        try await ks.insert(contentsOf: batch)
        count += batch.count
    }
    stores.append((size, path, ks, seconds() - loadStart))
}
var inserts = Array(repeating: [Double](), count: stores.count)
var reads = Array(repeating: [Double](), count: stores.count)
var opens = Array(repeating: [Double](), count: stores.count)
for rep in 0..<repeats {
    for (i, s) in stores.enumerated() {
        let e = try entry(10_000_000 + next)
        next += 1
        let t = seconds()
        try await s.ks.insert(e)
        inserts[i].append(seconds() - t)
    }
    for (i, s) in stores.enumerated() {
        let label = String(format: "Acme BV %06d", (rep * 7919) % s.size)
        let t = seconds()
        let e = try await s.ks.entry(label)
        reads[i].append(seconds() - t)
        precondition(e.field("client_secret") != nil)
    }
}
for rep in 0..<max(5, repeats / 4) {
    for (i, s) in stores.enumerated() {
        let label = String(format: "Acme BV %06d", (rep * 104_729) % s.size)
        let t = seconds()
        let ks = try await Keystore.open(at: s.path, unlock: .keyFile(path: keyPath))
        let e = try await ks.entry(label)
        opens[i].append(seconds() - t)
        precondition(e.field("client_secret") != nil)
    }
}
print("| entries | file MiB | insert median ms | insert p90 ms | read median ms | read p90 ms | cold open + read median ms | p90 ms | bulk load s |")
print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for (i, s) in stores.enumerated() {
    let mib = Double((try FileManager.default.attributesOfItem(atPath: s.path)[.size] as? Int) ?? 0) / 1048576
    let (im, ip) = stats(inserts[i]), (rm, rp) = stats(reads[i]), (om, op) = stats(opens[i])
    print(String(format: "| %d | %.1f | %.2f | %.2f | %.3f | %.3f | %.2f | %.2f | %.1f |", s.size, mib, im, ip, rm, rp, om, op, s.load))
}
if !keep { try? FileManager.default.removeItem(atPath: dir) }
