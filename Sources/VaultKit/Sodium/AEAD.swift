internal import CSodium

/// XChaCha20-Poly1305 (`crypto_aead_xchacha20poly1305_ietf_*`): the keystore's record cipher.
/// The 24-byte nonce is large enough to be drawn at random for every record.
public enum XChaCha20Poly1305 {
    /// Key size, read from libsodium.
    public static let keyByteCount: Int = crypto_aead_xchacha20poly1305_ietf_keybytes()
    /// Nonce size, read from libsodium.
    public static let nonceByteCount: Int = crypto_aead_xchacha20poly1305_ietf_npubbytes()
    /// Tag size, read from libsodium.
    public static let tagByteCount: Int = crypto_aead_xchacha20poly1305_ietf_abytes()

    /// Encrypts `plaintext`; returns ciphertext followed by the 16-byte tag.
    /// - Throws: `SodiumError.invalidLength` for a key or nonce of the wrong size.
    public static func seal(_ plaintext: SecretBytes, associatedData: [UInt8], nonce: [UInt8],
                            key: SecretBytes) throws(SodiumError) -> [UInt8] {
        Sodium.ensureInitialized()
        try Sodium.check("key", key.count, keyByteCount)
        try Sodium.check("nonce", nonce.count, nonceByteCount)
        var out = [UInt8](repeating: 0, count: plaintext.count + tagByteCount)
        var outLength: UInt64 = 0
        let rc = plaintext.withUnsafeBytes { m in
            key.withUnsafeBytes { k in
                out.withUnsafeMutableBufferPointer { o in
                    associatedData.withUnsafeBufferPointer { ad in
                        nonce.withUnsafeBufferPointer { n in
                            crypto_aead_xchacha20poly1305_ietf_encrypt(
                                o.baseAddress!, &outLength, m.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                UInt64(m.count), ad.baseAddress, UInt64(ad.count), nil, n.baseAddress!,
                                k.baseAddress!.assumingMemoryBound(to: UInt8.self))
                        }
                    }
                }
            }
        }
        guard rc == 0, outLength == UInt64(out.count) else {
            throw .unexpectedFailure(call: "crypto_aead_xchacha20poly1305_ietf_encrypt")
        }
        return out
    }

    /// Decrypts and authenticates; the plaintext goes straight to secret memory.
    /// - Throws: `SodiumError.invalidLength` for a key or nonce of the wrong size;
    ///   `.authenticationFailed` for anything that does not authenticate (including a
    ///   ciphertext shorter than the tag).
    public static func open(_ ciphertext: [UInt8], associatedData: [UInt8], nonce: [UInt8],
                            key: SecretBytes) throws(SodiumError) -> SecretBytes {
        Sodium.ensureInitialized()
        try Sodium.check("key", key.count, keyByteCount)
        try Sodium.check("nonce", nonce.count, nonceByteCount)
        guard ciphertext.count >= tagByteCount else { throw .authenticationFailed }
        let plain = try SecretBytes(count: ciphertext.count - tagByteCount)
        var plainLength: UInt64 = 0
        let rc = plain.withUnsafeMutableBytes { m in
            key.withUnsafeBytes { k in
                ciphertext.withUnsafeBufferPointer { c in
                    associatedData.withUnsafeBufferPointer { ad in
                        nonce.withUnsafeBufferPointer { n in
                            crypto_aead_xchacha20poly1305_ietf_decrypt(
                                m.baseAddress!.assumingMemoryBound(to: UInt8.self), &plainLength, nil,
                                c.baseAddress!, UInt64(c.count), ad.baseAddress, UInt64(ad.count),
                                n.baseAddress!, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
                        }
                    }
                }
            }
        }
        guard rc == 0 else { throw .authenticationFailed }
        guard plainLength == UInt64(plain.count) else {
            throw .unexpectedFailure(call: "crypto_aead_xchacha20poly1305_ietf_decrypt")
        }
        return plain
    }
}
