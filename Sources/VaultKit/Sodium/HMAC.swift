internal import CSodium

/// HMAC-SHA256 (`crypto_auth_hmacsha256_*`): Exact Online signs each webhook with it, keyed
/// with the app's webhook secret.
public enum HMACSHA256 {
    /// The MAC size in bytes, read from libsodium.
    public static let byteCount: Int = crypto_auth_hmacsha256_bytes()

    /// The MAC of public `message` under `key`, a key of any length (Exact's webhook secrets
    /// are not 32 bytes, so the init/update/final form is used: it hashes a long key first, as
    /// RFC 2104 says, where `crypto_auth_hmacsha256` takes exactly 32 bytes).
    /// - Throws: `SodiumError.outOfMemory`, `.unexpectedFailure`.
    public static func authenticate(_ message: UnsafeRawBufferPointer, key: SecretBytes) throws(SodiumError) -> [UInt8] {
        Sodium.ensureInitialized()
        // The state holds the key's inner and outer pads: secret, so it lives in secret memory.
        let state = try SecretBytes(count: crypto_auth_hmacsha256_statebytes())
        var out = [UInt8](repeating: 0, count: byteCount)
        let rc = state.withUnsafeMutableBytes { s -> Int32 in
            let st = s.baseAddress!.assumingMemoryBound(to: crypto_auth_hmacsha256_state.self)
            let r1 = key.withUnsafeBytes { k in
                // SecretBytes always has a valid pointer (sodium_malloc of at least one byte).
                crypto_auth_hmacsha256_init(st, k.baseAddress!.assumingMemoryBound(to: UInt8.self), k.count)
            }
            var empty: UInt8 = 0
            let r2 = message.baseAddress.map { crypto_auth_hmacsha256_update(st, $0.assumingMemoryBound(to: UInt8.self), UInt64(message.count)) }
                ?? crypto_auth_hmacsha256_update(st, &empty, 0)
            let r3 = out.withUnsafeMutableBufferPointer { crypto_auth_hmacsha256_final(st, $0.baseAddress!) }
            return r1 | r2 | r3
        }
        guard rc == 0 else { throw .unexpectedFailure(call: "crypto_auth_hmacsha256") }
        return out
    }

    /// Whether `mac` is the MAC of `message` under `key`, compared in constant time
    /// (`sodium_memcmp`), so the time taken says nothing about how many leading bytes matched.
    /// A `mac` of another length is simply not equal.
    /// - Throws: `SodiumError.outOfMemory`, `.unexpectedFailure`.
    public static func verify(_ mac: [UInt8], message: UnsafeRawBufferPointer, key: SecretBytes) throws(SodiumError) -> Bool {
        var expected = try authenticate(message, key: key)
        defer { wipe(&expected) }
        guard mac.count == expected.count else { return false }
        return mac.withUnsafeBytes { m in expected.withUnsafeBytes { e in sodium_memcmp(m.baseAddress!, e.baseAddress!, e.count) == 0 } }
    }
}
