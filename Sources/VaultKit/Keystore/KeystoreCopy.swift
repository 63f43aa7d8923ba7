/// What `Keystore.copy(to:)` wrote and checked.
public struct KeystoreCopyReport: Sendable, Equatable {
    /// The copy's `verify()` report: every record of the copy decrypted and authenticated.
    public let verify: VerifyReport
    /// Live records compared byte for byte with the source's (entries with their history, the
    /// replay ledger, identities, token states, leases, settings, requests, audit records).
    public let records: Int
    /// Ledger records among them (blob ids ever stored).
    public let ledger: Int
}

extension Keystore {
    /// Copies this keystore into `storage`, another back end where none exists yet (`vault
    /// migrate`: a file into PostgreSQL and back), then reads the copy back and checks it.
    ///
    /// The copy is the compacted image (what `compact` would write, a new generation): the same
    /// keystore id, unlock methods, master key and sequence numbers, so whatever unlocked this
    /// keystore unlocks the copy. Checked afterwards, with this handle's keys: the copy's
    /// `verify()` (every record authenticates, the index equals a rebuilt one), its live records
    /// equal to the source's byte for byte (the same key, nonce and associated data: equal
    /// ciphertexts are equal entries, history and ledger), and the same entries listed with the
    /// same number of versions.
    ///
    /// A copy holds every secret, so it is logged as a backup is (`image()`): a `copy` audit
    /// record naming `storage.location` is committed to the source first, and the copy ends with
    /// it (its chain is a prefix of the source's); that record is the only change to the source.
    /// Where the source cannot be written, the copy is refused unless its setting
    /// `unlogged-reads` is `on`.
    /// - Throws: `KeystoreError.readNotLogged`, `.alreadyExists` (nothing is replaced), `.damaged` when the copy
    ///   differs from the source (then it is left where it was written, for inspection; remove
    ///   it before trying again), the back ends' lock, I/O and server errors.
    public func copy(to storage: any KeystoreStorage) async throws(KeystoreError) -> KeystoreCopyReport {
        // A destination that holds a keystore already is refused before the copy is logged
        // (`create` still refuses one that appears in between); one the server cannot serve too.
        do throws(KeystoreError) {
            _ = try await storage.readHeader()
            throw KeystoreError.alreadyExists(path: storage.location)
        } catch {
            switch error {
            case .alreadyExists, .serverUnavailable, .serverRefused: throw error
            default: break // nothing there (or nothing readable): `create` decides
            }
        }
        try await loggedRead { (_) throws(KeystoreError) -> (value: Void, event: AuditEvent?) in ((), .copied(to: storage.location)) }
        // A commit by another process in between only adds to the chain the copy holds.
        let (parts, source) = try await read { (s) throws(KeystoreError) -> (KeystoreImage.Parts, [CopiedRecord]) in
            let parts = try rewritten(s, header: current().header, newKeys: nil, audit: nil).parts
            return (parts, try copiedRecords(s))
        }
        try await storage.create(header: parts.header, state: parts.state, frames: parts.frames)
        // The copy has the same header, so this handle's slot and keys open it without a KDF.
        let copy = Keystore(storage: storage, keystoreID: keystoreID, keys: keys, slot: slot, slotPublicKey: slotPublicKey)
        let report = try await copy.verify()
        let copied = try await copy.read { (s) throws(KeystoreError) in try copy.copiedRecords(s) }
        guard copied == source else {
            throw .damaged(detail: "the copy in \(storage.location) does not hold the records of the source (\(copied.count) live records, the source has \(source.count))")
        }
        let (mine, theirs) = (try await list(), try await copy.list())
        guard mine.map(\.label) == theirs.map(\.label), mine.map(\.versions) == theirs.map(\.versions) else {
            throw .damaged(detail: "the copy in \(storage.location) does not list the entries of the source")
        }
        return KeystoreCopyReport(verify: report, records: source.count, ledger: source.filter { $0.type == .ledger }.count)
    }

    /// A live record as a copy must reproduce it: clear fields and sealed bytes.
    struct CopiedRecord: Equatable {
        let type: RecordType
        let sequence: UInt64
        let key: LookupKey
        let bytes: [UInt8]
    }

    /// Every live record, in sequence order, authenticated (tail records decrypted) first.
    func copiedRecords(_ s: any KeystoreStorageSession) throws(KeystoreError) -> [CopiedRecord] {
        var out: [CopiedRecord] = []
        for r in try liveRecords(s, authenticateTail: true).rows.sorted(by: { $0.sequence < $1.sequence }) {
            out.append(CopiedRecord(type: r.type, sequence: r.sequence, key: r.key,
                                    bytes: try s.frames(from: r.position, to: r.position + r.length)))
        }
        return out
    }
}
