internal import CSodium

/// libsodium's CSPRNG, for values that are not secret (ids, salts, nonces, request codes).
public enum Random {
    /// `count` random bytes.
    public static func bytes(_ count: Int) -> [UInt8] {
        Sodium.ensureInitialized()
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { if let b = $0.baseAddress { randombytes_buf(b, count) } }
        return out
    }
}
