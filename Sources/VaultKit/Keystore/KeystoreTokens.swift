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
        var current: TokenState?
        while true {
            let acquired = try await write { (s) throws(KeystoreError) -> Bool in
                let state = try labelState(key, s)
                guard let last = state.versions.last else { throw .noSuchEntry(label: label) }
                let now = FileIO.now()
                if let l = state.lease {
                    let lease = try leaseInfo(l, s)
                    if lease.holder != holder && lease.expires > now { return false }
                }
                let stored = try KeystoreEntry(decoding: try open(last, s)).label
                try commit([NewRecord(type: .tokenLease, key: key, plaintext: try leaseRecord(stored, holder, expires: now + leaseDuration))],
                           dead: state.lease?.length ?? 0, in: s)
                current = try state.token.map { (r) throws(KeystoreError) in try TokenState(decoding: try open(r, s)) }
                return true
            }
            if acquired { break }
            guard FileIO.now() < deadline else { throw KeystoreError.leaseTimeout(label: label) }
            try await Task.sleep(nanoseconds: UInt64.random(in: 10_000_000...40_000_000))
        }
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

    /// Stores `state` (if any) and releases the lease in one commit, if the lease is still
    /// ours — even expired, as long as nobody took it since.
    private func finishLease(_ label: String, key: LookupKey, holder: [UInt8], storing state: TokenState?) async throws(KeystoreError) {
        try await write { (s) throws(KeystoreError) in
            let current = try labelState(key, s)
            guard let l = current.lease, try leaseInfo(l, s).holder == holder, let last = current.versions.last else {
                throw .leaseLost(label: label)
            }
            let stored = try KeystoreEntry(decoding: try open(last, s)).label
            var items: [NewRecord] = []
            var dead = l.length
            if let state {
                items.append(NewRecord(type: .tokenState, key: key, plaintext: try state.encoded(label: stored)))
                dead += current.token?.length ?? 0
            }
            // A release is a lease that expired at the epoch.
            items.append(NewRecord(type: .tokenLease, key: key, plaintext: try leaseRecord(stored, holder, expires: 0)))
            try commit(items, dead: dead, in: s)
        }
    }

    private func leaseRecord(_ label: String, _ holder: [UInt8], expires: Double) throws(KeystoreError) -> SecretBytes {
        var w = RecordWriter()
        w.add(.label, label)
        w.add(.holder, bytes: holder)
        w.add(.leaseExpires, bytes: be64(UInt64(max(0, expires * 1000))))
        return try w.encoded()
    }

    private func leaseInfo(_ ref: FrameRef, _ s: any KeystoreStorageSession) throws(KeystoreError) -> (holder: [UInt8], expires: Double) {
        let r = try RecordReader(try open(ref, s))
        guard let h = r.all(.holder).first, let e = r.all(.leaseExpires).first, e.length == 8 else {
            throw .damaged(detail: "lease record lacks holder or expiry")
        }
        return r.plaintext.withUnsafeBytes { b in
            (Array(b[h.offset..<(h.offset + h.length)]), Double(readBE64(b, e.offset)) / 1000)
        }
    }
}
