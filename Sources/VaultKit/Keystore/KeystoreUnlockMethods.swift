/// The kind of an unlock method.
public enum UnlockMethodKind: String, Sendable {
    /// A passphrase, stretched with Argon2id.
    case passphrase
    /// A 32-byte key file.
    case keyFile = "key-file"
}

/// An unlock method as the header lists it (its name, kind, KDF profile and creation time are
/// in clear: docs/KEYSTORE.md §7).
public struct UnlockMethodInfo: Sendable, Equatable {
    /// The method's name: `passphrase`, `key-file`, or the integrator's own.
    public let name: String
    /// Passphrase or key file.
    public let kind: UnlockMethodKind
    /// The Argon2id profile of a passphrase.
    public let profile: KDFProfile?
    /// When the method was added (RFC 3339 UTC).
    public let created: String

    init(_ slot: UnlockSlot) {
        name = slot.name
        kind = slot.kind == .passphrase ? .passphrase : .keyFile
        profile = slot.profile
        created = Timestamp.string(fromEpochSeconds: Int(slot.created))
    }
}

extension Keystore {
    /// The unlock methods, in header order.
    /// - Throws: lock and I/O errors.
    public func unlockMethods() async throws(KeystoreError) -> [UnlockMethodInfo] {
        try await read { (_) throws(KeystoreError) -> [UnlockMethodInfo] in current().header.slots.map(UnlockMethodInfo.init) }
    }

    /// The unlock method this handle was opened with.
    /// - Throws: `KeystoreError.unlockMethodChanged` when another process has removed it; lock and I/O errors.
    public func unlockedMethod() async throws(KeystoreError) -> UnlockMethodInfo {
        try await read { (_) throws(KeystoreError) -> UnlockMethodInfo in UnlockMethodInfo(try ownSlot().slot) }
    }

    private func ownSlot() throws(KeystoreError) -> (index: Int, slot: UnlockSlot) {
        let slots = current().header.slots
        guard let i = slots.firstIndex(where: { $0.publicKey == slotPublicKey }) else { throw .unlockMethodChanged(path: storage.location) }
        return (i, slots[i])
    }

    /// Adds an unlock method: only the secret that unlocked this handle is needed (the master
    /// key is sealed to the new method's key). The KDF runs first, without the lock; the file
    /// is rewritten (records copied, not re-keyed).
    /// - Throws: `KeystoreError.invalidUnlockMethodName`, `.unlockMethodExists`, `.tooManyUnlockMethods`,
    ///   `.emptyPassphrase`, key file errors, lock and I/O errors.
    public func addUnlockMethod(name: String, _ protection: KeystoreProtection) async throws(KeystoreError) {
        var made = try UnlockSlot.make(protection, name: name, master: keys.master, binding: slot.binding, keystoreID: keystoreID).slot
        try await write { (s) throws(KeystoreError) in
            var h = current().header
            guard !h.slots.contains(where: { $0.name == name }) else { throw .unlockMethodExists(name: name) }
            guard h.slots.count < KeystoreHeader.maxSlots else { throw .tooManyUnlockMethods(maximum: KeystoreHeader.maxSlots) }
            // Another process may have re-keyed since the slot was made.
            try made.seal(keys.master, binding: slot.binding, keystoreID: keystoreID)
            h.slots.append(made)
            try rewrite(s, header: h, audit: .unlockAdded(name: name, kind: protection.kind == .passphrase ? .passphrase : .keyFile))
        }
    }

    /// Removes an unlock method and re-keys: a new master key, sealed to every remaining
    /// method without needing their secrets, and every record re-sealed, so the removed
    /// method opens nothing written from now on (an old copy of the file still opens with it).
    /// - Throws: `KeystoreError.noSuchUnlockMethod`, `.lastUnlockMethod`, lock and I/O errors.
    public func removeUnlockMethod(name: String) async throws(KeystoreError) {
        let newKeys = try MasterKeys.random()
        try await write { (s) throws(KeystoreError) in
            var h = current().header
            guard let i = h.slots.firstIndex(where: { $0.name == name }) else { throw .noSuchUnlockMethod(name: name) }
            guard h.slots.count > 1 else { throw .lastUnlockMethod(name: name) }
            h.slots.remove(at: i)
            for j in h.slots.indices { try h.slots[j].seal(newKeys.master, binding: slot.binding, keystoreID: keystoreID) }
            try rewrite(s, header: h, newKeys: newKeys, audit: .unlockRemoved(name: name))
        }
    }

    /// Replaces the unlock method this handle was opened with (`vault passwd`) and re-keys, as
    /// `removeUnlockMethod` does: the old passphrase or key file opens nothing written from now
    /// on. The new method keeps the old one's name when it is of the same kind, else gets its
    /// kind's default name, unless `name` is given. The caller chooses the KDF profile (the CLI
    /// keeps the current one unless told otherwise: `unlockedMethod().profile`).
    /// - Throws: `KeystoreError.unlockMethodChanged`, `.unlockMethodExists`, `.invalidUnlockMethodName`,
    ///   `.emptyPassphrase`, key file errors, lock and I/O errors.
    public func changeProtection(to protection: KeystoreProtection, name: String? = nil) async throws(KeystoreError) {
        let before = try await unlockedMethod()
        let sameKind = (before.kind == .passphrase) == (protection.kind == .passphrase)
        let newName = name ?? (sameKind ? before.name : protection.defaultName)
        let newKeys = try MasterKeys.random()
        let made = try UnlockSlot.make(protection, name: newName, master: newKeys.master, binding: slot.binding, keystoreID: keystoreID)
        try await write { (s) throws(KeystoreError) in
            var h = current().header
            let own = try ownSlot()
            guard !h.slots.enumerated().contains(where: { $0.offset != own.index && $0.element.name == newName }) else {
                throw .unlockMethodExists(name: newName)
            }
            h.slots[own.index] = made.slot
            for j in h.slots.indices where j != own.index {
                try h.slots[j].seal(newKeys.master, binding: slot.binding, keystoreID: keystoreID)
            }
            try rewrite(s, header: h, newKeys: newKeys,
                        audit: .protectionChanged(name: newName, kind: protection.kind == .passphrase ? .passphrase : .keyFile))
            slot = UnlockSlot.Opened(secretKey: made.secret, binding: slot.binding)
            slotPublicKey = made.slot.publicKey
        }
    }
}
