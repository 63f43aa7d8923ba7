internal import CSodium

/// Signatures made with an identity's X25519 secret key, the XEdDSA way (Signal's "XEdDSA and
/// VXEdDSA" specification), so that anyone holding only the published recipient key can check
/// them with a stock Ed25519 verifier (issue 13: the signed head of an audit export;
/// SECURITY.md, "The audit log").
///
/// The X25519 secret key k is clamped and read as an Edwards scalar a = k mod L; its point
/// A = a·B is the *verifying key*. A maps to the recipient under the birational map
/// (`crypto_sign_ed25519_pk_to_curve25519(A)` is the X25519 public key k·9), so a verifier
/// checks both the signature under A and that A belongs to the recipient. Unlike XEdDSA, A is
/// not forced to a positive sign: it travels with the signature, and −A (the only other point
/// with the same recipient) is just as hard to sign for.
///
/// Signing: r = SHA-512(0xFE×32 ‖ a ‖ M ‖ Z) mod L with Z 64 fresh random bytes (a random
/// nonce hedged with the key, as XEdDSA does: a broken random source alone never repeats r);
/// R = r·B; h = SHA-512(R ‖ A ‖ M) mod L; S = r + h·a mod L; the signature is R ‖ S, exactly
/// what `crypto_sign_verify_detached(sig, M, A)` checks.
public enum IdentitySignature {
    /// Bytes of a signature (R ‖ S), read from libsodium.
    public static let byteCount: Int = crypto_sign_ed25519_bytes()
    /// Bytes of a verifying key (an Ed25519 point), read from libsodium.
    public static let verifyingKeyByteCount: Int = crypto_sign_ed25519_publickeybytes()

    private static let scalarByteCount: Int = crypto_core_ed25519_scalarbytes()
    private static let nonReducedByteCount: Int = crypto_core_ed25519_nonreducedscalarbytes()
    private static let hashByteCount: Int = crypto_hash_sha512_bytes()

    /// The verifying key A of an X25519 secret key (32 bytes).
    /// - Throws: `SodiumError.invalidLength`, `.outOfMemory`, `.unexpectedFailure`.
    public static func verifyingKey(of secretKey: SecretBytes) throws(SodiumError) -> [UInt8] {
        let a = try scalar(of: secretKey)
        return try point(of: a, call: "crypto_scalarmult_ed25519_base_noclamp")
    }

    /// Signs `message` with the X25519 secret key `secretKey`.
    /// - Returns: the 64-byte signature and the verifying key it checks under.
    /// - Throws: `SodiumError.invalidLength`, `.outOfMemory`, `.unexpectedFailure` (also when
    ///   the signature made does not verify, which would be a libsodium defect).
    public static func sign(_ message: [UInt8], secretKey: SecretBytes) throws(SodiumError) -> (signature: [UInt8], verifyingKey: [UInt8]) {
        let a = try scalar(of: secretKey)
        let A = try point(of: a, call: "crypto_scalarmult_ed25519_base_noclamp")
        // The nonce is secret: whoever learns r (or sees it twice) learns a.
        let z = try SecretBytes.random(count: 64)
        let prefix = [UInt8](repeating: 0xfe, count: 32)
        let r = try reduce(try sha512([.public(prefix), .secret(a), .public(message), .secret(z)]))
        let R = try point(of: r, call: "crypto_scalarmult_ed25519_base_noclamp (nonce)")
        // h is public: any verifier computes it.
        let h = try reduce(try sha512([.public(R), .public(A), .public(message)]))
        let s = try SecretBytes(count: scalarByteCount)
        let ha = try SecretBytes(count: scalarByteCount)
        h.withUnsafeBytes { hb in a.withUnsafeBytes { ab in ha.withUnsafeMutableBytes { out in
            crypto_core_ed25519_scalar_mul(out.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                           hb.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                           ab.baseAddress!.assumingMemoryBound(to: UInt8.self))
        } } }
        r.withUnsafeBytes { rb in ha.withUnsafeBytes { hab in s.withUnsafeMutableBytes { out in
            crypto_core_ed25519_scalar_add(out.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                           rb.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                           hab.baseAddress!.assumingMemoryBound(to: UInt8.self))
        } } }
        // S is public once r is folded in: it is the signature's second half.
        let signature = R + s.withUnsafeBytes { Array($0) }
        // Checked before it leaves: a signature that does not verify is never handed out.
        guard verify(signature, message: message, verifyingKey: A) else {
            throw .unexpectedFailure(call: "identity signature self-check")
        }
        return (signature, A)
    }

    /// Whether `signature` is a valid Ed25519 signature of `message` under `verifyingKey`
    /// (`crypto_sign_verify_detached`, which refuses non-canonical S and small-order points).
    public static func verify(_ signature: [UInt8], message: [UInt8], verifyingKey: [UInt8]) -> Bool {
        Sodium.ensureInitialized()
        guard signature.count == byteCount, verifyingKey.count == verifyingKeyByteCount else { return false }
        return signature.withUnsafeBufferPointer { sig in
            message.withUnsafeBufferPointer { m in
                verifyingKey.withUnsafeBufferPointer { pk in
                    crypto_sign_verify_detached(sig.baseAddress!, m.baseAddress, UInt64(m.count), pk.baseAddress!) == 0
                }
            }
        }
    }

    /// Whether `verifyingKey` is the Edwards form of `recipient`: what ties a signature to the
    /// published recipient (and so to its fingerprint).
    public static func belongs(_ verifyingKey: [UInt8], to recipient: PublicKey) -> Bool {
        Sodium.ensureInitialized()
        guard verifyingKey.count == verifyingKeyByteCount else { return false }
        var x = [UInt8](repeating: 0, count: PublicKey.byteCount)
        let rc = x.withUnsafeMutableBufferPointer { out in
            verifyingKey.withUnsafeBufferPointer { crypto_sign_ed25519_pk_to_curve25519(out.baseAddress!, $0.baseAddress!) }
        }
        return rc == 0 && x == recipient.bytes
    }

    // MARK: Parts

    /// a = clamp(k) mod L, in secret memory.
    private static func scalar(of secretKey: SecretBytes) throws(SodiumError) -> SecretBytes {
        Sodium.ensureInitialized()
        try Sodium.check("X25519 secret key", secretKey.count, X25519.scalarByteCount)
        // clamp(k) ‖ 0^32: the 64-byte form scalar_reduce takes.
        let wide = try SecretBytes(count: nonReducedByteCount)
        wide.withUnsafeMutableBytes { w in
            secretKey.withUnsafeBytes { k in
                for i in 0..<32 { w[i] = k[i] }
                for i in 32..<w.count { w[i] = 0 }
            }
            // The clamping X25519 applies to k before every multiplication (RFC 7748).
            w[0] &= 248
            w[31] &= 127
            w[31] |= 64
        }
        return try reduce(wide)
    }

    /// A 64-byte value reduced modulo L, in secret memory.
    private static func reduce(_ wide: SecretBytes) throws(SodiumError) -> SecretBytes {
        try Sodium.check("value to reduce", wide.count, nonReducedByteCount)
        let out = try SecretBytes(count: scalarByteCount)
        wide.withUnsafeBytes { w in
            out.withUnsafeMutableBytes { o in
                crypto_core_ed25519_scalar_reduce(o.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                                  w.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        return out
    }

    /// scalar·B.
    private static func point(of scalar: SecretBytes, call: String) throws(SodiumError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: verifyingKeyByteCount)
        let rc = scalar.withUnsafeBytes { s in
            out.withUnsafeMutableBufferPointer {
                crypto_scalarmult_ed25519_base_noclamp($0.baseAddress!, s.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        // Fails only for the zero scalar, which a clamped key or a hash reduction never gives.
        guard rc == 0 else { throw .unexpectedFailure(call: call) }
        return out
    }

    private enum Part {
        case `public`([UInt8])
        case secret(SecretBytes)
    }

    /// SHA-512 of the parts, into secret memory; the hash state (which absorbs secrets) lives
    /// there too.
    private static func sha512(_ parts: [Part]) throws(SodiumError) -> SecretBytes {
        let state = try SecretBytes(count: crypto_hash_sha512_statebytes())
        let out = try SecretBytes(count: hashByteCount)
        let rc = state.withUnsafeMutableBytes { st -> Int32 in
            let p = st.baseAddress!.assumingMemoryBound(to: crypto_hash_sha512_state.self)
            var rc = crypto_hash_sha512_init(p)
            for part in parts {
                switch part {
                case .public(let bytes):
                    rc |= bytes.withUnsafeBufferPointer { b in
                        var empty: UInt8 = 0
                        return b.baseAddress.map { crypto_hash_sha512_update(p, $0, UInt64(b.count)) } ?? crypto_hash_sha512_update(p, &empty, 0)
                    }
                case .secret(let s):
                    rc |= s.withUnsafeBytes { crypto_hash_sha512_update(p, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64($0.count)) }
                }
            }
            rc |= out.withUnsafeMutableBytes { crypto_hash_sha512_final(p, $0.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
            return rc
        }
        guard rc == 0 else { throw .unexpectedFailure(call: "crypto_hash_sha512") }
        return out
    }
}
