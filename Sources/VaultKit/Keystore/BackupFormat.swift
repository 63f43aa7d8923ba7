/// The backup file (docs/BACKUP.md): a clear header, then the contents — the keystore's
/// compacted file image behind a 16-byte contents header — as a `SecretStream` of chunks under a
/// key of the backup's own (a passphrase through Argon2id, or a key file).
///
/// ```
/// header (127) | chunk 1 | chunk 2 | … | chunk n (FINAL)
/// ```
struct BackupHeader {
    /// ASCII `vault-backup`.
    static let magic: [UInt8] = Array("vault-backup".utf8)
    static let version: UInt8 = 1
    static let saltByteCount = 16
    static let keyCheckByteCount = 32
    static let checksumByteCount = 32
    /// magic 12 · version 1 · kind 1 · profile 1 · contents length 8 · salt 16 · stream header 24.
    static let checkedByteCount = 12 + 1 + 1 + 1 + 8 + saltByteCount + 24
    /// The checked bytes, the key check and the checksum.
    static let byteCount = checkedByteCount + keyCheckByteCount + checksumByteCount
    /// Plaintext bytes per chunk; only the last chunk may hold fewer (0 … this many).
    static let chunkByteCount = 65_536
    /// Image length 8 · made 8, before the image.
    static let contentsHeaderByteCount = 16
    /// The most contents a backup may claim (1 TiB): a damaged length is refused, never allocated.
    static let maxContentsByteCount = 1 << 40

    var kind: UnlockSlot.Kind
    var profile: KDFProfile?
    /// The plaintext's length: contents header and image.
    var contentsLength: Int
    var salt: [UInt8]
    var streamHeader: [UInt8]
    var keyCheck: [UInt8] = [UInt8](repeating: 0, count: keyCheckByteCount)

    /// Bytes 0 … 62: what the key check covers.
    var checkedBytes: [UInt8] {
        var out = Self.magic + [Self.version, kind.rawValue, UnlockSlot.profileCode(profile)]
        out += be64(UInt64(contentsLength))
        out += salt + streamHeader
        return out
    }

    /// The whole header, key check and checksum included.
    var encoded: [UInt8] {
        let head = checkedBytes + keyCheck
        return head + SHA256.hash(head)
    }

    /// How many chunks carry `contentsLength` bytes (at least one: the FINAL chunk).
    var chunkCount: Int { max(1, (contentsLength + Self.chunkByteCount - 1) / Self.chunkByteCount) }

    /// The plaintext length of chunk `i` (from 0).
    func plaintextLength(ofChunk i: Int) -> Int { min(Self.chunkByteCount, contentsLength - i * Self.chunkByteCount) }

    /// The size of the whole backup file this header describes.
    var fileByteCount: Int { Self.byteCount + contentsLength + chunkCount * SecretStream.overheadByteCount }

    /// Reads a header, in this order: magic (a proper prefix of it is a cut file), version,
    /// length, checksum, fields. No key is needed; nothing secret is read.
    /// - Throws: `KeystoreError.notABackup`, `.backupTruncated`, `.backupNewerVersion`, `.backupDamaged`.
    static func parse(_ b: [UInt8], path: String) throws(KeystoreError) -> BackupHeader {
        let m = min(b.count, magic.count)
        guard Array(b[0..<m]) == Array(magic[0..<m]) else { throw .notABackup(path: path) }
        guard b.count > magic.count else { throw .backupTruncated(path: path, expected: nil, found: b.count) }
        let version = b[magic.count]
        if version > Self.version { throw .backupNewerVersion(found: Int(version), supported: Int(Self.version)) }
        guard version == Self.version else { throw .backupDamaged(path: path, detail: "its header names format version 0") }
        guard b.count >= byteCount else { throw .backupTruncated(path: path, expected: nil, found: b.count) }
        let head = Array(b[0..<(byteCount - checksumByteCount)])
        // The checksum tells damage from a wrong passphrase before the KDF runs. It is no MAC:
        // the key check, then every chunk's authentication, is what an attacker cannot forge.
        guard SHA256.hash(head) == Array(b[(byteCount - checksumByteCount)..<byteCount]) else {
            throw .backupDamaged(path: path, detail: "its header's checksum does not match")
        }
        var r = ByteReader(head, at: magic.count + 1, what: "backup header")
        let damaged = KeystoreError.backupDamaged(path: path, detail: "its header holds values no vault writes")
        do throws(KeystoreError) {
            guard let kind = UnlockSlot.Kind(rawValue: try r.u8()) else { throw damaged }
            let profile: KDFProfile?
            switch (kind, try r.u8()) {
            case (.keyFile, 0): profile = nil
            case (.passphrase, 1): profile = .interactive
            case (.passphrase, 2): profile = .moderate
            case (.passphrase, 3): profile = .sensitive
            // Only the three named limits: a backup can never ask for hours of work or gigabytes.
            default: throw damaged
            }
            let length = try r.int("contents length", max: maxContentsByteCount)
            guard length >= contentsHeaderByteCount else { throw damaged }
            let salt = try r.take(saltByteCount)
            if kind == .keyFile, salt.contains(where: { $0 != 0 }) { throw damaged }
            var h = BackupHeader(kind: kind, profile: profile, contentsLength: length, salt: salt,
                                 streamHeader: try r.take(SecretStream.headerByteCount))
            h.keyCheck = try r.take(keyCheckByteCount)
            return h
        } catch {
            if case .backupDamaged = error { throw error }
            throw damaged
        }
    }
}

/// The backup's keys, each derived from its key-encryption key (the Argon2id output, or the key
/// file's 32 bytes) under its own context, so the stream key is never the key file itself (a key
/// file that also unlocked a keystore would otherwise be one key in two uses).
struct BackupKeys {
    let stream: SecretBytes
    let check: SecretBytes

    init(kek: SecretBytes) throws(KeystoreError) {
        do {
            stream = try GenericHash.deriveSubkey(context: Array("vault-backup stream key v1".utf8), key: kek, length: 32)
            check = try GenericHash.deriveSubkey(context: Array("vault-backup check key v1".utf8), key: kek, length: 32)
        } catch { throw .sodium(error) }
    }

    /// BLAKE2b-keyed(32, check key, header bytes 0 … 62), in secret memory for the comparison.
    func keyCheck(_ header: BackupHeader) throws(KeystoreError) -> SecretBytes {
        do { return try GenericHash.deriveSubkey(context: header.checkedBytes, key: check, length: BackupHeader.keyCheckByteCount) } catch {
            throw .sodium(error)
        }
    }

    /// The KEK of a backup protected by `protection` with `salt` (the KDF runs here).
    static func kek(_ protection: KeystoreProtection, salt: [UInt8]) throws(KeystoreError) -> SecretBytes {
        switch protection {
        case .passphrase(let pass, let profile): return try kek(passphrase: pass, salt: salt, profile: profile)
        case .keyFile(let path): return try KeyFile.read(at: path)
        }
    }

    /// The KEK of a read header from the secret offered, which must be of the header's kind.
    /// - Throws: `KeystoreError.backupProtectedOtherwise`, `.emptyPassphrase`, key file errors, `.sodium`.
    static func kek(_ unlock: KeystoreUnlock, for header: BackupHeader) throws(KeystoreError) -> SecretBytes {
        guard unlock.kind == header.kind else {
            throw .backupProtectedOtherwise(offered: unlock.kind.words, needed: header.kind.words)
        }
        switch unlock {
        case .passphrase(let pass): return try kek(passphrase: pass, salt: header.salt, profile: header.profile ?? .moderate)
        case .keyFile(let path): return try KeyFile.read(at: path)
        }
    }

    private static func kek(passphrase: SecretBytes, salt: [UInt8], profile: KDFProfile) throws(KeystoreError) -> SecretBytes {
        guard passphrase.count > 0 else { throw .emptyPassphrase }
        do { return try PasswordHash.deriveKey(passphrase: passphrase, salt: salt, profile: profile, length: 32) } catch {
            throw .sodium(error)
        }
    }
}

/// Encrypting and decrypting a backup's contents. Both run over a byte sink or source, so a
/// backup is written and read one chunk at a time.
enum BackupStream {
    /// The contents header: the image's length and when the backup was made (Unix seconds).
    static func contentsHeader(imageLength: Int, made: Int64) -> [UInt8] { be64(UInt64(imageLength)) + be64(UInt64(made)) }

    /// Writes the header (its stream header and key check filled in here) and every chunk of
    /// `contentsHeader ‖ image` to `sink`.
    static func write(header h: BackupHeader, keys: BackupKeys, contents prefix: [UInt8], image: [UInt8],
                      to sink: ([UInt8]) throws(KeystoreError) -> Void) throws(KeystoreError) {
        var header = h
        let stream: SecretStream
        do { stream = try SecretStream.push(key: keys.stream) } catch { throw .sodium(error) }
        header.streamHeader = stream.header
        header.keyCheck = try keys.keyCheck(header).withUnsafeBytes { Array($0) }
        let headerBytes = header.encoded
        try sink(headerBytes)
        for i in 0..<header.chunkCount {
            let start = i * BackupHeader.chunkByteCount
            let plain = slice(prefix, image, from: start, count: header.plaintextLength(ofChunk: i))
            let chunk = try plain.withBytes { (p) throws(KeystoreError) -> [UInt8] in
                // The first chunk authenticates the whole clear header with it.
                do throws(SodiumError) { return try stream.push(p, final: i == header.chunkCount - 1, associatedData: i == 0 ? headerBytes : []) } catch {
                    throw .sodium(error)
                }
            }
            try sink(chunk)
        }
    }

    /// `count` bytes of `prefix ‖ image` from `start`.
    private static func slice(_ prefix: [UInt8], _ image: [UInt8], from start: Int, count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        let end = start + count
        if start < prefix.count { out += prefix[start..<min(end, prefix.count)] }
        let a = max(start, prefix.count) - prefix.count, b = end - prefix.count
        if b > a { out += image[a..<b] }
        return out
    }

    /// What a backup holds, read and authenticated.
    struct Contents {
        let header: BackupHeader
        let image: [UInt8]
        /// Unix seconds.
        let made: Int64
    }

    /// Reads a whole backup from `source` (which returns up to n bytes, fewer only at the end),
    /// checking, in order: the header (`BackupHeader.parse`), the key (`kek`, then the key
    /// check), every chunk in turn (a cut file is `backupTruncated` as soon as it is seen, an
    /// altered chunk `backupDamaged` naming it), the FINAL tag on the last chunk only, nothing
    /// after it, and the contents header. Nothing is returned unless all of it holds.
    static func read(_ source: (Int) throws(KeystoreError) -> [UInt8], path: String,
                     kek: (BackupHeader) throws(KeystoreError) -> SecretBytes) throws(KeystoreError) -> Contents {
        let headerBytes = try source(BackupHeader.byteCount)
        let header = try BackupHeader.parse(headerBytes, path: path)
        let keys = try BackupKeys(kek: try kek(header))
        guard try keys.keyCheck(header).constantTimeEquals(header.keyCheck) else {
            throw .wrongBackupSecret(kind: header.kind.words)
        }
        let stream: SecretStream
        do { stream = try SecretStream.pull(key: keys.stream, header: header.streamHeader) } catch {
            throw .backupDamaged(path: path, detail: "its stream header is refused")
        }
        var plain: [UInt8] = []
        plain.reserveCapacity(header.contentsLength)
        var offset = BackupHeader.byteCount
        let n = header.chunkCount
        for i in 0..<n {
            let size = header.plaintextLength(ofChunk: i) + SecretStream.overheadByteCount
            let chunk = try source(size)
            guard chunk.count == size else {
                throw .backupTruncated(path: path, expected: header.fileByteCount, found: offset + chunk.count)
            }
            let opened = try chunk.withBytes { (c) throws(KeystoreError) -> (plaintext: [UInt8], final: Bool) in
                do throws(SodiumError) { return try stream.pull(c, associatedData: i == 0 ? headerBytes : []) } catch {
                    throw .backupDamaged(path: path, detail: "chunk \(i + 1) of \(n), bytes \(offset) to \(offset + size - 1), does not authenticate")
                }
            }
            // A FINAL tag anywhere but on the last chunk, or none there, is an altered stream.
            guard opened.final == (i == n - 1) else {
                throw .backupDamaged(path: path, detail: "chunk \(i + 1) of \(n) is marked as \(opened.final ? "the last" : "not the last")")
            }
            plain += opened.plaintext
            offset += size
        }
        guard try source(1).isEmpty else { throw .backupDamaged(path: path, detail: "more bytes follow its end at byte \(offset)") }
        let imageLength = Int(readBE64(plain, 0))
        let made = readBE64(plain, 8)
        guard imageLength == plain.count - BackupHeader.contentsHeaderByteCount, made < UInt64(Int64.max) else {
            throw .backupDamaged(path: path, detail: "its contents header does not match its contents")
        }
        return Contents(header: header, image: Array(plain[BackupHeader.contentsHeaderByteCount...]), made: Int64(made))
    }
}
