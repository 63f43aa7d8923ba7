internal import CSodium

/// XChaCha20-Poly1305 as a stream of chunks (`crypto_secretstream_xchacha20poly1305_*`): the
/// backup file's cipher (docs/BACKUP.md). Each chunk is authenticated together with its place in
/// the stream, so chunks cannot be dropped, repeated or reordered without failing, and the last
/// one carries the FINAL tag, so a stream cut at a chunk boundary is told from a whole one.
///
/// The state (key and nonce) lives in secret memory. Not `Sendable`: one stream, one task.
public final class SecretStream {
    /// Key size, read from libsodium.
    public static let keyByteCount: Int = crypto_secretstream_xchacha20poly1305_keybytes()
    /// Stream header size, read from libsodium (written once, before the first chunk).
    public static let headerByteCount: Int = crypto_secretstream_xchacha20poly1305_headerbytes()
    /// What each chunk adds to its plaintext (tag byte and MAC), read from libsodium.
    public static let overheadByteCount: Int = crypto_secretstream_xchacha20poly1305_abytes()

    private let state: SecretBytes
    /// The stream header a pushing stream made (empty for a pulling one).
    public let header: [UInt8]
    private var finished = false

    private init(state: SecretBytes, header: [UInt8]) {
        self.state = state
        self.header = header
    }

    private static func newState() throws(SodiumError) -> SecretBytes {
        Sodium.ensureInitialized()
        return try SecretBytes(count: crypto_secretstream_xchacha20poly1305_statebytes())
    }

    /// A stream to encrypt with `key`; write `header` before the first chunk.
    /// - Throws: `SodiumError.invalidLength` for a key of the wrong size, `.outOfMemory`.
    public static func push(key: SecretBytes) throws(SodiumError) -> SecretStream {
        try Sodium.check("key", key.count, keyByteCount)
        let state = try newState()
        var header = [UInt8](repeating: 0, count: headerByteCount)
        let rc = state.withUnsafeMutableBytes { s in
            key.withUnsafeBytes { k in
                header.withUnsafeMutableBufferPointer { h in
                    crypto_secretstream_xchacha20poly1305_init_push(
                        s.baseAddress!.assumingMemoryBound(to: crypto_secretstream_xchacha20poly1305_state.self),
                        h.baseAddress!, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
        }
        guard rc == 0 else { throw .unexpectedFailure(call: "crypto_secretstream_xchacha20poly1305_init_push") }
        return SecretStream(state: state, header: header)
    }

    /// A stream to decrypt with `key`, from the stream header its writer made.
    /// - Throws: `SodiumError.invalidLength` for a key or header of the wrong size;
    ///   `.authenticationFailed` when libsodium refuses the header; `.outOfMemory`.
    public static func pull(key: SecretBytes, header: [UInt8]) throws(SodiumError) -> SecretStream {
        try Sodium.check("key", key.count, keyByteCount)
        try Sodium.check("stream header", header.count, headerByteCount)
        let state = try newState()
        let rc = state.withUnsafeMutableBytes { s in
            key.withUnsafeBytes { k in
                header.withUnsafeBufferPointer { h in
                    crypto_secretstream_xchacha20poly1305_init_pull(
                        s.baseAddress!.assumingMemoryBound(to: crypto_secretstream_xchacha20poly1305_state.self),
                        h.baseAddress!, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
        }
        guard rc == 0 else { throw .authenticationFailed }
        return SecretStream(state: state, header: [])
    }

    /// Encrypts the next chunk; `final` marks the last one (nothing may follow it).
    /// - Parameter associatedData: authenticated with this chunk, not stored.
    /// - Throws: `SodiumError.unexpectedFailure` (also for a push after the final chunk).
    public func push(_ plaintext: UnsafeRawBufferPointer, final: Bool, associatedData: [UInt8] = []) throws(SodiumError) -> [UInt8] {
        guard !finished else { throw .unexpectedFailure(call: "crypto_secretstream_xchacha20poly1305_push after the final chunk") }
        var out = [UInt8](repeating: 0, count: plaintext.count + Self.overheadByteCount)
        var outLength: UInt64 = 0
        let tag = final ? crypto_secretstream_xchacha20poly1305_tag_final() : crypto_secretstream_xchacha20poly1305_tag_message()
        let rc = state.withUnsafeMutableBytes { s in
            out.withUnsafeMutableBufferPointer { o in
                associatedData.withUnsafeBufferPointer { ad in
                    crypto_secretstream_xchacha20poly1305_push(
                        s.baseAddress!.assumingMemoryBound(to: crypto_secretstream_xchacha20poly1305_state.self),
                        o.baseAddress!, &outLength, plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self),
                        UInt64(plaintext.count), ad.baseAddress, UInt64(ad.count), tag)
                }
            }
        }
        guard rc == 0, outLength == UInt64(out.count) else { throw .unexpectedFailure(call: "crypto_secretstream_xchacha20poly1305_push") }
        finished = final
        return out
    }

    /// Decrypts and authenticates the next chunk.
    /// - Returns: the plaintext, and whether this chunk is the final one.
    /// - Throws: `SodiumError.authenticationFailed` for a chunk that does not authenticate here
    ///   (altered, out of place, of another stream, or shorter than the overhead), or any chunk
    ///   after the final one.
    public func pull(_ chunk: UnsafeRawBufferPointer, associatedData: [UInt8] = []) throws(SodiumError) -> (plaintext: [UInt8], final: Bool) {
        guard !finished, chunk.count >= Self.overheadByteCount else { throw .authenticationFailed }
        var out = [UInt8](repeating: 0, count: chunk.count - Self.overheadByteCount)
        var outLength: UInt64 = 0
        var tag: UInt8 = 0
        let rc = state.withUnsafeMutableBytes { s in
            out.withUnsafeMutableBufferPointer { o in
                associatedData.withUnsafeBufferPointer { ad in
                    crypto_secretstream_xchacha20poly1305_pull(
                        s.baseAddress!.assumingMemoryBound(to: crypto_secretstream_xchacha20poly1305_state.self),
                        o.baseAddress, &outLength, &tag, chunk.baseAddress!.assumingMemoryBound(to: UInt8.self),
                        UInt64(chunk.count), ad.baseAddress, UInt64(ad.count))
                }
            }
        }
        guard rc == 0, outLength == UInt64(out.count) else { throw .authenticationFailed }
        // Only the two tags this project writes are accepted: PUSH and REKEY are never made.
        if tag == crypto_secretstream_xchacha20poly1305_tag_final() {
            finished = true
            return (out, true)
        }
        guard tag == crypto_secretstream_xchacha20poly1305_tag_message() else { throw .authenticationFailed }
        return (out, false)
    }
}
