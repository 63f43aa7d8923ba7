/// One unlock method in the header (docs/KEYSTORE.md §2.2): a passphrase or a key file, with
/// its own X25519 key pair. The slot's secret key and the keystore's binding key are wrapped
/// under the method's key-encryption key (KEK); the master key is sealed to the slot's public
/// key, so a re-key can seal a new master key to every slot without any method's secret.
///
/// The sealed master key is MAC'd with the binding key (a random key made with the keystore,
/// inside every slot's wrap, never changed): anyone can seal *a* key to a public key, but only a
/// holder of an unlock method can make one a slot accepts. Without it, someone who may write
/// the file could make your own passphrase open a keystore of their making.
struct UnlockSlot: Equatable {
    enum Kind: UInt8 { case passphrase = 1, keyFile = 2 }

    static let saltByteCount = 16
    static let nonceByteCount = 24
    static let secretByteCount = 32
    /// Wrapped: slot secret key 32 ‖ binding key 32, plus the AEAD tag.
    static let wrappedByteCount = 64 + 16
    static let publicKeyByteCount = 32
    /// `crypto_box_seal` of the 32-byte master key: ephemeral key 32 + tag 16 + 32.
    static let sealedByteCount = 80
    static let tagByteCount = 32
    static let maxNameLength = 32

    var kind: Kind
    /// Only for passphrase slots.
    var profile: KDFProfile?
    var name: String
    /// Unix seconds.
    var created: Int64
    var salt: [UInt8]
    var nonce: [UInt8]
    var wrapped: [UInt8]
    var publicKey: [UInt8]
    var sealedMaster: [UInt8]
    var sealTag: [UInt8]

    static func byteCount(nameLength m: Int) -> Int {
        3 + m + 8 + saltByteCount + nonceByteCount + wrappedByteCount + publicKeyByteCount + sealedByteCount + tagByteCount
    }

    var byteCount: Int { Self.byteCount(nameLength: name.utf8.count) }

    static func profileCode(_ p: KDFProfile?) -> UInt8 {
        switch p {
        case nil: 0
        case .interactive: 1
        case .moderate: 2
        case .sensitive: 3
        }
    }

    /// `[a-z0-9][a-z0-9._-]*`, 1 to 32 bytes: the integrator's own words, stored in clear.
    static func isValidName(_ name: String) -> Bool {
        let b = Array(name.utf8)
        guard (1...maxNameLength).contains(b.count) else { return false }
        func ok(_ c: UInt8, first: Bool) -> Bool {
            (0x61...0x7a).contains(c) || (0x30...0x39).contains(c) || (!first && [0x2e, 0x5f, 0x2d].contains(c))
        }
        return b.enumerated().allSatisfy { ok($1, first: $0 == 0) }
    }

    func encoded() -> [UInt8] {
        var out: [UInt8] = [kind.rawValue, Self.profileCode(profile), UInt8(name.utf8.count)]
        out += Array(name.utf8)
        out += be64(UInt64(created))
        out += salt + nonce + wrapped + publicKey + sealedMaster + sealTag
        return out
    }

    static func parse(_ r: inout ByteReader) throws(KeystoreError) -> UnlockSlot {
        guard let kind = Kind(rawValue: try r.u8()) else { throw .damaged(detail: "header: unknown unlock slot kind") }
        let profile: KDFProfile?
        switch (kind, try r.u8()) {
        case (.keyFile, 0): profile = nil
        case (.passphrase, 1): profile = .interactive
        case (.passphrase, 2): profile = .moderate
        case (.passphrase, 3): profile = .sensitive
        // Only the three named limits exist: a header can never ask for another cost.
        default: throw .damaged(detail: "header: unknown KDF profile")
        }
        let m = Int(try r.u8())
        guard let name = String(validating: try r.take(m), as: UTF8.self), isValidName(name) else {
            throw .damaged(detail: "header: invalid unlock slot name")
        }
        let created = try r.u64()
        // Up to 9999-12-31T23:59:59Z, the last time the project's time form can write.
        guard created <= 253_402_300_799 else { throw .damaged(detail: "header: slot creation time out of range") }
        let salt = try r.take(saltByteCount)
        if kind == .keyFile, salt.contains(where: { $0 != 0 }) { throw .damaged(detail: "header: a key-file slot has a salt") }
        return UnlockSlot(kind: kind, profile: profile, name: name, created: Int64(created), salt: salt,
                          nonce: try r.take(nonceByteCount), wrapped: try r.take(wrappedByteCount),
                          publicKey: try r.take(publicKeyByteCount), sealedMaster: try r.take(sealedByteCount),
                          sealTag: try r.take(tagByteCount))
    }

    /// Binds the wrapped secret to everything in the slot that decides how it is unwrapped, and
    /// to the keystore: unwrapping authenticates them (an edited KDF profile fails here).
    func wrapAssociatedData(keystoreID: [UInt8]) -> [UInt8] {
        var ad = Array("vault-ks slot v2".utf8) + keystoreID
        ad += [kind.rawValue, Self.profileCode(profile), UInt8(name.utf8.count)] + Array(name.utf8)
        ad += be64(UInt64(created)) + salt + publicKey
        return ad
    }

    static func sealTagInput(keystoreID: [UInt8], publicKey: [UInt8], sealed: [UInt8]) -> [UInt8] {
        Array("vault-ks sealed master v2".utf8) + keystoreID + publicKey + sealed
    }

    /// Seals `master` to this slot's public key, MAC'd with the binding key (a re-key does this
    /// for every remaining slot).
    mutating func seal(_ master: SecretBytes, binding: SecretBytes, keystoreID: [UInt8]) throws(KeystoreError) {
        do { sealedMaster = try SealedBox.seal(master, to: try PublicKey(bytes: publicKey)) } catch { throw .sodium(error) }
        sealTag = try MasterKeys.mac(Self.sealTagInput(keystoreID: keystoreID, publicKey: publicKey, sealed: sealedMaster), key: binding)
    }

    /// A new slot for `protection` (the KDF runs here for a passphrase), holding `binding` and
    /// sealing `master`.
    static func make(_ protection: KeystoreProtection, name: String, master: SecretBytes, binding: SecretBytes,
                     keystoreID: [UInt8]) throws(KeystoreError) -> (slot: UnlockSlot, secret: SecretBytes) {
        guard isValidName(name) else { throw .invalidUnlockMethodName(name: name) }
        let kek: SecretBytes
        var salt = [UInt8](repeating: 0, count: saltByteCount)
        let kind: Kind
        var profile: KDFProfile?
        switch protection {
        case .passphrase(let pass, let p):
            guard pass.count > 0 else { throw .emptyPassphrase }
            salt = Random.bytes(saltByteCount)
            kind = .passphrase; profile = p
            do { kek = try PasswordHash.deriveKey(passphrase: pass, salt: salt, profile: p, length: 32) } catch { throw .sodium(error) }
        case .keyFile(let path):
            kind = .keyFile
            kek = try KeyFile.read(at: path)
        }
        return try make(kind: kind, profile: profile, salt: salt, kek: kek, name: name, master: master, binding: binding,
                        keystoreID: keystoreID)
    }

    /// A new slot from a KEK at hand (also how a format-1 slot becomes a format-2 slot: same
    /// salt and profile, so the same passphrase derives the same KEK).
    static func make(kind: Kind, profile: KDFProfile?, salt: [UInt8], kek: SecretBytes, name: String, master: SecretBytes,
                     binding: SecretBytes, keystoreID: [UInt8]) throws(KeystoreError) -> (slot: UnlockSlot, secret: SecretBytes) {
        let pair: KeyPair
        let secrets: SecretBytes
        do {
            pair = try KeyPair.generate()
            secrets = try SecretBytes(count: 64)
        } catch { throw .sodium(error) }
        secrets.withUnsafeMutableBytes { out in
            pair.secretKey.withUnsafeBytes { out.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: 32) }
            binding.withUnsafeBytes { (out.baseAddress! + 32).copyMemory(from: $0.baseAddress!, byteCount: 32) }
        }
        var slot = UnlockSlot(kind: kind, profile: profile, name: name, created: Int64(FileIO.now()), salt: salt,
                              nonce: Random.bytes(nonceByteCount), wrapped: [], publicKey: pair.publicKey.bytes,
                              sealedMaster: [], sealTag: [])
        do {
            slot.wrapped = try XChaCha20Poly1305.seal(secrets, associatedData: slot.wrapAssociatedData(keystoreID: keystoreID),
                                                      nonce: slot.nonce, key: kek)
        } catch { throw .sodium(error) }
        try slot.seal(master, binding: binding, keystoreID: keystoreID)
        return (slot, pair.secretKey)
    }

    /// What unwrapping a slot gives: the slot's secret key and the binding key.
    struct Opened {
        let secretKey: SecretBytes
        let binding: SecretBytes
        /// The key pair `unwrap` derived and checked against the slot's public key, so that
        /// opening the master key does not derive it again (an X25519 base-point
        /// multiplication, a tenth of a one-shot command's own work).
        var pair: KeyPair? = nil
    }

    /// Unwraps the slot with `kek`: nil when the KEK does not fit (a wrong secret, or an
    /// altered slot — they cannot be told apart).
    func unwrap(kek: SecretBytes, keystoreID: [UInt8]) throws(KeystoreError) -> Opened? {
        let plain: SecretBytes
        do {
            plain = try XChaCha20Poly1305.open(wrapped, associatedData: wrapAssociatedData(keystoreID: keystoreID), nonce: nonce, key: kek)
        } catch {
            guard error == .authenticationFailed else { throw .sodium(error) }
            return nil
        }
        guard plain.count == 64 else { throw .damaged(detail: "unlock slot \(name): wrapped secret has the wrong size") }
        let opened: Opened
        do {
            let secretKey = try plain.slice(0, 32)
            opened = Opened(secretKey: secretKey, binding: try plain.slice(32, 32), pair: try KeyPair(secretKey: secretKey))
        } catch { throw .sodium(error) }
        // The AEAD authenticated the public key too: a mismatch is a writer's bug, not a guess.
        guard opened.pair?.publicKey.bytes == publicKey else { throw .damaged(detail: "unlock slot \(name): its key pair does not match") }
        return opened
    }

    /// Opens the sealed master key with the slot's secret key, after checking its MAC.
    /// - Throws: `.damaged` when the MAC or the box fails: the sealed key was replaced.
    func openMaster(_ opened: Opened, keystoreID: [UInt8]) throws(KeystoreError) -> SecretBytes {
        let tag = try MasterKeys.mac(Self.sealTagInput(keystoreID: keystoreID, publicKey: publicKey, sealed: sealedMaster),
                                     key: opened.binding)
        guard tag == sealTag else { throw .damaged(detail: "unlock slot \(name): its sealed master key was not made by this keystore") }
        let master: SecretBytes
        do {
            let pair: KeyPair
            if let known = opened.pair { pair = known } else { pair = try KeyPair(secretKey: opened.secretKey) }
            master = try SealedBox.open(sealedMaster, with: pair)
        } catch {
            guard error == .sealOpenFailed else { throw .sodium(error) }
            throw .damaged(detail: "unlock slot \(name): its sealed master key does not open")
        }
        guard master.count == MasterKeys.byteCount else { throw .damaged(detail: "unlock slot \(name): master key size") }
        return master
    }
}
