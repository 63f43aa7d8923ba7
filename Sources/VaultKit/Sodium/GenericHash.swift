internal import CSodium

/// Keyed BLAKE2b (`crypto_generichash`): the keystore derives its subkeys with it and blinds
/// the lookup keys it stores in clear (a label or blob id hashed under a secret key says
/// nothing about the label to someone without the key).
public enum GenericHash {
    /// Smallest output size, read from libsodium.
    public static let minByteCount: Int = crypto_generichash_bytes_min()
    /// Largest output size, read from libsodium.
    public static let maxByteCount: Int = crypto_generichash_bytes_max()
    /// Smallest key size, read from libsodium.
    public static let minKeyByteCount: Int = crypto_generichash_keybytes_min()
    /// Largest key size, read from libsodium.
    public static let maxKeyByteCount: Int = crypto_generichash_keybytes_max()

    /// The `length`-byte keyed BLAKE2b digest of public `message` under `key`.
    /// - Throws: `SodiumError.invalidLength` for an output or key size outside libsodium's limits;
    ///   `.unexpectedFailure` if libsodium refuses.
    public static func hash(_ message: [UInt8], key: SecretBytes, length: Int) throws(SodiumError) -> [UInt8] {
        Sodium.ensureInitialized()
        try checkSizes(key: key, length: length)
        var out = [UInt8](repeating: 0, count: length)
        let rc = key.withUnsafeBytes { k in
            message.withUnsafeBufferPointer { m in
                out.withUnsafeMutableBufferPointer { o in
                    crypto_generichash(o.baseAddress!, length, m.baseAddress, UInt64(m.count),
                                       k.baseAddress!.assumingMemoryBound(to: UInt8.self), k.count)
                }
            }
        }
        guard rc == 0 else { throw .unexpectedFailure(call: "crypto_generichash") }
        return out
    }

    /// The `length`-byte unkeyed BLAKE2b digest of public `message` (the keystore's index
    /// snapshot hashes, whose digest sits in a MAC'd state).
    /// - Throws: `SodiumError.invalidLength` for an output size outside libsodium's limits.
    public static func hashPublic(_ message: [UInt8], length: Int) throws(SodiumError) -> [UInt8] {
        Sodium.ensureInitialized()
        guard (minByteCount...maxByteCount).contains(length) else {
            throw .invalidLength(what: "generichash output", expected: maxByteCount, actual: length)
        }
        var out = [UInt8](repeating: 0, count: length)
        let rc = message.withUnsafeBufferPointer { m in
            out.withUnsafeMutableBufferPointer { o in
                crypto_generichash(o.baseAddress!, length, m.baseAddress, UInt64(m.count), nil, 0)
            }
        }
        guard rc == 0 else { throw .unexpectedFailure(call: "crypto_generichash") }
        return out
    }

    /// The unkeyed BLAKE2b digest of public `first ‖ second`, `out.count` bytes, written to
    /// `out` (which may be `first`): the keystore's tail chain, computed for every frame of the
    /// tail at each open, without an array for the message and another for the digest.
    /// - Throws: `SodiumError.invalidLength` for an output size outside libsodium's limits.
    public static func hashPublic(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer,
                                  into out: UnsafeMutableRawBufferPointer) throws(SodiumError) {
        Sodium.ensureInitialized()
        guard (minByteCount...maxByteCount).contains(out.count) else {
            throw .invalidLength(what: "generichash output", expected: maxByteCount, actual: out.count)
        }
        let count = first.count + second.count
        let rc = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(count, 1)) { m in
            // The message is copied first, so `out` may overlap `first`.
            if first.count > 0 { UnsafeMutableRawBufferPointer(m).copyMemory(from: first) }
            if second.count > 0 { UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(m)[first.count...]).copyMemory(from: second) }
            return crypto_generichash(out.baseAddress!.assumingMemoryBound(to: UInt8.self), out.count, m.baseAddress, UInt64(count), nil, 0)
        }
        guard rc == 0 else { throw .unexpectedFailure(call: "crypto_generichash") }
    }

    /// A secret subkey: the `length`-byte keyed BLAKE2b digest of the public `context` under
    /// `key`, written straight to secret memory.
    /// - Throws: `SodiumError.invalidLength`, `.outOfMemory`, `.unexpectedFailure`.
    public static func deriveSubkey(context: [UInt8], key: SecretBytes, length: Int) throws(SodiumError) -> SecretBytes {
        Sodium.ensureInitialized()
        try checkSizes(key: key, length: length)
        let out = try SecretBytes(count: length)
        let rc = out.withUnsafeMutableBytes { o in
            key.withUnsafeBytes { k in
                context.withUnsafeBufferPointer { m in
                    crypto_generichash(o.baseAddress!.assumingMemoryBound(to: UInt8.self), length,
                                       m.baseAddress, UInt64(m.count),
                                       k.baseAddress!.assumingMemoryBound(to: UInt8.self), k.count)
                }
            }
        }
        guard rc == 0 else { throw .unexpectedFailure(call: "crypto_generichash") }
        return out
    }

    private static func checkSizes(key: SecretBytes, length: Int) throws(SodiumError) {
        guard (minByteCount...maxByteCount).contains(length) else {
            throw .invalidLength(what: "generichash output", expected: maxByteCount, actual: length)
        }
        guard (minKeyByteCount...maxKeyByteCount).contains(key.count) else {
            throw .invalidLength(what: "generichash key", expected: maxKeyByteCount, actual: key.count)
        }
    }
}
