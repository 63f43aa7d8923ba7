#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How opening changed a keystore of an older format.
public struct KeystoreUpgrade: Sendable, Equatable {
    /// The format it had (1).
    public let fromVersion: Int
    /// Whether the format-2 keystore was written in its place. When it could not be (a folder
    /// this user may not write), it is served from memory and every change is refused with
    /// `writeFailure`.
    public let written: Bool
    /// Why it could not be written.
    public let writeFailure: KeystoreError?
    /// Unlock methods of the old file that could not be carried over (only the one used to
    /// open it can be: its secret is at hand), by kind ("passphrase", "key file").
    public let droppedUnlockMethods: [String]
}

extension Keystore {
    /// Opens a format-1 keystore and migrates it (docs/KEYSTORE.md §9): every committed record
    /// decrypted and authenticated with the format-1 code, the live ones re-sealed as format 2
    /// under a new master key (so no old format-1 header, with an old passphrase, opens the
    /// new file), sequence numbers kept, the identity made `current`, removed entries dropped,
    /// the ledger kept whole. The unlock method used becomes a format-2 slot with the same salt
    /// and profile. Written by rename under the exclusive lock where the folder is writable;
    /// otherwise served from memory, read-only.
    static func migrate(storage: any KeystoreStorage, prefix: [UInt8], unlock: KeystoreUnlock) async throws(KeystoreError) -> Keystore {
        let old = try FormatOne.parseHeader(prefix, path: storage.location)
        let unwrapped = try FormatOne.unwrap(old, unlock)   // the KDF, before any lock
        let binding: SecretBytes
        do { binding = try SecretBytes.random(count: 32) } catch { throw .sodium(error) }
        let keys = try MasterKeys.random()
        let made = try UnlockSlot.make(kind: unwrapped.slot.kind, profile: unwrapped.slot.profile, salt: unwrapped.slot.salt,
                                       kek: unwrapped.kek, name: unlock.kind == .passphrase ? "passphrase" : "key-file",
                                       master: keys.master, binding: binding, keystoreID: old.keystoreID)
        let dropped = old.slots.filter { $0.kind != unwrapped.slot.kind }.map(\.kind.words)
        let ks = Keystore(storage: storage, keystoreID: old.keystoreID, keys: keys,
                          slot: UnlockSlot.Opened(secretKey: made.secret, binding: binding), slotPublicKey: made.slot.publicKey)

        /// The format-2 image of what the session holds, or nil when it holds format 2 already.
        func build(_ s: any KeystoreStorageSession) throws(KeystoreError) -> KeystoreImage.Parts? {
            let image = try s.storedImage()
            guard try KeystoreHeader.version(of: image, path: storage.location) == 1 else { return nil }
            let now = try FormatOne.parseHeader(image, path: storage.location)
            guard now.keystoreID == old.keystoreID else { throw .damaged(detail: "the file now holds a different keystore") }
            let records = try FormatOne.records(image, header: now, master: unwrapped.master)
            return try ks.formatTwoImage(records, slot: made.slot)
        }

        do {
            let done = try await storage.withAccess(exclusive: true) { (s) throws(KeystoreError) -> Bool in
                guard let parts = try build(s) else { return false }
                try s.replaceAll(header: parts.header, state: parts.state, frames: parts.frames)
                return true
            }
            if !done { return try await openMigrated(storage: storage, unwrapped: unwrapped, unlock: unlock) }
            ks.upgrade = KeystoreUpgrade(fromVersion: 1, written: true, writeFailure: nil, droppedUnlockMethods: dropped)
            try await ks.read { _ throws(KeystoreError) in }
            return ks
        } catch {
            // A folder this user may not write: serve the migrated keystore from memory, and
            // refuse every change with the reason.
            guard case .io(_, _, let code) = error, [EACCES, EROFS, EPERM].contains(code) else { throw error }
            let parts = try await storage.withAccess(exclusive: false) { (s) throws(KeystoreError) -> KeystoreImage.Parts? in try build(s) }
            guard let parts else { return try await openMigrated(storage: storage, unwrapped: unwrapped, unlock: unlock) }
            let memory = MemoryKeystoreStorage(image: ImageLayout.image(header: parts.header, state: parts.state, frames: parts.frames),
                                               location: storage.location, refusingChangesWith: error)
            let served = Keystore(storage: memory, keystoreID: old.keystoreID, keys: keys, slot: ks.slot, slotPublicKey: ks.slotPublicKey)
            served.upgrade = KeystoreUpgrade(fromVersion: 1, written: false, writeFailure: error, droppedUnlockMethods: dropped)
            try await served.read { _ throws(KeystoreError) in }
            return served
        }
    }

    /// Another process migrated the file meanwhile: its format-2 slot kept our slot's salt and
    /// profile, so the KEK at hand unlocks it.
    private static func openMigrated(storage: any KeystoreStorage, unwrapped: FormatOne.Unwrapped,
                                     unlock: KeystoreUnlock) async throws(KeystoreError) -> Keystore {
        let (header, bytes) = try KeystoreHeader.parse(try await storage.readHeader(), path: storage.location)
        guard let found = try header.unlock(kek: unwrapped.kek, kind: unwrapped.slot.kind, salt: unwrapped.slot.salt,
                                            profile: unwrapped.slot.profile) else {
            return try await open(storage: storage, unlock: unlock)
        }
        let keys = try MasterKeys(master: found.master)
        try KeystoreHeader.checkMAC(bytes, headerKey: keys.header)
        let ks = Keystore(storage: storage, keystoreID: header.keystoreID, keys: keys, slot: found.opened,
                          slotPublicKey: header.slots[found.index].publicKey)
        try await ks.read { _ throws(KeystoreError) in }
        return ks
    }

    /// The format-2 image of format-1 records: the live ones, in their order, re-sealed.
    func formatTwoImage(_ records: [FormatOne.Record], slot: UnlockSlot) throws(KeystoreError) -> KeystoreImage.Parts {
        // Which records count, by format 1's rules (a removal drops the label's versions, token
        // state and lease; the latest token state, lease and setting win), computed on format-2
        // lookup keys, so labels equal under the new comparison form become one entry.
        var pending: [(record: FormatOne.Record, key: LookupKey)] = []
        var identities: [Int: (fingerprint: Fingerprint, secret: SecretBytes, created: String)] = [:]
        var set = LiveSet()
        for r in records {
            let key: LookupKey
            if r.type == .identity {
                let reader = try RecordReader(r.plaintext)
                let secret = try reader.requiredSecret(.secretKey)
                let pair: KeyPair
                do { pair = try KeyPair(secretKey: secret) } catch { throw .damaged(detail: "record \(r.sequence): identity secret key") }
                identities[pending.count] = (pair.publicKey.fingerprint, secret, try reader.requiredText(.created))
                key = try lookupKey(.identity, "")
            } else if r.type == .removal {
                key = try labelKey(try RecordReader(r.plaintext).requiredText(.label))
            } else {
                key = try lookupKey(of: r.type, plaintext: r.plaintext, keys: keys)
            }
            try set.add(FrameRef(position: pending.count, length: 0, type: r.type, sequence: r.sequence, key: key))
            pending.append((r, key))
        }
        // Format 1 used its last identity record: that identity is current, any other active
        // (the latest record of each fingerprint is kept).
        guard let lastIdentity = identities.keys.max() else { throw .damaged(detail: "no identity record") }
        var latest: [Fingerprint: Int] = [:]
        for i in identities.keys.sorted() { latest[identities[i]!.fingerprint] = i }
        let live = Set(set.rows(identities: []).map(\.position)).union(latest.values)
        let header = KeystoreHeader(keystoreID: keystoreID, generation: Random.bytes(KeystoreHeader.generationByteCount), slots: [slot])
        var frames: [[UInt8]] = []
        var refs: [FrameRef] = []
        var position = header.logStart
        for (i, p) in pending.enumerated() where live.contains(i) {
            var plain = p.record.plaintext
            if let id = identities[i] {
                let state: IdentityState = id.fingerprint == identities[lastIdentity]!.fingerprint ? .current : .active
                plain = try IdentityRecord.encode(id.secret, created: id.created, state: state, changed: id.created)
            }
            let frame = try SealedFrame.seal(plain, type: p.record.type, sequence: p.record.sequence, key: p.key, keystoreID: keystoreID,
                                             recordKey: keys.record)
            refs.append(FrameRef(position: position, length: frame.count, type: p.record.type, sequence: p.record.sequence, key: p.key))
            frames.append(frame)
            position += frame.count
        }
        return try KeystoreImage.finish(header: header, keys: keys, frames: frames, refs: refs,
                                        lastSequence: records.last?.sequence ?? 0, audit: .migrated(fromVersion: 1))
    }
}
