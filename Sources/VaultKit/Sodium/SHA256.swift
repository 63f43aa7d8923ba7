internal import CSodium

/// SHA-256 (`crypto_hash_sha256`): fingerprints and hashes of public data.
public enum SHA256 {
    /// The digest size in bytes, read from libsodium.
    public static let byteCount: Int = crypto_hash_sha256_bytes()

    /// The 32-byte digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        Sodium.ensureInitialized()
        var out = [UInt8](repeating: 0, count: byteCount)
        bytes.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { o in
                // Cannot fail: crypto_hash_sha256 always returns 0.
                _ = crypto_hash_sha256(o.baseAddress!, input.baseAddress, UInt64(input.count))
            }
        }
        return out
    }
}
