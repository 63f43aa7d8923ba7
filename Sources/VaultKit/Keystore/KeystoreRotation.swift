/// Identities over time (issue 12): rotating to a new current identity, retiring an old one,
/// importing and exporting one. Each change is one commit of identity records, decided under
/// the exclusive lock (`changeIdentities`), so concurrent changes never leave two current
/// identities or lose one.
extension Keystore {
    /// Makes a new identity current (`vault rotate`). The identity that was current becomes
    /// `active`: blobs sealed to it still open until it is retired.
    /// - Returns: the new current identity.
    /// - Throws: `KeystoreError.damaged`, `.sodium`, lock and I/O errors.
    @discardableResult
    public func rotateIdentity() async throws(KeystoreError) -> IdentityInfo {
        let pair: KeyPair
        do { pair = try KeyPair.generate() } catch { throw .sodium(error) }
        let now = Timestamp.now()
        try await changeIdentities(.rotate) { (all) throws(KeystoreError) -> [IdentityUpdate] in
            let current = all.filter { $0.state == .current }
            guard current.count == 1 else { throw .damaged(detail: "\(current.count) identities are current, not one") }
            return [IdentityUpdate(keyPair: current[0].pair, state: .active, created: current[0].created),
                    IdentityUpdate(keyPair: pair, state: .current, created: now)]
        }
        return try await identityInfo(pair.publicKey.fingerprint)
    }

    /// Retires an identity (`vault retire`): blobs sealed to it are refused from now on, with
    /// `KeystoreError.identityRetired` naming when. Its secret key stays in the keystore (so
    /// `identities()` still lists it, and it can be exported), but it opens nothing.
    /// - Returns: the identity as it is now, and whether this call retired it (false: it was
    ///   retired already, and nothing was written).
    /// - Throws: `KeystoreError.noSuchIdentity`, `.currentIdentity` (rotate first), `.damaged`,
    ///   lock and I/O errors.
    public func retireIdentity(fingerprint: Fingerprint) async throws(KeystoreError) -> (identity: IdentityInfo, changed: Bool) {
        var changed = false
        try await changeIdentities(.retire) { (all) throws(KeystoreError) -> [IdentityUpdate] in
            guard let r = all.first(where: { $0.pair.publicKey.fingerprint == fingerprint }) else {
                throw .noSuchIdentity(fingerprint: fingerprint.canonical)
            }
            switch r.state {
            case .current: throw .currentIdentity(fingerprint: fingerprint.canonical)
            case .retired: return []
            case .active:
                changed = true
                return [IdentityUpdate(keyPair: r.pair, state: .retired, created: r.created)]
            }
        }
        return (try await identityInfo(fingerprint), changed)
    }

    /// Adds an identity from elsewhere (`vault identity import`): retired, so it opens nothing
    /// until it is made current, or current at once (`makeCurrent`), the current one becoming
    /// active. An identity held already can only be made current (a retired or active one
    /// comes back as the current one). Its creation time is the time of the import: the secret
    /// key text carries none.
    /// - Returns: the identity as it is now.
    /// - Throws: `KeystoreError.identityExists` (held already, and not to be made current, or
    ///   current already), `.damaged`, lock and I/O errors.
    @discardableResult
    public func importIdentity(_ pair: KeyPair, makeCurrent: Bool) async throws(KeystoreError) -> IdentityInfo {
        let fingerprint = pair.publicKey.fingerprint
        let now = Timestamp.now()
        try await changeIdentities(.import) { (all) throws(KeystoreError) -> [IdentityUpdate] in
            let held = all.first { $0.pair.publicKey.fingerprint == fingerprint }
            if let held, !makeCurrent || held.state == .current {
                throw .identityExists(fingerprint: fingerprint.canonical, state: held.state)
            }
            guard makeCurrent else { return [IdentityUpdate(keyPair: pair, state: .retired, created: now)] }
            var updates = all.filter { $0.state == .current }.map { IdentityUpdate(keyPair: $0.pair, state: .active, created: $0.created) }
            updates.append(IdentityUpdate(keyPair: pair, state: .current, created: held?.created ?? now))
            return updates
        }
        return try await identityInfo(fingerprint)
    }

    /// The key pair of one identity, in any state, for `vault identity export`: the current one
    /// when `fingerprint` is nil. A secret key handed out: logged (`identity-export`) as a read
    /// of secrets is, before it is returned.
    /// - Throws: `KeystoreError.noSuchIdentity`, `.readNotLogged`, `.damaged`, lock and I/O errors.
    public func exportIdentity(fingerprint: Fingerprint? = nil) async throws(KeystoreError) -> (keyPair: KeyPair, identity: IdentityInfo) {
        try await loggedRead { (s) throws(KeystoreError) -> (value: (keyPair: KeyPair, identity: IdentityInfo), event: AuditEvent?) in
            let r: IdentityRecord
            if let fingerprint {
                guard let found = try identityRecords(s).first(where: { $0.pair.publicKey.fingerprint == fingerprint }) else {
                    throw .noSuchIdentity(fingerprint: fingerprint.canonical)
                }
                r = found
            } else {
                r = try currentIdentity(s)
            }
            return ((r.pair, r.info), .identityExported(fingerprint: r.pair.publicKey.fingerprint))
        }
    }

    /// The identities that open blobs, and when each retired one was retired (by fingerprint):
    /// what `Receiver` needs to open a blob with the identity its header names, and to refuse
    /// one sealed to a retired identity by saying so.
    /// - Throws: `KeystoreError.damaged`, lock and I/O errors.
    public func receivingIdentities() async throws(KeystoreError) -> ReceivingIdentities {
        try await read { (s) throws(KeystoreError) -> ReceivingIdentities in
            let all = try identityRecords(s)
            let opening = all.filter { $0.state == .current }.map(\.pair) + all.filter { $0.state == .active }.map(\.pair)
            var retired: [Fingerprint: String] = [:]
            for r in all where r.state == .retired { retired[r.pair.publicKey.fingerprint] = r.changed }
            return ReceivingIdentities(opening: opening, retired: retired)
        }
    }

    private func identityInfo(_ fingerprint: Fingerprint) async throws(KeystoreError) -> IdentityInfo {
        guard let info = try await identities().first(where: { $0.fingerprint == fingerprint }) else {
            throw .noSuchIdentity(fingerprint: fingerprint.canonical)
        }
        return info
    }
}

/// The identities a keystore opens blobs with (current first, then active), and the retired
/// ones with when they were retired.
public struct ReceivingIdentities {
    /// Current, then active: the key pairs `Handoff.open` is given.
    public let opening: [KeyPair]
    /// Retired identities: when each was retired (RFC 3339 UTC), by fingerprint.
    public let retired: [Fingerprint: String]

    /// Identities as given (a receiving system that holds its keys elsewhere).
    public init(opening: [KeyPair], retired: [Fingerprint: String] = [:]) {
        self.opening = opening
        self.retired = retired
    }
}
