/// An unlocked keystore: the receiving system's encrypted, crash-safe credential store
/// (docs/KEYSTORE.md). Every call re-reads only what other processes appended since the last
/// call, under the storage's lock, so a long-lived handle stays current at the cost of the
/// new records alone.
///
/// Not `Sendable`: it holds the master key's subkeys in secret memory; use it from one task.
public final class Keystore {
    /// Where the keystore lives.
    public let storage: any KeystoreStorage
    /// The keystore's random 16-byte id (in clear in the header; bound into every record).
    public let keystoreID: [UInt8]
    /// Kept for `changeProtection` (rewrapping needs it); it gives no more than the subkeys do.
    let masterKey: SecretBytes
    let recordKey: SecretBytes
    let lookupSecret: SecretBytes
    var index = RecordIndex()
    var cursor: StorageCursor?

    init(storage: any KeystoreStorage, keystoreID: [UInt8], masterKey: SecretBytes) throws(KeystoreError) {
        self.storage = storage
        self.keystoreID = keystoreID
        self.masterKey = masterKey
        do {
            // Separate subkeys for sealing and for blinding lookup keys, from the one master key.
            recordKey = try GenericHash.deriveSubkey(context: Array("vault-ks record key v1".utf8), key: masterKey, length: 32)
            lookupSecret = try GenericHash.deriveSubkey(context: Array("vault-ks lookup key v1".utf8), key: masterKey, length: 32)
        } catch { throw .sodium(error) }
    }

    // MARK: Creating and opening

    /// Creates a new keystore file at `path` holding a new X25519 identity, protected by a
    /// passphrase (the KDF runs here) or a key file. The file is created with mode 0600 and
    /// never replaces anything that exists.
    /// - Throws: `KeystoreError.alreadyExists`, `.notFound` (no such directory), key file errors, `.io`.
    public static func create(at path: String, protection: KeystoreProtection) async throws(KeystoreError) -> Keystore {
        try await create(storage: FileKeystoreStorage(path: path), protection: protection)
    }

    /// Creates a new keystore in `storage`.
    /// - Throws: as `create(at:protection:)`.
    public static func create(storage: any KeystoreStorage, protection: KeystoreProtection) async throws(KeystoreError) -> Keystore {
        let id = Random.bytes(KeystoreHeader.idByteCount)
        let master: SecretBytes
        let pair: KeyPair
        do {
            master = try SecretBytes.random(count: 32)
            pair = try KeyPair.generate()
        } catch { throw .sodium(error) }
        let slot = try KeystoreHeader.makeSlot(protection, masterKey: master, keystoreID: id)
        let header = KeystoreHeader(keystoreID: id, slots: [slot])
        let ks = try Keystore(storage: storage, keystoreID: id, masterKey: master)
        var w = RecordWriter()
        w.add(.secretKey, secret: pair.secretKey)
        w.add(.created, Timestamp.now())
        w.add(.state, "active")
        let identity = try SealedRecord.seal(try w.encoded(), type: .identity, flags: SealedRecord.commitFlag, sequence: 1,
                                             lookupKey: RecordIndex.noKey, keystoreID: id, key: ks.recordKey)
        try await storage.create(header: header.encoded(), records: [identity])
        return ks
    }

    /// Opens and unlocks the keystore file at `path`. Symlinks are resolved; the header is
    /// checked for damage before the KDF runs, and the KDF runs before any lock is taken.
    /// - Throws: `KeystoreError.notFound`, `.permissionsTooOpen`, `.emptyFile`, `.notAKeystore`,
    ///   `.truncated`, `.newerVersion`, `.damaged`, `.unlockMethodNotAvailable`, `.emptyPassphrase`, `.wrongPassphrase`,
    ///   `.wrongKeyFile`, `.lockTimeout`, `.io`.
    public static func open(at path: String, unlock: KeystoreUnlock, lockTimeout: Double = 10) async throws(KeystoreError) -> Keystore {
        try await open(storage: FileKeystoreStorage(path: path, lockTimeout: lockTimeout), unlock: unlock)
    }

    /// Opens and unlocks the keystore held by `storage`.
    /// - Throws: as `open(at:unlock:lockTimeout:)`.
    public static func open(storage: any KeystoreStorage, unlock: KeystoreUnlock) async throws(KeystoreError) -> Keystore {
        let bytes = try await storage.readHeader()
        let header = try KeystoreHeader.parse(bytes[...], path: storage.location)
        let master = try header.unwrap(unlock)
        let ks = try Keystore(storage: storage, keystoreID: header.keystoreID, masterKey: master)
        // Read the log once and prove the record key with the identity record.
        _ = try await ks.identity()
        return ks
    }

    // MARK: Identity

    /// The keystore's X25519 identity, which opens blobs sealed to it.
    /// - Throws: `KeystoreError.damaged`, `.truncated`, lock and I/O errors.
    public func identity() async throws(KeystoreError) -> KeyPair {
        let r = try await identityRecord()
        do { return try KeyPair(secretKey: try r.requiredSecret(.secretKey)) } catch let e as KeystoreError { throw e } catch {
            throw .damaged(detail: "identity secret key")
        }
    }

    /// When the identity was created (RFC 3339 UTC), for `vault recipient`'s `# created:` line.
    /// - Throws: `KeystoreError.damaged`, `.truncated`, lock and I/O errors.
    public func identityCreated() async throws(KeystoreError) -> String {
        try await identityRecord().requiredText(.created)
    }

    private func identityRecord() async throws(KeystoreError) -> RecordReader {
        let record = try await read { () throws(KeystoreError) -> SealedRecord in
            guard let i = index.identities.last else { throw .damaged(detail: "no identity record") }
            return index.records[i]
        }
        return try RecordReader(try record.open(keystoreID: keystoreID, key: recordKey))
    }

    // MARK: Access helpers

    /// Bytes at the end of the stored log that were not part of a committed change when it was
    /// last read: what a crash mid-append leaves, or a file cut inside its log (docs/KEYSTORE.md
    /// §3). They are ignored, and the next change drops them. 0 normally.
    public var interruptedWriteBytes: Int { cursor?.interruptedBytes ?? 0 }

    /// Runs `body` after catching up with the stored log, under shared access.
    func read<R>(_ body: () throws(KeystoreError) -> R) async throws(KeystoreError) -> R {
        try await storage.withAccess(exclusive: false) { (s) throws(KeystoreError) -> R in
            try catchUp(s)
            return try body()
        }
    }

    /// Runs `body` after catching up with the stored log, under exclusive access.
    func write<R>(_ body: (any KeystoreStorageSession) throws(KeystoreError) -> R) async throws(KeystoreError) -> R {
        try await storage.withAccess(exclusive: true) { (s) throws(KeystoreError) -> R in
            try catchUp(s)
            return try body(s)
        }
    }

    /// Reads what was committed since our cursor; a new generation (compaction, passphrase
    /// change) is read from the start.
    func catchUp(_ s: any KeystoreStorageSession) throws(KeystoreError) {
        let (new, next, restarted) = try s.records(since: cursor)
        if restarted {
            let h = try KeystoreHeader.parse(try s.header()[...], path: storage.location)
            // Another keystore's file put in this one's place is not read with this one's keys.
            guard h.keystoreID == keystoreID else { throw .damaged(detail: "the file now holds a different keystore") }
            index = RecordIndex()
        }
        for r in new { try index.add(r) }
        cursor = next
        guard !index.identities.isEmpty else { throw .truncated(path: storage.location) }
    }

    /// Seals `items` as one transaction (the last carries the commit flag) and appends it.
    func commit(_ items: [(RecordType, [UInt8], SecretBytes)], in s: any KeystoreStorageSession) throws(KeystoreError) {
        var sealed: [SealedRecord] = []
        var seq = index.lastSequence
        for (n, item) in items.enumerated() {
            seq += 1
            let flags: UInt8 = n == items.count - 1 ? SealedRecord.commitFlag : 0
            sealed.append(try SealedRecord.seal(item.2, type: item.0, flags: flags, sequence: seq, lookupKey: item.1,
                                                keystoreID: keystoreID, key: recordKey))
        }
        try append(sealed, in: s)
    }

    /// Appends sealed records and adds them to the index once they are durable.
    func append(_ sealed: [SealedRecord], in s: any KeystoreStorageSession) throws(KeystoreError) {
        cursor = try s.append(sealed)
        for r in sealed { try index.add(r) }
    }

    func labelKey(_ label: String) throws(KeystoreError) -> [UInt8] {
        try lookup("label", Label.normalized(label))
    }

    func blobKey(_ blobID: String) throws(KeystoreError) -> [UInt8] { try lookup("blob", blobID) }

    func settingKey(_ name: String) throws(KeystoreError) -> [UInt8] { try lookup("setting", name) }

    private func lookup(_ kind: String, _ value: String) throws(KeystoreError) -> [UInt8] {
        do {
            return try GenericHash.hash(Array(kind.utf8) + [0] + Array(value.utf8), key: lookupSecret,
                                        length: SealedRecord.lookupKeyByteCount)
        } catch { throw .sodium(error) }
    }

    func open(_ i: Int) throws(KeystoreError) -> SecretBytes {
        try index.records[i].open(keystoreID: keystoreID, key: recordKey)
    }
}
