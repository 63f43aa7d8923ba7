/// Why a secret-key string was refused. Never carries the text.
public enum SecretKeyTextError: Error, Equatable, Sendable {
    /// The Bech32 class of FORMAT.md §1 (with the `vault-secret-key-` prefix).
    case bech32(Bech32Error)
    /// Secret memory could not be allocated.
    case outOfMemory
}

extension PublicKey {
    /// The key's fingerprint (FORMAT.md §2).
    public var fingerprint: Fingerprint { Fingerprint(digest: digest) }

    /// The recipient string (FORMAT.md §1).
    public var recipient: String { KeyText.recipient(bytes) }

    /// Reads a recipient string.
    /// - Throws: `Bech32Error` with the class of §1.
    public init(recipient: String) throws(Bech32Error) {
        let bytes = try KeyText.parseRecipient(recipient)
        // 32 bytes by construction: the decoder refuses any other length.
        self = try! PublicKey(bytes: bytes)
    }

    /// Reads a public key file and checks every `# fingerprint:` comment against the key.
    /// - Throws: `PublicKeyFileError`; `.fingerprintMismatch` names the first comment that differs.
    public init(publicKeyFile text: [UInt8]) throws(PublicKeyFileError) {
        let (bytes, stated) = try PublicKeyFile.parse(text)
        let key = try! PublicKey(bytes: bytes)
        if let wrong = stated.first(where: { $0 != key.fingerprint }) {
            throw .fingerprintMismatch(stated: wrong, actual: key.fingerprint)
        }
        self = key
    }
}

/// The secret-key text form (FORMAT.md §3), kept in secret memory from end to end.
public enum SecretKeyText {
    /// The `VAULT-SECRET-KEY-1…` string of a key pair's secret key, in secret memory.
    /// - Throws: `SodiumError.outOfMemory`.
    public static func encode(_ keyPair: KeyPair) throws(SodiumError) -> SecretBytes {
        let text = try SecretBytes(count: KeyText.secretKeyLength)
        text.withUnsafeMutableBytes { out in
            var i = 0
            keyPair.secretKey.withUnsafeBytes { key in
                Bech32.encode(hrp: KeyText.secretKeyHRP, bytes: key, uppercase: true) { out[i] = $0; i += 1 }
            }
        }
        return text
    }

    /// The key pair of a secret-key string (any single case, surrounding white space ignored).
    /// - Throws: `SecretKeyTextError`.
    public static func decode(_ text: SecretBytes) throws(SecretKeyTextError) -> KeyPair {
        let key: SecretBytes
        do { key = try SecretBytes(count: KeyText.keyByteCount) } catch { throw .outOfMemory }
        let result = text.withUnsafeBytes { t in
            key.withUnsafeMutableBytes { k in
                var s = t[...]
                while let c = s.first, TextLines.isWhiteSpace(c) { s = s.dropFirst() }
                while let c = s.last, TextLines.isWhiteSpace(c) { s = s.dropLast() }
                return Result { () throws(Bech32Error) in
                    try Bech32.decode(UnsafeRawBufferPointer(rebasing: s), hrp: KeyText.secretKeyHRP, into: k)
                }
            }
        }
        do throws(Bech32Error) { try result.get() } catch { throw .bech32(error) }
        do { return try KeyPair(secretKey: key) } catch { throw .outOfMemory }
    }
}
