internal import CSodium

/// Argon2id (`crypto_pwhash`, ALG_ARGON2ID13) at one of libsodium's three named cost profiles.
/// Only these are accepted anywhere, so a damaged or hostile header can never ask for hours of
/// work or gigabytes of memory.
public enum KDFProfile: String, CaseIterable, Sendable {
    /// libsodium's INTERACTIVE limits (about 64 MiB).
    case interactive
    /// libsodium's MODERATE limits (about 256 MiB); the default.
    case moderate
    /// libsodium's SENSITIVE limits (about 1 GiB).
    case sensitive

    /// Operations limit, read from libsodium.
    public var opsLimit: UInt64 {
        switch self {
        case .interactive: UInt64(crypto_pwhash_opslimit_interactive())
        case .moderate: UInt64(crypto_pwhash_opslimit_moderate())
        case .sensitive: UInt64(crypto_pwhash_opslimit_sensitive())
        }
    }

    /// Memory limit in bytes, read from libsodium.
    public var memLimit: Int {
        switch self {
        case .interactive: crypto_pwhash_memlimit_interactive()
        case .moderate: crypto_pwhash_memlimit_moderate()
        case .sensitive: crypto_pwhash_memlimit_sensitive()
        }
    }
}

/// Password-based key derivation.
public enum PasswordHash {
    /// Salt size, read from libsodium.
    public static let saltByteCount: Int = crypto_pwhash_saltbytes()

    /// Derives `length` key bytes from `passphrase` and `salt` with Argon2id at `profile`.
    /// - Throws: `SodiumError.invalidLength` for a wrong salt size or an empty passphrase;
    ///   `.keyDerivationFailed` when libsodium cannot (usually: memory); `.outOfMemory`.
    public static func deriveKey(passphrase: SecretBytes, salt: [UInt8], profile: KDFProfile,
                                 length: Int) throws(SodiumError) -> SecretBytes {
        Sodium.ensureInitialized()
        try Sodium.check("salt", salt.count, saltByteCount)
        guard passphrase.count > 0 else { throw .invalidLength(what: "passphrase", expected: 1, actual: 0) }
        let key = try SecretBytes(count: length)
        let rc = key.withUnsafeMutableBytes { k in
            passphrase.withUnsafeBytes { p in
                salt.withUnsafeBufferPointer { s in
                    crypto_pwhash(k.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(k.count),
                                  p.baseAddress!.assumingMemoryBound(to: CChar.self), UInt64(p.count),
                                  s.baseAddress!, profile.opsLimit, profile.memLimit,
                                  crypto_pwhash_alg_argon2id13())
                }
            }
        }
        guard rc == 0 else { throw .keyDerivationFailed }
        return key
    }
}
