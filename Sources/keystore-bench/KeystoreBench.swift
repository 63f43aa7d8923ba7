// The keystore at growing sizes (docs/PERFORMANCE.md, "Keystore at scale").
import Foundation
import VaultKit

/// `keystore-bench [DIR] [SIZES] [REPEATS] [--keep]` and `keystore-bench --open KEYSTORE`.
func keystoreBench(_ arguments: [String]) async throws {
    var args = arguments
    // `--open KEYSTORE`: only time cold opens of a keystore a `--keep` run left (for profiling).
    if args.first == "--open", args.count == 2 {
        for _ in 0..<5 {
            let t = seconds()
            let ks = try await Keystore.open(at: args[1], unlock: .keyFile(path: directory(args[1]) + "/bench.key"))
            _ = try await ks.entry("Acme BV 000001")
            print(String(format: "cold open + one read: %.1f ms", (seconds() - t) * 1000))
        }
        return
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
}
