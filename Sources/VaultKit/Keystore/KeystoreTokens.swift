#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An entry's OAuth token state, replaced under a lease (`Keystore.withTokenLease`,
/// `Keystore.refreshTokenState`).
public struct TokenState {
    /// The refresh token (Exact Online issues a new one with every refresh; the old one is burnt).
    public var refreshToken: SecretBytes
    /// The access token.
    public var accessToken: SecretBytes
    /// When the access token expires (RFC 3339 UTC).
    public var accessTokenExpires: String
    /// When the access token was obtained (connect or refresh), RFC 3339 UTC; nil in states
    /// written before this field existed (tag 0x23).
    public var refreshedAt: String?
    /// When the current refresh token was issued, RFC 3339 UTC: Exact refuses one unused for
    /// 30 days (tag 0x24).
    public var refreshTokenIssuedAt: String?

    /// A token state.
    public init(refreshToken: SecretBytes, accessToken: SecretBytes, accessTokenExpires: String,
                refreshedAt: String? = nil, refreshTokenIssuedAt: String? = nil) {
        self.refreshToken = refreshToken
        self.accessToken = accessToken
        self.accessTokenExpires = accessTokenExpires
        self.refreshedAt = refreshedAt
        self.refreshTokenIssuedAt = refreshTokenIssuedAt
    }

    func encoded(label: String) throws(KeystoreError) -> SecretBytes {
        var w = RecordWriter()
        w.add(.label, label)
        w.add(.refreshToken, secret: refreshToken)
        w.add(.accessToken, secret: accessToken)
        w.add(.accessExpires, accessTokenExpires)
        w.addIfPresent(.refreshedAt, refreshedAt)
        w.addIfPresent(.refreshIssuedAt, refreshTokenIssuedAt)
        return try w.encoded()
    }

    init(decoding plaintext: SecretBytes) throws(KeystoreError) {
        let r = try RecordReader(plaintext)
        self.init(refreshToken: try r.requiredSecret(.refreshToken), accessToken: try r.requiredSecret(.accessToken),
                  accessTokenExpires: try r.requiredText(.accessExpires), refreshedAt: try r.optionalText(.refreshedAt),
                  refreshTokenIssuedAt: try r.optionalText(.refreshIssuedAt))
    }
}

/// What the entry's latest lease record says about its refresh token (lease field 0x2a). It
/// outlives the lease: a holder that dies leaves `inFlight`, which the next holder reads.
public enum TokenRefreshPhase: Equatable, Sendable {
    /// Nothing pending: the stored refresh token is the latest one vault knows of.
    case clean
    /// A refresh was sent to Exact at `since` (seconds since the epoch) by the lease's holder.
    /// Found under an expired lease, it means the holder died before storing the answer: Exact
    /// may have replaced the stored refresh token.
    case inFlight(since: Double)
    /// A refresh sent at `since` ended without a usable answer (timeout, dropped connection,
    /// malformed or server-error answer): Exact may have replaced the stored refresh token.
    case uncertain(since: Double)
    /// Exact refused the stored refresh token at `at`: it is dead until the entry is connected again.
    case refused(at: Double)

    var code: UInt8 {
        switch self {
        case .clean: 0
        case .inFlight: 1
        case .uncertain: 2
        case .refused: 3
        }
    }

    var time: Double {
        switch self {
        case .clean: 0
        case .inFlight(let t), .uncertain(let t), .refused(let t): t
        }
    }

    /// Phase byte ‖ time in milliseconds since the epoch (8 bytes, big-endian).
    var encoded: [UInt8] { [code] + be64(UInt64(max(0, time * 1000))) }

    init(code: UInt8, time: Double) throws(KeystoreError) {
        switch code {
        case 0: self = .clean
        case 1: self = .inFlight(since: time)
        case 2: self = .uncertain(since: time)
        case 3: self = .refused(at: time)
        default: throw .damaged(detail: "lease record has an unknown phase")
        }
    }
}

/// A lease record, decoded.
struct LeaseInfo {
    let holder: [UInt8]
    let expires: Double
    let phase: TokenRefreshPhase
}

extension Keystore {
    /// Reads and replaces the OAuth token state of the entry `label` while holding its lease, so
    /// that exactly one process refreshes at a time (docs/KEYSTORE.md §5).
    ///
    /// The lease is a durable record (holder, expiry), taken under the keystore lock; `body` runs
    /// without the keystore lock held (it talks to Exact Online). Other callers wait for the lease
    /// to be released or to expire, so a crashed holder blocks them for `leaseDuration` at most.
    /// The refresh phase the previous holder left is kept; storing a new state clears it.
    /// `refreshTokenState` is the form that also records a refresh in flight.
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
        var taken: (current: TokenState?, phase: TokenRefreshPhase)?
        while true {
            taken = try await write { (s) throws(KeystoreError) -> (current: TokenState?, phase: TokenRefreshPhase)? in
                let t = try leaseTarget(key, label, s)
                let now = FileIO.now()
                if let lease = t.lease, lease.holder != holder && lease.expires > now { return nil }
                let phase = t.lease?.phase ?? .clean
                let current = try tokenState(t.records, s)
                try commit([NewRecord(type: .tokenLease, key: key,
                                      plaintext: try leaseRecord(t.stored, holder, expires: now + leaseDuration, phase: phase))],
                           dead: t.records.lease?.length ?? 0, audit: .tokenLeaseTaken(label: t.stored), in: s)
                return (current, phase)
            }
            if taken != nil { break }
            guard FileIO.now() < deadline else { throw KeystoreError.leaseTimeout(label: label) }
            try await Task.sleep(nanoseconds: UInt64.random(in: 10_000_000...40_000_000))
        }
        let (current, phase) = taken!
        let replacement: TokenState?
        do {
            replacement = try await body(current)
        } catch {
            try? await finishLease(label, key: key, holder: holder, storing: nil, phase: phase, audit: { .tokenLeaseReleased(label: $0) })
            throw error
        }
        try await finishLease(label, key: key, holder: holder, storing: replacement, phase: replacement == nil ? phase : .clean,
                              audit: { replacement == nil ? .tokenLeaseReleased(label: $0) : .tokenStored(label: $0) })
        return replacement ?? current
    }

    /// What a lease decision reads about the entry `label`, each record decrypted (so
    /// authenticated) before anything is decided on it: the entry's current version (the label
    /// as stored, which lease and token records carry) and the latest lease.
    /// - Throws: `.noSuchEntry` when the entry has no version, `.damaged`.
    func leaseTarget(_ key: LookupKey, _ label: String, _ s: any KeystoreStorageSession) throws(KeystoreError)
        -> (records: LiveSet.LabelState, stored: String, lease: LeaseInfo?) {
        let records = try labelState(key, s)
        guard let last = records.versions.last else { throw .noSuchEntry(label: label) }
        let stored = try storedLabel(last, s)
        // A blinded-key collision never passes for this label.
        guard Label.comparisonKey(stored) == Label.comparisonKey(label) else {
            throw .damaged(detail: "record \(last.sequence) holds another label")
        }
        let lease = try records.lease.map { (l) throws(KeystoreError) in try leaseInfo(l, s) }
        return (records, stored, lease)
    }

    /// The label an entry version holds, read from its decrypted (so authenticated) record; no
    /// credential value is copied out.
    func storedLabel(_ version: FrameRef, _ s: any KeystoreStorageSession) throws(KeystoreError) -> String {
        try RecordReader(try open(version, s)).requiredText(.label)
    }

    /// The entry's token state, decrypted; nil before the first one is stored.
    func tokenState(_ records: LiveSet.LabelState, _ s: any KeystoreStorageSession) throws(KeystoreError) -> TokenState? {
        try records.token.map { (r) throws(KeystoreError) in try TokenState(decoding: try open(r, s)) }
    }

    /// Stores `state` (if any) and releases the lease with `phase` in one commit, if the lease
    /// is still ours — even expired, as long as nobody took it since.
    /// - Parameter audit: the event, given the label as the entry stores it.
    func finishLease(_ label: String, key: LookupKey, holder: [UInt8], storing state: TokenState?,
                     phase: TokenRefreshPhase, audit: (String) -> AuditEvent) async throws(KeystoreError) {
        try await write { (s) throws(KeystoreError) in
            let current = try labelState(key, s)
            // The lease record decides whether we may store: decrypted before it does.
            guard let l = current.lease, try leaseInfo(l, s).holder == holder, let last = current.versions.last else {
                throw .leaseLost(label: label)
            }
            let stored = try storedLabel(last, s)
            var items: [NewRecord] = []
            var dead = l.length
            if let state {
                items.append(NewRecord(type: .tokenState, key: key, plaintext: try state.encoded(label: stored)))
                dead += current.token?.length ?? 0
            }
            // A release is a lease that expired at the epoch.
            items.append(NewRecord(type: .tokenLease, key: key, plaintext: try leaseRecord(stored, holder, expires: 0, phase: phase)))
            try commit(items, dead: dead, audit: audit(stored), in: s)
        }
    }

    func leaseRecord(_ label: String, _ holder: [UInt8], expires: Double, phase: TokenRefreshPhase) throws(KeystoreError) -> SecretBytes {
        var w = RecordWriter()
        w.add(.label, label)
        w.add(.holder, bytes: holder)
        w.add(.leaseExpires, bytes: be64(UInt64(max(0, expires * 1000))))
        // Written only when there is something to say, so a clean lease reads as before.
        if phase != .clean { w.add(.leasePhase, bytes: phase.encoded) }
        return try w.encoded()
    }

    /// Decrypts (authenticates) the lease record `ref` and reads holder, expiry and phase.
    func leaseInfo(_ ref: FrameRef, _ s: any KeystoreStorageSession) throws(KeystoreError) -> LeaseInfo {
        let r = try RecordReader(try open(ref, s))
        guard let h = r.all(.holder).first, let e = r.all(.leaseExpires).first, e.length == 8 else {
            throw .damaged(detail: "lease record lacks holder or expiry")
        }
        let p = r.all(.leasePhase).first
        guard p == nil || p!.length == 9 else { throw .damaged(detail: "lease record has a malformed phase") }
        let (holder, expires, code, since) = r.plaintext.withUnsafeBytes { b in
            (Array(b[h.offset..<(h.offset + h.length)]), Double(readBE64(b, e.offset)) / 1000,
             p.map { b[$0.offset] } ?? 0, p.map { Double(readBE64(b, $0.offset + 1)) / 1000 } ?? 0)
        }
        return LeaseInfo(holder: holder, expires: expires, phase: try TokenRefreshPhase(code: code, time: since))
    }
}
