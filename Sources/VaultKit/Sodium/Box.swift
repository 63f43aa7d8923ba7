internal import CSodium

/// An X25519 public key (`crypto_box_PUBLICKEYBYTES` bytes). Public by definition.
public struct PublicKey: Hashable, Sendable {
    /// The size of a public key, read from libsodium.
    public static let byteCount: Int = crypto_box_publickeybytes()
    /// The raw key bytes.
    public let bytes: [UInt8]

    /// Wraps raw key bytes.
    /// - Throws: `SodiumError.invalidLength` unless there are exactly 32 bytes.
    public init(bytes: [UInt8]) throws(SodiumError) {
        try Sodium.check("public key", bytes.count, PublicKey.byteCount)
        self.bytes = bytes
    }

    /// The SHA-256 digest of the raw key: the fingerprint's bytes (FORMAT.md §2).
    public var digest: [UInt8] { SHA256.hash(bytes) }
}

/// An X25519 key pair: the integrator's identity. The secret half lives in `SecretBytes`.
public final class KeyPair {
    /// The size of a secret key, read from libsodium.
    public static let secretKeyByteCount: Int = crypto_box_secretkeybytes()
    /// The public half.
    public let publicKey: PublicKey
    /// The secret half (32 bytes).
    public let secretKey: SecretBytes

    /// A new random key pair (`crypto_box_keypair`).
    /// - Throws: `SodiumError.outOfMemory` or `.unexpectedFailure`.
    public static func generate() throws(SodiumError) -> KeyPair {
        Sodium.ensureInitialized()
        let secret = try SecretBytes(count: secretKeyByteCount)
        var pk = [UInt8](repeating: 0, count: PublicKey.byteCount)
        let rc = secret.withUnsafeMutableBytes { sk in
            pk.withUnsafeMutableBufferPointer { crypto_box_keypair($0.baseAddress!, sk.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
        }
        guard rc == 0 else { throw .unexpectedFailure(call: "crypto_box_keypair") }
        return KeyPair(publicKey: try PublicKey(bytes: pk), secretKey: secret)
    }

    /// The key pair of a secret key: its public half is recomputed (`crypto_scalarmult_base`).
    /// - Throws: `SodiumError.invalidLength` unless the secret is 32 bytes; `.unexpectedFailure`.
    public convenience init(secretKey: SecretBytes) throws(SodiumError) {
        let pk = try X25519.publicKey(of: secretKey)
        self.init(publicKey: pk, secretKey: secretKey)
    }

    private init(publicKey: PublicKey, secretKey: SecretBytes) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }
}

/// X25519 (`crypto_scalarmult`), exposed for the Wycheproof vectors and key checks.
public enum X25519 {
    /// Scalar and point size, read from libsodium.
    public static let scalarByteCount: Int = crypto_scalarmult_scalarbytes()
    /// Size of a shared secret, read from libsodium.
    public static let sharedByteCount: Int = crypto_scalarmult_bytes()

    /// The public key of a secret scalar (`crypto_scalarmult_base`).
    /// - Throws: `SodiumError.invalidLength`, `.unexpectedFailure`.
    public static func publicKey(of secret: SecretBytes) throws(SodiumError) -> PublicKey {
        Sodium.ensureInitialized()
        try Sodium.check("secret key", secret.count, scalarByteCount)
        var pk = [UInt8](repeating: 0, count: PublicKey.byteCount)
        let rc = secret.withUnsafeBytes { sk in
            pk.withUnsafeMutableBufferPointer { crypto_scalarmult_base($0.baseAddress!, sk.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
        }
        guard rc == 0 else { throw .unexpectedFailure(call: "crypto_scalarmult_base") }
        return try PublicKey(bytes: pk)
    }

    /// The shared secret of `secret` and `point`.
    /// - Throws: `SodiumError.invalidLength`; `.scalarMultRefused` when libsodium refuses
    ///   the result (an all-zero shared secret, from a low-order point).
    public static func sharedSecret(secret: SecretBytes, point: [UInt8]) throws(SodiumError) -> SecretBytes {
        Sodium.ensureInitialized()
        try Sodium.check("secret scalar", secret.count, scalarByteCount)
        try Sodium.check("public point", point.count, scalarByteCount)
        let out = try SecretBytes(count: sharedByteCount)
        let rc = out.withUnsafeMutableBytes { o in
            secret.withUnsafeBytes { s in
                point.withUnsafeBufferPointer { p in
                    crypto_scalarmult(o.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                      s.baseAddress!.assumingMemoryBound(to: UInt8.self), p.baseAddress!)
                }
            }
        }
        guard rc == 0 else { throw .scalarMultRefused }
        return out
    }
}

/// Anonymous sealed boxes (`crypto_box_seal`): X25519 + XSalsa20-Poly1305 with an ephemeral key.
public enum SealedBox {
    /// Bytes a sealed box adds to its message (ephemeral key + tag), read from libsodium.
    public static let overhead: Int = crypto_box_sealbytes()

    /// Seals `message` to `recipient`. Anyone holding the public key can do this: a sealed box
    /// says nothing about who sealed it.
    /// - Throws: `SodiumError.unexpectedFailure`.
    public static func seal(_ message: SecretBytes, to recipient: PublicKey) throws(SodiumError) -> [UInt8] {
        Sodium.ensureInitialized()
        var out = [UInt8](repeating: 0, count: message.count + overhead)
        let rc = message.withUnsafeBytes { m in
            out.withUnsafeMutableBufferPointer { o in
                recipient.bytes.withUnsafeBufferPointer { pk in
                    crypto_box_seal(o.baseAddress!, m.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                    UInt64(m.count), pk.baseAddress!)
                }
            }
        }
        guard rc == 0 else { throw .unexpectedFailure(call: "crypto_box_seal") }
        return out
    }

    /// Opens a sealed box with `keyPair`; the plaintext goes straight to secret memory.
    /// - Throws: `SodiumError.sealOpenFailed` for a box that is too short, was sealed to another
    ///   key, or was changed in any bit; `.outOfMemory`.
    public static func open(_ box: [UInt8], with keyPair: KeyPair) throws(SodiumError) -> SecretBytes {
        Sodium.ensureInitialized()
        guard box.count >= overhead else { throw .sealOpenFailed }
        let plain = try SecretBytes(count: box.count - overhead)
        let rc = plain.withUnsafeMutableBytes { m in
            keyPair.secretKey.withUnsafeBytes { sk in
                box.withUnsafeBufferPointer { c in
                    keyPair.publicKey.bytes.withUnsafeBufferPointer { pk in
                        crypto_box_seal_open(m.baseAddress!.assumingMemoryBound(to: UInt8.self), c.baseAddress!,
                                             UInt64(c.count), pk.baseAddress!,
                                             sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
                    }
                }
            }
        }
        guard rc == 0 else { throw .sealOpenFailed }
        return plain
    }
}
