/// The master key and the subkeys derived from it (docs/KEYSTORE.md §1): one per use, so a key
/// used to blind lookup keys never also seals records or MACs the header. A re-key replaces the
/// master key, and with it every subkey.
final class MasterKeys {
    let master: SecretBytes
    /// Seals records (XChaCha20-Poly1305).
    let record: SecretBytes
    /// Blinds labels, blob ids and names into lookup keys (keyed BLAKE2b).
    let lookup: SecretBytes
    /// MACs the header.
    let header: SecretBytes
    /// MACs the state slots.
    let state: SecretBytes

    static let byteCount = 32

    init(master: SecretBytes) throws(KeystoreError) {
        self.master = master
        do {
            record = try GenericHash.deriveSubkey(context: Array("vault-ks record key v2".utf8), key: master, length: 32)
            lookup = try GenericHash.deriveSubkey(context: Array("vault-ks lookup key v2".utf8), key: master, length: 32)
            header = try GenericHash.deriveSubkey(context: Array("vault-ks header key v2".utf8), key: master, length: 32)
            state = try GenericHash.deriveSubkey(context: Array("vault-ks state key v2".utf8), key: master, length: 32)
        } catch { throw .sodium(error) }
    }

    /// A new random master key (creation, re-key).
    static func random() throws(KeystoreError) -> MasterKeys {
        let m: SecretBytes
        do { m = try SecretBytes.random(count: byteCount) } catch { throw .sodium(error) }
        return try MasterKeys(master: m)
    }

    /// BLAKE2b-keyed(32, `key`, message).
    static func mac(_ message: [UInt8], key: SecretBytes) throws(KeystoreError) -> [UInt8] {
        do { return try GenericHash.hash(message, key: key, length: 32) } catch { throw .sodium(error) }
    }

    /// The lookup key of `kind`/`value`: BLAKE2b-keyed(16, lookup key, kind ‖ 00 ‖ value).
    func lookupKey(_ kind: LookupKind, _ value: String) throws(KeystoreError) -> [UInt8] {
        do {
            return try GenericHash.hash(Array(kind.rawValue.utf8) + [0] + Array(value.utf8), key: lookup,
                                        length: FrameHeader.lookupKeyByteCount)
        } catch { throw .sodium(error) }
    }
}

/// What a lookup key blinds: the kind is hashed in, so a label can never collide with a blob id.
enum LookupKind: String {
    case label, blob, setting, identity, request, audit
}
