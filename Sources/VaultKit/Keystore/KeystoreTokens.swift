#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Keystore {
    /// Reads and replaces the OAuth token state of the entry `label` while holding its lease, so
    /// that exactly one process refreshes at a time (docs/KEYSTORE.md, "Token leases").
    ///
    /// The lease is a durable record (holder, expiry), taken under the keystore lock; `body` runs
    /// without the keystore lock held (it talks to Exact Online). Other callers wait for the lease
    /// to be released or to expire, so a crashed holder blocks them for `leaseDuration` at most.
    ///
    /// - Parameters:
    ///   - leaseDuration: seconds the lease lasts; `body` must finish within it.
    ///   - waitAtMost: seconds to wait for another holder's lease.
    ///   - body: gets the current state (nil before the first one is stored) and returns the new
    ///     state to store, or nil to keep the current one.
    /// - Returns: the state stored when the lease is released.
    /// - Throws: `KeystoreError.noSuchEntry`, `.leaseTimeout`, `.leaseLost` (our lease expired and
    ///   another holder took it: the new state is not stored), lock and I/O errors — or what `body`
    ///   throws, after the lease is released with the state unchanged.
    public func withTokenLease(_ label: String, leaseDuration: Double = 60, waitAtMost: Double = 120,
                               _ body: (TokenState?) async throws -> TokenState?) async throws -> TokenState? {
        let key = try labelKey(label)
        let holder = Random.bytes(16)
        let deadline = FileIO.now() + waitAtMost
        var tokenIndex: Int?
        while true {
            let acquired = try await write { (s) throws(KeystoreError) -> Bool in
                guard let state = index.labels[LookupKey(key)], !state.versions.isEmpty else { throw .noSuchEntry(label: label) }
                let now = FileIO.now()
                if let l = state.lease {
                    let lease = try leaseInfo(l)
                    if lease.holder != holder && lease.expires > now { return false }
                }
                try commit([(.tokenLease, key, try leaseRecord(label, holder, expires: now + leaseDuration))], in: s)
                tokenIndex = state.token
                return true
            }
            if acquired { break }
            guard FileIO.now() < deadline else { throw KeystoreError.leaseTimeout(label: label) }
            try await Task.sleep(nanoseconds: UInt64.random(in: 10_000_000...40_000_000))
        }
        let current = try tokenIndex.map { (i) throws(KeystoreError) in try TokenState(decoding: try open(i)) }
        let replacement: TokenState?
        do {
            replacement = try await body(current)
        } catch {
            try? await finishLease(label, key: key, holder: holder, storing: nil)
            throw error
        }
        try await finishLease(label, key: key, holder: holder, storing: replacement)
        return replacement ?? current
    }

    /// Stores `state` (if any) and releases the lease in one transaction, if the lease is still
    /// ours — even expired, as long as nobody took it since.
    private func finishLease(_ label: String, key: [UInt8], holder: [UInt8], storing state: TokenState?) async throws(KeystoreError) {
        try await write { (s) throws(KeystoreError) in
            guard let l = index.labels[LookupKey(key)]?.lease, try leaseInfo(l).holder == holder else { throw .leaseLost(label: label) }
            var items: [(RecordType, [UInt8], SecretBytes)] = []
            if let state { items.append((.tokenState, key, try state.encoded(label: Label.normalized(label)))) }
            // A release is a lease that expired at the epoch.
            items.append((.tokenLease, key, try leaseRecord(label, holder, expires: 0)))
            try commit(items, in: s)
            try compactIfWorthwhile(s)
        }
    }

    private func leaseRecord(_ label: String, _ holder: [UInt8], expires: Double) throws(KeystoreError) -> SecretBytes {
        var w = RecordWriter()
        w.add(.label, Label.normalized(label))
        w.add(.holder, bytes: holder)
        w.add(.leaseExpires, bytes: be64(UInt64(max(0, expires * 1000))))
        return try w.encoded()
    }

    private func leaseInfo(_ i: Int) throws(KeystoreError) -> (holder: [UInt8], expires: Double) {
        let r = try RecordReader(try open(i))
        guard let h = r.all(.holder).first, let e = r.all(.leaseExpires).first, e.length == 8 else {
            throw .damaged(detail: "lease record lacks holder or expiry")
        }
        return r.plaintext.withUnsafeBytes { b in
            (Array(b[h.offset..<(h.offset + h.length)]), Double(readBE64(b, e.offset)) / 1000)
        }
    }
}
