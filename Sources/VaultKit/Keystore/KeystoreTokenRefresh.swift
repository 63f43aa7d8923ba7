/// How a refresh under `Keystore.refreshTokenState` ended; each case decides what the lease's
/// release records (docs/KEYSTORE.md §5).
public enum TokenRefreshOutcome {
    /// Exact answered with a new state: stored with the release, in one transaction, and the
    /// phase is clean again.
    case stored(TokenState)
    /// The refresh token was not used up: the request never left (no connection could be made),
    /// or Exact refused it for a reason that leaves the token valid (a wrong client secret, its
    /// rate limit). The release keeps the phase found when the lease was taken; `error` is rethrown.
    case unchanged(any Error)
    /// The request may have reached Exact but no usable answer came back: Exact may have
    /// replaced the refresh token. The release records `uncertain`; `error` is rethrown.
    case uncertain(any Error)
    /// Exact refused the stored refresh token. The release records `refused`, so later calls
    /// fail at once without asking Exact again; `error` is rethrown.
    case refused(any Error)
}

/// What `Keystore.refreshTokenState` gives back.
public enum TokenRefreshResult {
    /// No refresh was needed (decided under the keystore lock, after any other holder finished).
    case current(TokenState?)
    /// A refresh was made and its state stored; `previous` is the phase found when the lease
    /// was taken (an `inFlight` one means an earlier holder died while refreshing).
    case refreshed(TokenState, previous: TokenRefreshPhase)
}

/// What is known of an entry's tokens without using them (`vault status`, `vault list`).
public struct TokenStatus {
    /// The stored state, if the entry was ever connected.
    public let state: TokenState?
    /// The refresh phase of the latest lease record.
    public let phase: TokenRefreshPhase
    /// When a lease held by a process right now expires (seconds since the epoch), else nil.
    public let leaseHeldUntil: Double?
}

extension Keystore {
    /// Refreshes the token state of the entry `label` under its lease, only if
    /// `needsRefresh` says so once the lease is free: a caller that waited for another
    /// holder usually finds a fresh state and refreshes nothing (docs/KEYSTORE.md §5).
    ///
    /// Taking the lease records the refresh as in flight (phase `inFlight`, fsynced) before
    /// `refresh` runs, so a holder killed after sending the refresh token leaves that mark for
    /// the next holder to find. `refresh` gets the current state and the phase found, and
    /// returns how the request ended.
    ///
    /// - Parameters:
    ///   - leaseDuration: seconds the lease lasts; `refresh` must finish within it.
    ///   - waitAtMost: seconds to wait for another holder's lease.
    ///   - needsRefresh: decides, under the keystore lock, from the current state and phase.
    /// - Throws: `KeystoreError.noSuchEntry`, `.leaseTimeout`, `.leaseLost`, lock and I/O errors;
    ///   the error an outcome carries, after the release; what `refresh` throws, after a release
    ///   that records `uncertain` (it may have sent the token).
    public func refreshTokenState(_ label: String, leaseDuration: Double = 60, waitAtMost: Double = 120,
                                  needsRefresh: (TokenState?, TokenRefreshPhase) -> Bool,
                                  refresh: (TokenState?, TokenRefreshPhase) async throws -> TokenRefreshOutcome)
        async throws -> TokenRefreshResult {
        let key = try labelKey(label)
        let holder = Random.bytes(16)
        let deadline = FileIO.now() + waitAtMost
        enum Step { case wait, done(TokenState?), taken(TokenState?, TokenRefreshPhase, since: Double) }
        var step = Step.wait
        while true {
            step = try await write { (s) throws(KeystoreError) -> Step in
                // The entry's current version and the lease are decrypted (authenticated)
                // before they decide anything.
                let t = try leaseTarget(key, label, s)
                let now = FileIO.now()
                if let lease = t.lease, lease.holder != holder && lease.expires > now { return .wait }
                let phase = t.lease?.phase ?? .clean
                let current = try tokenState(t.records, s)
                guard needsRefresh(current, phase) else { return .done(current) }
                // Marked before the refresh token leaves this process: if we die from here on,
                // the next holder knows Exact may have replaced it.
                try commit([NewRecord(type: .tokenLease, key: key,
                                      plaintext: try leaseRecord(t.stored, holder, expires: now + leaseDuration,
                                                                 phase: .inFlight(since: now)))],
                           dead: t.records.lease?.length ?? 0, audit: .tokenRefreshStarted(label: t.stored), in: s)
                return .taken(current, phase, since: now)
            }
            if case .wait = step {
                guard FileIO.now() < deadline else { throw KeystoreError.leaseTimeout(label: label) }
                try await Task.sleep(nanoseconds: UInt64.random(in: 10_000_000...40_000_000))
                continue
            }
            break
        }
        guard case .taken(let current, let previous, let since) = step else {
            if case .done(let current) = step { return .current(current) }
            fatalError("unreachable")
        }
        let outcome: TokenRefreshOutcome
        do {
            outcome = try await refresh(current, previous)
        } catch {
            try? await finishLease(label, key: key, holder: holder, storing: nil, phase: .uncertain(since: since),
                                   audit: { .tokenRefreshEnded(label: $0, outcome: "uncertain") })
            throw error
        }
        switch outcome {
        case .stored(let state):
            try await finishLease(label, key: key, holder: holder, storing: state, phase: .clean,
                                  audit: { .tokenRefreshEnded(label: $0, outcome: "stored") })
            return .refreshed(state, previous: previous)
        case .unchanged(let error):
            try await finishLease(label, key: key, holder: holder, storing: nil, phase: previous,
                                  audit: { .tokenRefreshEnded(label: $0, outcome: "unchanged") })
            throw error
        case .uncertain(let error):
            try await finishLease(label, key: key, holder: holder, storing: nil, phase: .uncertain(since: since),
                                  audit: { .tokenRefreshEnded(label: $0, outcome: "uncertain") })
            throw error
        case .refused(let error):
            try await finishLease(label, key: key, holder: holder, storing: nil, phase: .refused(at: FileIO.now()),
                                  audit: { .tokenRefreshEnded(label: $0, outcome: "refused") })
            throw error
        }
    }

    /// The token state and refresh phase of the entry `label`, read without taking its lease.
    /// - Throws: `KeystoreError.noSuchEntry`, `.damaged`, lock and I/O errors.
    public func tokenStatus(_ label: String) async throws(KeystoreError) -> TokenStatus {
        let key = try labelKey(label)
        return try await read { (s) throws(KeystoreError) -> TokenStatus in
            let records = try labelState(key, s)
            guard !records.versions.isEmpty else { throw .noSuchEntry(label: label) }
            return try status(records, s)
        }
    }

    /// The token status of every entry that has a token state or a lease, by the label its
    /// current version holds (as `list` gives it); an entry missing here was never connected.
    /// Only those entries' current versions and their token records are decrypted.
    /// - Throws: `KeystoreError.damaged`, lock and I/O errors.
    public func tokenStatuses() async throws(KeystoreError) -> [String: TokenStatus] {
        try await read { (s) throws(KeystoreError) -> [String: TokenStatus] in
            var set = LiveSet()
            for r in try current().allRefs(s) { try set.add(r) }
            var out: [String: TokenStatus] = [:]
            for records in set.labels.values where records.token != nil || records.lease != nil {
                guard let last = records.versions.last else { continue }
                out[try storedLabel(last, s)] = try status(records, s)
            }
            return out
        }
    }

    /// The token status of `label`, with a `token-read` record committed in the same
    /// transaction when `handingOut` says its access token is handed out (the Exact Online
    /// broker's fast path); see `Keystore.loggedRead` for a keystore that cannot be written.
    /// - Throws: `KeystoreError.noSuchEntry`, `.readNotLogged`, `.damaged`, lock and I/O errors.
    func tokenStatus(_ label: String, handingOut: (TokenStatus) -> Bool) async throws(KeystoreError) -> TokenStatus {
        let key = try labelKey(label)
        return try await loggedRead { (s) throws(KeystoreError) -> (value: TokenStatus, event: AuditEvent?) in
            let records = try labelState(key, s)
            guard let last = records.versions.last else { throw .noSuchEntry(label: label) }
            let st = try status(records, s)
            return (st, handingOut(st) ? .tokenRead(label: try storedLabel(last, s), refreshed: false) : nil)
        }
    }

    /// Commits a `token-read` record for `label` (an access token handed out after a refresh).
    /// - Throws: `KeystoreError.noSuchEntry`, `.readNotLogged`, lock and I/O errors.
    func recordTokenRead(_ label: String, refreshed: Bool) async throws(KeystoreError) {
        let key = try labelKey(label)
        try await loggedRead { (s) throws(KeystoreError) -> (value: Void, event: AuditEvent?) in
            guard let last = try labelState(key, s).versions.last else { throw .noSuchEntry(label: label) }
            return ((), .tokenRead(label: try storedLabel(last, s), refreshed: refreshed))
        }
    }

    private func status(_ records: LiveSet.LabelState, _ s: any KeystoreStorageSession) throws(KeystoreError) -> TokenStatus {
        let state = try tokenState(records, s)
        let lease = try records.lease.map { (l) throws(KeystoreError) in try leaseInfo(l, s) }
        let held = lease.flatMap { $0.expires > FileIO.now() ? $0.expires : nil }
        return TokenStatus(state: state, phase: lease?.phase ?? .clean, leaseHeldUntil: held)
    }
}
