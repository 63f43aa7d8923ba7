// Measures the keystore at growing sizes (docs/PERFORMANCE.md). Usage:
//   swift run -c release keystore-bench [DIR] [SIZES] [REPEATS] [--keep]
//   swift run -c release keystore-bench --open DIR
// SIZES is a comma-separated list (default 100,10000,100000). Unlocks with a key file, so no
// KDF is in any figure. Every insert measured is a durable one: lock, catch up, append, fsync.
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

func stats(_ xs: [Double]) -> (median: Double, p90: Double) {
    let s = xs.sorted()
    return (s[s.count / 2] * 1000, s[min(s.count - 1, s.count * 9 / 10)] * 1000)
}

var args = Array(CommandLine.arguments.dropFirst())
// `--open DIR`: only time cold opens of a keystore a `--keep` run left in DIR (for profiling).
if args.first == "--open", args.count == 2 {
    for _ in 0..<5 {
        let t = seconds()
        _ = try await Keystore.open(at: args[1] + "/bench.vault", unlock: .keyFile(path: args[1] + "/bench.key"))
        print(String(format: "cold open: %.0f ms", (seconds() - t) * 1000))
    }
    exit(0)
}
let keep = args.last == "--keep"
if keep { args.removeLast() }
let dir = args.count > 0 ? args[0] : NSTemporaryDirectory() + "keystore-bench-\(getpid())"
let sizes = (args.count > 1 ? args[1] : "100,10000,100000").split(separator: ",").compactMap { Int($0) }
let repeats = args.count > 2 ? Int(args[2]) ?? 50 : 50
try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
let path = dir + "/bench.vault", keyPath = dir + "/bench.key"
try? FileManager.default.removeItem(atPath: path)
try? FileManager.default.removeItem(atPath: keyPath)
try KeyFile.create(at: keyPath)
let ks = try await Keystore.create(at: path, protection: .keyFile(path: keyPath))
var count = 0     // entries stored
var bulk = 0      // labels 0..<bulk come from the bulk load; measured inserts use others
print("| entries | file MiB | insert median ms | insert p90 ms | read median ms | read p90 ms | cold open ms | bulk load s |")
print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for size in sizes {
    let loadStart = seconds()
    while count < size {
        let batch = try (bulk..<(bulk + min(size - count, 2000))).map { try entry($0) }
        try await ks.insert(contentsOf: batch)
        count += batch.count
        bulk += batch.count
    }
    let load = seconds() - loadStart
    var inserts: [Double] = []
    for _ in 0..<repeats {
        let e = try entry(1_000_000 + count)
        let t = seconds()
        try await ks.insert(e)
        inserts.append(seconds() - t)
        count += 1
    }
    var reads: [Double] = []
    for i in 0..<repeats {
        let label = String(format: "Acme BV %06d", (i * 7919) % bulk)
        let t = seconds()
        let e = try await ks.entry(label)
        reads.append(seconds() - t)
        precondition(e.field("client_secret") != nil)
    }
    let t = seconds()
    _ = try await Keystore.open(at: path, unlock: .keyFile(path: keyPath))
    let open = (seconds() - t) * 1000
    let mib = Double((try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0) / 1048576
    let (im, ip) = stats(inserts), (rm, rp) = stats(reads)
    print(String(format: "| %d | %.1f | %.2f | %.2f | %.3f | %.3f | %.0f | %.1f |", size, mib, im, ip, rm, rp, open, load))
}
if !keep { try? FileManager.default.removeItem(atPath: dir) }
