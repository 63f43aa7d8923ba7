/// An unlocked keystore: the receiving system's encrypted, crash-safe credential store
/// (docs/KEYSTORE.md). Every call first follows what other processes committed since the last
/// call (new frames only, or the new file after a rewrite), under the storage's lock, so a
/// long-lived handle stays current.
///
/// Not `Sendable`: it holds the master key's subkeys in secret memory; use it from one task.
public final class Keystore {
    /// Where the keystore lives.
    public let storage: any KeystoreStorage
    /// The keystore's random 16-byte id (in clear in the header; bound into every record).
    public let keystoreID: [UInt8]
    /// The master key and its subkeys; replaced when this handle (or another process) re-keys.
    var keys: MasterKeys
    /// The secrets of the slot that unlocked this handle: its secret key opens the master key a
    /// re-key by another process seals to it, and its binding key lets this handle add methods.
    var slot: UnlockSlot.Opened
    /// The public key of that slot: how it is found again in a rewritten header.
    var slotPublicKey: [UInt8]
    /// What this handle knows of the log (nil until first read).
    var view: LogView?
    /// Frames sealed in the commit being built, by position (a snapshot built in the same
    /// commit reads them from here).
    var pendingFrames: [Int: [UInt8]] = [:]
    /// Set when opening upgraded a format-1 keystore (or serves one read-only from memory).
    public internal(set) var upgrade: KeystoreUpgrade?
    /// Reads of secrets this handle made without an audit record: the keystore could not be
    /// written and its setting `unlogged-reads` is `on` (docs/KEYSTORE.md §2.8).
    public internal(set) var unloggedReads = 0

    /// A new snapshot is written once the tail holds more records or bytes than this.
    static let snapshotTailRecords = 4096
    static let snapshotTailBytes = 4 << 20
    /// Compaction runs after a change once dead records are over 1 MiB and over half the log.
    static let compactionThreshold = 1 << 20

    init(storage: any KeystoreStorage, keystoreID: [UInt8], keys: MasterKeys, slot: UnlockSlot.Opened, slotPublicKey: [UInt8]) {
        self.storage = storage
        self.keystoreID = keystoreID
        self.keys = keys
        self.slot = slot
        self.slotPublicKey = slotPublicKey
    }

    // MARK: Creating and opening

    /// Creates a new keystore file at `path` holding a new X25519 identity, unlocked by a
    /// passphrase (the KDF runs here) or a key file. The file is created with mode 0600 and
    /// never replaces anything that exists.
    /// - Parameter name: the unlock method's name (default `passphrase` or `key-file`).
    /// - Parameter identity: the identity to start with (`vault init --from-identity`, so a new
    ///   machine keeps the published recipient); a new one when nil.
    /// - Throws: `KeystoreError.alreadyExists`, `.notFound` (no such directory), `.ownedByAnotherUser`,
    ///   `.folderWritableByOthers`, `.invalidUnlockMethodName`, key file errors, `.io`.
    public static func create(at path: String, protection: KeystoreProtection, name: String? = nil,
                              identity: KeyPair? = nil) async throws(KeystoreError) -> Keystore {
        try await create(storage: FileKeystoreStorage(path: path), protection: protection, name: name, identity: identity)
    }

    /// Creates a new keystore in `storage`.
    /// - Throws: as `create(at:protection:name:identity:)`.
    public static func create(storage: any KeystoreStorage, protection: KeystoreProtection,
                              name: String? = nil, identity: KeyPair? = nil) async throws(KeystoreError) -> Keystore {
        let id = Random.bytes(KeystoreHeader.idByteCount)
        let keys = try MasterKeys.random()
        let binding: SecretBytes
        let pair: KeyPair
        do {
            binding = try SecretBytes.random(count: 32)
            if let identity { pair = identity } else { pair = try KeyPair.generate() }
        } catch { throw .sodium(error) }
        let made = try UnlockSlot.make(protection, name: name ?? protection.defaultName, master: keys.master, binding: binding,
                                       keystoreID: id)
        let header = KeystoreHeader(keystoreID: id, generation: Random.bytes(KeystoreHeader.generationByteCount), slots: [made.slot])
        let now = Timestamp.now()
        let identity = try IdentityRecord.encode(pair.secretKey, created: now, state: .current, changed: now)
        let key = try keys.lookupKey(.identity, "")
        let frame = try SealedFrame.seal(identity, type: .identity, sequence: 1, key: LookupKey(key), keystoreID: id, recordKey: keys.record)
        let ref = FrameRef(position: header.logStart, length: frame.count, type: .identity, sequence: 1, key: LookupKey(key))
        let image = try KeystoreImage.finish(header: header, keys: keys, frames: [frame], refs: [ref], lastSequence: 1,
                                             audit: .created(identity: pair.publicKey.fingerprint))
        try await storage.create(header: image.header, state: image.state, frames: image.frames)
        let ks = Keystore(storage: storage, keystoreID: id, keys: keys,
                          slot: UnlockSlot.Opened(secretKey: made.secret, binding: binding), slotPublicKey: made.slot.publicKey)
        try await ks.read { _ throws(KeystoreError) in }
        return ks
    }

    /// Opens and unlocks the keystore file at `path`. Symlinks are resolved (each must belong to
    /// the running user or root); the header is checked for damage before the KDF runs, and the
    /// KDF runs before any lock is taken. A format-1 keystore is upgraded (`upgrade` says so).
    /// - Throws: `KeystoreError.notFound`, `.permissionsTooOpen`, `.ownedByAnotherUser`,
    ///   `.folderWritableByOthers`, `.emptyFile`, `.notAKeystore`, `.truncated`, `.newerVersion`,
    ///   `.damaged`, `.unlockMethodNotAvailable`, `.emptyPassphrase`, `.wrongPassphrase`,
    ///   `.wrongKeyFile`, `.lockTimeout`, `.io`.
    public static func open(at path: String, unlock: KeystoreUnlock, lockTimeout: Double = 10) async throws(KeystoreError) -> Keystore {
        try await open(storage: FileKeystoreStorage(path: path, lockTimeout: lockTimeout), unlock: unlock)
    }

    /// Opens and unlocks the keystore held by `storage`.
    /// - Throws: as `open(at:unlock:lockTimeout:)`.
    public static func open(storage: any KeystoreStorage, unlock: KeystoreUnlock) async throws(KeystoreError) -> Keystore {
        let prefix = try await storage.readHeader()
        if try KeystoreHeader.version(of: prefix, path: storage.location) == 1 {
            return try await migrate(storage: storage, prefix: prefix, unlock: unlock)
        }
        let (header, bytes) = try KeystoreHeader.parse(prefix, path: storage.location)
        let unlocked = try header.unlock(unlock)
        let keys = try MasterKeys(master: unlocked.master)
        // Nothing in the header is acted on before its MAC verifies.
        try KeystoreHeader.checkMAC(bytes, headerKey: keys.header)
        let ks = Keystore(storage: storage, keystoreID: header.keystoreID, keys: keys, slot: unlocked.opened,
                          slotPublicKey: header.slots[unlocked.index].publicKey)
        try await ks.read { _ throws(KeystoreError) in }
        return ks
    }

    // MARK: Access

    /// Bytes stored after the committed log end when it was last read: what a crash
    /// mid-commit leaves (docs/KEYSTORE.md §4). They are ignored, and the next change drops them.
    public var interruptedWriteBytes: Int { view?.interruptedBytes ?? 0 }

    /// Runs `body` after catching up with the stored log, under shared access.
    func read<R>(_ body: (any KeystoreStorageSession) throws(KeystoreError) -> R) async throws(KeystoreError) -> R {
        try await storage.withAccess(exclusive: false) { (s) throws(KeystoreError) -> R in
            try refresh(s)
            return try body(s)
        }
    }

    /// Runs `body` after catching up with the stored log, under exclusive access.
    func write<R>(_ body: (any KeystoreStorageSession) throws(KeystoreError) -> R) async throws(KeystoreError) -> R {
        try await storage.withAccess(exclusive: true) { (s) throws(KeystoreError) -> R in
            // Frames of a commit that failed half-way are never read as stored.
            defer { pendingFrames = [:] }
            try refresh(s)
            return try body(s)
        }
    }

    /// The current view, after `refresh`.
    func current() -> LogView { view! }

    /// Catches up: new frames of the same file, or the whole new file after a rewrite.
    func refresh(_ s: any KeystoreStorageSession) throws(KeystoreError) {
        let bytes = try s.header()
        if let v = view, bytes == v.headerBytes {
            try v.refresh(s, keys: keys)
        } else {
            try adopt(bytes, s)
        }
    }

    /// Reads a header that differs from the one we know (a rewrite, or the first read).
    private func adopt(_ bytes: [UInt8], _ s: any KeystoreStorageSession) throws(KeystoreError) {
        if try KeystoreHeader.version(of: bytes, path: storage.location) != Int(KeystoreHeader.version) {
            throw .damaged(detail: "the file now holds a keystore of another format")
        }
        let (h, exact) = try KeystoreHeader.parse(bytes, path: storage.location)
        // Another keystore's file put in this one's place is not read with this one's keys.
        guard h.keystoreID == keystoreID else { throw .damaged(detail: "the file now holds a different keystore") }
        var k = keys
        do { try KeystoreHeader.checkMAC(exact, headerKey: k.header) } catch {
            // Re-keyed by another process: our slot, if it is still there, has the new master key.
            guard let mine = h.slots.first(where: { $0.publicKey == slotPublicKey }) else {
                throw .unlockMethodChanged(path: storage.location)
            }
            k = try MasterKeys(master: try mine.openMaster(slot, keystoreID: keystoreID))
            try KeystoreHeader.checkMAC(exact, headerKey: k.header)
        }
        let v = try LogView.load(s, header: h, headerBytes: exact, keys: k)
        keys = k
        view = v
    }

    // MARK: Records

    /// A record to commit.
    struct NewRecord {
        let type: RecordType
        let key: LookupKey
        let plaintext: SecretBytes
    }

    func lookupKey(_ kind: LookupKind, _ value: String) throws(KeystoreError) -> LookupKey {
        LookupKey(try keys.lookupKey(kind, value))
    }

    func labelKey(_ label: String) throws(KeystoreError) -> LookupKey { try lookupKey(.label, Label.comparisonKey(label)) }

    /// Reads and authenticates the record `ref` names: its frame must show `ref`'s clear fields.
    func open(_ ref: FrameRef, _ s: any KeystoreStorageSession) throws(KeystoreError) -> SecretBytes {
        let bytes: [UInt8]
        if let pending = pendingFrames[ref.position] { bytes = pending } else {
            bytes = try s.frames(from: ref.position, to: ref.position + ref.length)
        }
        return try SealedFrame.open(bytes, ref: ref, keystoreID: keystoreID, recordKey: keys.record)
    }

    /// A commit being built: records are sealed as they are added, so their plaintexts (secret
    /// memory, one mapping each) are freed at once, however many a batch holds.
    struct CommitBuilder {
        var state: KeystoreState
        var frames: [[UInt8]] = []
        var refs: [FrameRef] = []
        /// Bytes of records the new ones supersede.
        var dead = 0
        let start: Int

        init(_ v: LogView) {
            state = v.state
            start = v.state.logEnd
        }

        var isEmpty: Bool { frames.isEmpty }
    }

    func beginCommit() -> CommitBuilder {
        pendingFrames = [:]
        return CommitBuilder(current())
    }

    /// Seals a record into `b`, after the records added before.
    func add(_ r: NewRecord, to b: inout CommitBuilder) throws(KeystoreError) {
        let seq = b.state.lastSequence + 1
        guard seq < Limits.maxSequence else { throw .damaged(detail: "sequence numbers exhausted") }
        let frame = try SealedFrame.seal(r.plaintext, type: r.type, sequence: seq, key: r.key, keystoreID: keystoreID,
                                         recordKey: keys.record)
        frame.withUnsafeBytes { b.state.tailDigest = LogView.chain(b.state.tailDigest, UnsafeRawBufferPointer(rebasing: $0[0..<FrameHeader.byteCount])) }
        b.refs.append(FrameRef(position: b.state.logEnd, length: frame.count, type: r.type, sequence: seq, key: r.key))
        pendingFrames[b.state.logEnd] = frame
        b.frames.append(frame)
        b.state.logEnd += frame.count
        b.state.lastSequence = seq
        b.state.recordCount += 1
    }

    /// Seals `records` after the log end and commits them with the audit record of `audit`
    /// (`finish`).
    @discardableResult
    func commit(_ records: [NewRecord], dead: Int, audit: AuditEvent, in s: any KeystoreStorageSession) throws(KeystoreError) -> [FrameRef] {
        var b = beginCommit()
        b.dead = dead
        for r in records { try add(r, to: &b) }
        return try finish(b, audit: AuditEvents(audit), in: s)
    }

    /// Seals the audit record of `event` into `b`: numbered after the chain `b` has reached and
    /// carrying its newest hash; the state `b` will commit holds the new count and hash.
    private func add(audit event: AuditEvent, to b: inout CommitBuilder) throws(KeystoreError) {
        let next = try AuditChain.next(event, count: b.state.auditCount, head: b.state.auditHead, keystoreID: keystoreID)
        try add(NewRecord(type: .audit, key: try lookupKey(.audit, ""), plaintext: next.plaintext), to: &b)
        b.state.auditCount += 1
        b.state.auditHead = next.hash
    }

    /// Commits `b` with the audit records of `audit` after its records, with one state write
    /// (one fsync of the frames, one of the state): a change and its record are durable together
    /// or not at all. Writes a new index snapshot in the same commit when the tail has grown past
    /// its bounds, and compacts when dead records have grown past theirs.
    /// - Returns: the records' references (the audit records' included).
    @discardableResult
    func finish(_ built: CommitBuilder, audit: AuditEvents, in s: any KeystoreStorageSession) throws(KeystoreError) -> [FrameRef] {
        defer { pendingFrames = [:] }
        var b = built
        for event in audit.all { try add(audit: event, to: &b) }
        let v = current()
        var st = b.state
        var frames = b.frames
        st.counter += 1
        st.deadBytes += b.dead
        let tailRecords = v.tail.count + b.refs.count
        let tailBytes = v.tailBytes + (st.logEnd - b.start)
        if tailRecords > Self.snapshotTailRecords || tailBytes > Self.snapshotTailBytes {
            // Only authenticated records enter a snapshot: the tail's are decrypted once here
            // (the new ones were sealed just now).
            let live = try liveRecords(s, extra: b.refs, authenticateTail: true)
            let seq = st.lastSequence + 1
            guard seq < Limits.maxSequence else { throw .damaged(detail: "sequence numbers exhausted") }
            let position = st.logEnd
            let index = IndexSnapshot.build(rows: live.rows, position: position, sequence: seq, framesBefore: st.recordCount,
                                            lastSequenceCovered: st.lastSequence)
            frames.append(index.frame)
            st.deadBytes = position - v.logStart - live.rows.reduce(0) { $0 + $1.length }
            st.indexPosition = position
            st.indexDigest = index.digest
            st.tailDigest = KeystoreState.zeroDigest
            st.recordCount += 1
            st.lastSequence = seq
            st.logEnd = position + index.frame.count
        }
        let encoded = try st.encoded(key: keys.state, keystoreID: keystoreID, generation: v.header.generation)
        try s.commit(frames: frames, at: b.start, state: encoded, slot: KeystoreState.slot(for: st.counter))
        try v.committed(s, state: st, refs: b.refs)
        compactIfWorthwhile(s)
        return b.refs
    }

    /// Every record that counts, as index rows (sorted by key, then sequence).
    /// - Parameter extra: records of the commit being built, after the stored ones.
    /// - Parameter authenticateTail: decrypt every tail record first (building a snapshot).
    func liveRecords(_ s: any KeystoreStorageSession, extra: [FrameRef] = [],
                     authenticateTail: Bool) throws(KeystoreError) -> (rows: [FrameRef], set: LiveSet) {
        let v = current()
        if authenticateTail { for r in v.tail { _ = try open(r, s) } }
        var set = LiveSet()
        for r in try v.allRefs(s) + extra { try set.add(r) }
        let identities = try identityRecords(set.identities, s)
        for r in set.identities where !identities.contains(where: { $0.ref == r }) { set.deadBytes += r.length }
        return (set.rows(identities: identities.map(\.ref)), set)
    }
}

/// A new keystore image: the frames given, then an index snapshot over them, a state in slot
/// A, and the header (what creation, rewrites and migration write).
enum KeystoreImage {
    struct Parts {
        let header: [UInt8]
        let state: [UInt8]
        let frames: [[UInt8]]
    }

    /// The image of `frames` with the audit record of `audit` after them (the chain so far is
    /// `auditCount` records ending at `auditHead`), sealed under `keys`: creation, migration and
    /// every rewrite name what they record.
    /// - Parameter refs: the frames' references, positions from `header.logStart` on.
    static func finish(header: KeystoreHeader, keys: MasterKeys, frames: [[UInt8]], refs: [FrameRef], lastSequence: UInt64,
                       auditCount: UInt64 = 0, auditHead: [UInt8] = KeystoreState.zeroDigest,
                       audit: AuditEvent) throws(KeystoreError) -> Parts {
        let next = try AuditChain.next(audit, count: auditCount, head: auditHead, keystoreID: header.keystoreID)
        let seq = lastSequence + 1
        guard seq < Limits.maxSequence else { throw .damaged(detail: "sequence numbers exhausted") }
        let key = LookupKey(try keys.lookupKey(.audit, ""))
        let frame = try SealedFrame.seal(next.plaintext, type: .audit, sequence: seq, key: key, keystoreID: header.keystoreID,
                                         recordKey: keys.record)
        let position = refs.last.map { $0.position + $0.length } ?? header.logStart
        let ref = FrameRef(position: position, length: frame.count, type: .audit, sequence: seq, key: key)
        return try copy(header: header, keys: keys, frames: frames + [frame], refs: refs + [ref], lastSequence: seq,
                        auditCount: auditCount + 1, auditHead: next.hash)
    }

    /// The image of `frames` as they are, with no audit record of its own: only for an exact
    /// copy of what a keystore holds (`Keystore.image`, whose backup record is committed to
    /// the keystore first). Anything that changes a keystore uses `finish(…audit:)`.
    static func copy(header: KeystoreHeader, keys: MasterKeys, frames: [[UInt8]], refs: [FrameRef], lastSequence: UInt64,
                     auditCount: UInt64, auditHead: [UInt8]) throws(KeystoreError) -> Parts {
        let position = refs.last.map { $0.position + $0.length } ?? header.logStart
        let rows = refs.sorted { $0.key != $1.key ? $0.key < $1.key : $0.sequence < $1.sequence }
        let seq = lastSequence + 1
        let index = IndexSnapshot.build(rows: rows, position: position, sequence: seq, framesBefore: frames.count,
                                        lastSequenceCovered: lastSequence)
        let st = KeystoreState(counter: 1, logEnd: position + index.frame.count, lastSequence: seq, recordCount: frames.count + 1,
                               indexPosition: position, indexDigest: index.digest, auditCount: auditCount, auditHead: auditHead,
                               deadBytes: 0, tailDigest: KeystoreState.zeroDigest)
        return Parts(header: try header.encoded(headerKey: keys.header),
                     state: try st.encoded(key: keys.state, keystoreID: header.keystoreID, generation: header.generation),
                     frames: frames + [index.frame])
    }
}
