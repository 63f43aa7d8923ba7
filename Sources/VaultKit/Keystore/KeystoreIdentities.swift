/// The state of an identity (docs/KEYSTORE.md §2.5): exactly one is `current` (the key
/// `vault recipient` publishes and new blobs are sealed to); `active` ones still open blobs
/// sealed to them; `retired` ones open nothing.
public enum IdentityState: String, Sendable, CaseIterable {
    /// The identity `vault recipient` publishes and new blobs are sealed to: exactly one.
    case current
    /// An earlier identity that still opens blobs sealed to it.
    case active
    /// An identity that opens nothing any more.
    case retired
}

/// What is known of an identity, without its secret key.
public struct IdentityInfo: Sendable, Equatable {
    /// The identity's fingerprint (FORMAT.md §2).
    public let fingerprint: Fingerprint
    /// Its public key.
    public let publicKey: PublicKey
    /// When it was made (RFC 3339 UTC).
    public let created: String
    /// Its state.
    public let state: IdentityState
    /// When it got that state.
    public let changed: String
}

/// One identity record to append: a new identity, or a new state of one already stored (the
/// latest record of a fingerprint wins).
public struct IdentityUpdate {
    /// The key pair.
    public var keyPair: KeyPair
    /// Its new state.
    public var state: IdentityState
    /// When the identity was made (RFC 3339 UTC): kept from its first record for an update.
    public var created: String

    /// An update.
    public init(keyPair: KeyPair, state: IdentityState, created: String) {
        self.keyPair = keyPair; self.state = state; self.created = created
    }
}

/// A decrypted identity record.
struct IdentityRecord {
    let ref: FrameRef
    let pair: KeyPair
    let created: String
    let state: IdentityState
    let changed: String

    var info: IdentityInfo {
        IdentityInfo(fingerprint: pair.publicKey.fingerprint, publicKey: pair.publicKey, created: created, state: state, changed: changed)
    }

    static func encode(_ secretKey: SecretBytes, created: String, state: IdentityState, changed: String) throws(KeystoreError) -> SecretBytes {
        var w = RecordWriter()
        w.add(.secretKey, secret: secretKey)
        w.add(.created, created)
        w.add(.state, state.rawValue)
        w.add(.stateChanged, changed)
        return try w.encoded()
    }

    init(decoding plaintext: SecretBytes, ref: FrameRef) throws(KeystoreError) {
        let r = try RecordReader(plaintext)
        do { pair = try KeyPair(secretKey: try r.requiredSecret(.secretKey)) } catch let e as KeystoreError { throw e } catch {
            throw .damaged(detail: "record \(ref.sequence): identity secret key")
        }
        guard let state = IdentityState(rawValue: try r.requiredText(.state)) else {
            throw .damaged(detail: "record \(ref.sequence): unknown identity state")
        }
        self.ref = ref
        self.state = state
        created = try r.requiredText(.created)
        changed = try r.optionalText(.stateChanged) ?? created
    }
}

extension Keystore {
    /// Decrypts identity records and keeps the latest per fingerprint, oldest identity first.
    func identityRecords(_ refs: [FrameRef], _ s: any KeystoreStorageSession) throws(KeystoreError) -> [IdentityRecord] {
        var latest: [Fingerprint: Int] = [:]
        var out: [IdentityRecord] = []
        for ref in refs.sorted(by: { $0.sequence < $1.sequence }) {
            guard ref.type == .identity else { throw .damaged(detail: "record \(ref.sequence) is not an identity") }
            let record = try IdentityRecord(decoding: try open(ref, s), ref: ref)
            let fp = record.pair.publicKey.fingerprint
            if let i = latest[fp] { out[i] = record } else { latest[fp] = out.count; out.append(record) }
        }
        return out
    }

    func identityRecords(_ s: any KeystoreStorageSession) throws(KeystoreError) -> [IdentityRecord] {
        try identityRecords(try current().refs(for: try lookupKey(.identity, ""), s), s)
    }

    func currentIdentity(_ s: any KeystoreStorageSession) throws(KeystoreError) -> IdentityRecord {
        let current = try identityRecords(s).filter { $0.state == .current }
        guard current.count == 1 else { throw .damaged(detail: "\(current.count) identities are current, not one") }
        return current[0]
    }

    /// Every identity the keystore holds (current, active and retired), oldest first.
    /// - Throws: `KeystoreError.damaged`, lock and I/O errors.
    public func identities() async throws(KeystoreError) -> [IdentityInfo] {
        try await read { (s) throws(KeystoreError) -> [IdentityInfo] in try identityRecords(s).map(\.info) }
    }

    /// The current identity: the X25519 key pair new blobs are sealed to.
    /// - Throws: `KeystoreError.damaged` (none or several current), lock and I/O errors.
    public func identity() async throws(KeystoreError) -> KeyPair {
        try await read { (s) throws(KeystoreError) -> KeyPair in try currentIdentity(s).pair }
    }

    /// When the current identity was created (RFC 3339 UTC), for `vault recipient`'s `# created:` line.
    /// - Throws: `KeystoreError.damaged`, lock and I/O errors.
    public func identityCreated() async throws(KeystoreError) -> String {
        try await read { (s) throws(KeystoreError) -> String in try currentIdentity(s).created }
    }

    /// The identity a blob names by its fingerprint, if it may open blobs (current or active).
    /// - Throws: `KeystoreError.noSuchIdentity`, `.identityRetired` (naming when), `.damaged`,
    ///   lock and I/O errors.
    public func identity(fingerprint: Fingerprint) async throws(KeystoreError) -> KeyPair {
        try await read { (s) throws(KeystoreError) -> KeyPair in
            guard let r = try identityRecords(s).first(where: { $0.pair.publicKey.fingerprint == fingerprint }) else {
                throw .noSuchIdentity(fingerprint: fingerprint.canonical)
            }
            guard r.state != .retired else { throw .identityRetired(fingerprint: fingerprint.canonical, retired: r.changed) }
            return r.pair
        }
    }

    /// The identities that open blobs (current and active), current first: what `Handoff.open`
    /// is given, so a blob is opened with the identity its header names.
    /// - Throws: `KeystoreError.damaged`, lock and I/O errors.
    public func openingIdentities() async throws(KeystoreError) -> [KeyPair] {
        try await read { (s) throws(KeystoreError) -> [KeyPair] in
            let all = try identityRecords(s)
            return all.filter { $0.state == .current }.map(\.pair) + all.filter { $0.state == .active }.map(\.pair)
        }
    }

    /// Appends identity records in one commit (the primitive under rotate, retire and import,
    /// issue 12), each with its audit record naming `operation`: afterwards exactly one identity
    /// must be current.
    /// - Throws: `KeystoreError.invalidEntry` (not exactly one current afterwards), lock and I/O errors.
    public func updateIdentities(_ updates: [IdentityUpdate], operation: IdentityOperation) async throws(KeystoreError) {
        try await changeIdentities(operation) { (_) throws(KeystoreError) -> [IdentityUpdate] in updates }
    }

    /// Decides identity updates from the identities as they are under the exclusive lock, and
    /// commits them in one commit, each with its audit record naming `operation`: so two
    /// processes rotating at once never both make a new current identity from the same old one.
    /// Afterwards exactly one identity must be current.
    /// - Parameter decide: given every identity record (latest per fingerprint, oldest identity
    ///   first), the updates to append; none commits nothing.
    /// - Throws: what `decide` throws; `KeystoreError.invalidEntry` (a created time that is no
    ///   time, not exactly one current afterwards), lock and I/O errors.
    func changeIdentities(_ operation: IdentityOperation,
                          _ decide: ([IdentityRecord]) throws(KeystoreError) -> [IdentityUpdate]) async throws(KeystoreError) {
        let key = try lookupKey(.identity, "")
        try await write { (s) throws(KeystoreError) in
            let existing = try identityRecords(s)
            let updates = try decide(existing)
            guard !updates.isEmpty else { return }
            let now = Timestamp.now()
            var states: [Fingerprint: (IdentityState, Int)] = [:]
            for r in existing { states[r.pair.publicKey.fingerprint] = (r.state, r.ref.length) }
            var records: [NewRecord] = []
            var dead = 0
            for u in updates {
                guard Timestamp.isValid(u.created) else { throw .invalidEntry(detail: "identity created is not a YYYY-MM-DDTHH:MM:SSZ time") }
                records.append(NewRecord(type: .identity, key: key,
                                         plaintext: try IdentityRecord.encode(u.keyPair.secretKey, created: u.created, state: u.state, changed: now)))
                if let old = states[u.keyPair.publicKey.fingerprint] { dead += old.1 }
                states[u.keyPair.publicKey.fingerprint] = (u.state, 0)
            }
            guard states.values.filter({ $0.0 == .current }).count == 1 else {
                throw .invalidEntry(detail: "exactly one identity must be current")
            }
            let events = updates.map { AuditEvent.identityChanged(fingerprint: $0.keyPair.publicKey.fingerprint, state: $0.state, operation: operation) }
            guard let audit = AuditEvents(events) else { return }
            var b = beginCommit()
            b.dead = dead
            for r in records { try add(r, to: &b) }
            try finish(b, audit: audit, in: s)
        }
    }
}
