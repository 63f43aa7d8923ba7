/// Why a blob that opened was not stored (FORMAT.md §6 steps 9–10).
public enum ReceiveError: Error, Sendable {
    /// Steps 1–8: the blob did not open.
    case open(OpenError)
    /// Step 9 (`.replay`), step 10 (`.labelInUse`), or the keystore failed.
    case keystore(KeystoreError)
}

/// A blob stored in the keystore.
public struct StoredBlob: Sendable {
    /// The label it was stored under (the sender's, or the integrator's `--as`).
    public let label: String
    /// Its credential type.
    public let type: CredentialType
    /// The Exact Online client id, for exact-online entries.
    public let clientID: String?
    /// Whether an earlier entry with this label was kept as history.
    public let replaced: Bool
}

/// Opening received texts into a keystore: §6 in full, each stored blob durable before it is
/// reported.
public enum Receiver {
    /// What the integrator decided for this run.
    public struct Options: Sendable {
        /// Accept blobs past their expiry (`--allow-expired`).
        public var allowExpired = false
        /// Supersede an entry with the same label, keeping it as history (`--replace`).
        public var replace = false
        /// Store under this label instead of the sender's proposal (`--as`).
        public var label: String?
        /// Refuse a blob that answers no open request of the keystore (`--require-request`;
        /// the keystore's setting `require-request` may require it anyway).
        public var requireRequest = false

        /// Options: nothing allowed beyond the defaults.
        public init(allowExpired: Bool = false, replace: Bool = false, label: String? = nil, requireRequest: Bool = false) {
            self.allowExpired = allowExpired
            self.replace = replace
            self.label = label
            self.requireRequest = requireRequest
        }
    }

    /// The keystore entry for an opened payload. Every credential value goes in as
    /// `SecretBytes`; an omitted region is stored as the default `nl`, the site the
    /// credentials belong to.
    /// - Parameter blob: the opened blob, whose origin (SHA-256, key, proposed label) the
    ///   entry carries for its audit record and the request check.
    /// - Throws: `SodiumError.outOfMemory`.
    public static func entry(for payload: Payload, label: String? = nil, opened: UTCTime,
                             blob: OpenedBlob? = nil) throws(SodiumError) -> KeystoreEntry {
        var fields: [CredentialField] = []
        func add(_ name: String, _ text: String) throws(SodiumError) {
            fields.append(CredentialField(name: name, value: try SecretBytes(Array(text.utf8))))
        }
        switch payload.credentials {
        case .exactOnline(let c):
            try add("client_id", c.clientID)
            fields.append(CredentialField(name: "client_secret", value: c.clientSecret))
            if let w = c.webhookSecret { fields.append(CredentialField(name: "webhook_secret", value: w)) }
            try add("region", (c.region ?? .nl).rawValue)
            if let v = c.redirectURI { try add("redirect_uri", v) }
            if let v = c.appName { try add("app_name", v) }
            if let v = c.division { try add("division", String(v)) }
        case .generic(let g):
            fields = g
        }
        return KeystoreEntry(label: label ?? payload.label, type: payload.type.rawValue, fields: fields,
                             from: payload.from, note: payload.note, blobID: payload.id, request: payload.request,
                             created: payload.created.text, expires: payload.expires.text, opened: opened.text,
                             origin: blob.map { BlobOrigin(sha256: $0.sha256, fingerprint: $0.fingerprint, label: payload.label) })
    }

    /// Opens every blob of `text` with the keystore's identity at `now` and stores each that
    /// passes, one durable insert per blob; a refused blob changes nothing.
    public static func receive(_ text: [UInt8], into keystore: Keystore, options: Options, now: UTCTime,
                               identity: KeyPair) async -> [(line: Int, result: Result<StoredBlob, ReceiveError>)] {
        await receive(text, into: keystore, options: options, now: now, identities: ReceivingIdentities(opening: [identity]))
    }

    /// Opens every blob of `text` with the identity its header names (current or active) at
    /// `now` and stores each that passes, one durable insert per blob; a refused blob changes
    /// nothing. A blob sealed to a retired identity is refused as `identityRetired`.
    public static func receive(_ text: [UInt8], into keystore: Keystore, options: Options, now: UTCTime,
                               identities: ReceivingIdentities) async -> [(line: Int, result: Result<StoredBlob, ReceiveError>)] {
        var results: [(line: Int, result: Result<StoredBlob, ReceiveError>)] = []
        for outcome in Handoff.open(text, keys: identities.opening, now: now, allowExpired: options.allowExpired) {
            switch outcome.result {
            case .failure(let e): results.append((outcome.line, .failure(refusal(e, identities))))
            case .success(let opened):
                results.append((outcome.line, await store(opened, into: keystore, options: options, now: now)))
            }
        }
        return results
    }

    /// Why a blob did not open, as the receiver reports it: a blob whose header names a retired
    /// identity is refused as retired (naming when), not as sealed to an unknown key. The header
    /// fingerprint is not authenticated, but it only chooses the words: a retired key is never tried.
    public static func refusal(_ error: OpenError, _ identities: ReceivingIdentities) -> ReceiveError {
        if case .noMatchingKey(let fingerprint) = error, let retired = identities.retired[fingerprint] {
            return .keystore(.identityRetired(fingerprint: fingerprint.canonical, retired: retired))
        }
        return .open(error)
    }

    /// Stores one opened payload: the replay ledger first (whatever the options), then the label.
    static func store(_ opened: OpenedBlob, into keystore: Keystore, options: Options, now: UTCTime) async -> Result<StoredBlob, ReceiveError> {
        switch prepare(opened, options: options, now: now) {
        case .failure(let e): return .failure(e)
        case .success(let blob): return await store([blob], into: keystore, replace: options.replace, requireRequest: options.requireRequest)[0]
        }
    }

    /// An opened blob made ready to be stored: its keystore entry (secrets in secret memory, and
    /// the blob's origin for its audit record and request check) and what is reported once it
    /// is stored.
    public struct PreparedBlob {
        /// The entry to store.
        public let entry: KeystoreEntry
        /// Its credential type.
        public let type: CredentialType
        /// The Exact Online client id, for exact-online entries.
        public let clientID: String?
    }

    /// The entry an opened blob becomes, opened at `now`, under `options.label` if given.
    public static func prepare(_ opened: OpenedBlob, options: Options, now: UTCTime) -> Result<PreparedBlob, ReceiveError> {
        let payload = opened.payload
        let entry: KeystoreEntry
        do { entry = try Receiver.entry(for: payload, label: options.label, opened: now, blob: opened) } catch {
            return .failure(.keystore(.sodium(error)))
        }
        var clientID: String?
        if case .exactOnline(let c) = payload.credentials { clientID = c.clientID }
        return .success(PreparedBlob(entry: entry, type: payload.type, clientID: clientID))
    }

    /// Stores prepared blobs, each with its own outcome, in order, with one lock and one durable
    /// commit (`Keystore.store`): a refused blob (a replay, a request it does not answer, a label
    /// in use) changes nothing and does not stop the others; each stored one has its audit record,
    /// and the request it answers is marked answered, in that commit. Every stored blob is durable
    /// when this returns. A failure of the keystore itself (lock, I/O) refuses every blob of the
    /// group, and then none was stored.
    /// - Parameter requireRequest: refuse a blob answering no open request (`--require-request`).
    public static func store(_ blobs: [PreparedBlob], into keystore: Keystore, replace: Bool,
                             requireRequest: Bool = false) async -> [Result<StoredBlob, ReceiveError>] {
        guard !blobs.isEmpty else { return [] }
        do throws(KeystoreError) {
            let outcomes = try await keystore.store(blobs.map(\.entry), replace: replace, requireRequest: requireRequest)
            return zip(blobs, outcomes).map { blob, outcome in
                outcome.map { replaced in
                    StoredBlob(label: Label.normalized(blob.entry.label), type: blob.type, clientID: blob.clientID, replaced: replaced)
                }.mapError { .keystore($0) }
            }
        } catch {
            return blobs.map { _ in .failure(.keystore(error)) }
        }
    }
}
