#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a new keystore (or a passphrase change) protects the master key.
public enum KeystoreProtection {
    /// A passphrase, stretched with Argon2id at one of libsodium's named profiles.
    case passphrase(SecretBytes, profile: KDFProfile)
    /// A key file: exactly 32 random bytes, mode 0600 (see `KeyFile.create`).
    case keyFile(path: String)
}

/// How an existing keystore is unlocked.
public enum KeystoreUnlock {
    /// A passphrase; the KDF profile is read from the header.
    case passphrase(SecretBytes)
    /// A key file.
    case keyFile(path: String)
}

/// Key files: 32 random bytes, created with O_EXCL and mode 0600, refused when others may read.
public enum KeyFile {
    /// The size of a key file.
    public static let byteCount = 32

    /// Writes a new key file of 32 random bytes (O_EXCL, 0600, fsynced, directory fsynced).
    /// - Throws: `KeystoreError.alreadyExists`, `.notFound` (no such directory), `.io`.
    public static func create(at path: String) throws(KeystoreError) {
        let key: SecretBytes
        do { key = try SecretBytes.random(count: byteCount) } catch { throw .sodium(error) }
        let fd = try FileIO.open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        // A short write is not an error: write the rest, so a failure is seen with its own errno
        // (a single write cut short by a full disk returns a count, and errno is then stale).
        var done = 0
        var failure: KeystoreError?
        while done < byteCount {
            let n = key.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { failure = FileIO.fail("write", path); break }
            done += n
        }
        if failure == nil, fsync(fd) != 0 { failure = FileIO.fail("fsync", path) }
        if let failure { close(fd); unlink(path); throw failure }
        close(fd)
        try FileIO.syncDirectory(FileIO.split(try FileIO.resolve(path)).dir)
    }

    /// Reads a key file straight into secret memory.
    /// - Throws: `KeystoreError.notFound`, `.permissionsTooOpen`, `.invalidKeyFile` (not 32 bytes), `.io`.
    public static func read(at path: String) throws(KeystoreError) -> SecretBytes {
        let fd = try FileIO.open(path, O_RDONLY)
        defer { close(fd) }
        let st = try FileIO.checkPrivate(fd, path)
        guard st.st_size == off_t(byteCount) else { throw .invalidKeyFile(path: path, size: Int(st.st_size)) }
        let key: SecretBytes
        do { key = try SecretBytes(count: byteCount) } catch { throw .sodium(error) }
        var done = 0
        while done < byteCount {
            let n = key.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, byteCount - done) }
            if n < 0 { if errno == EINTR { continue }; throw FileIO.fail("read", path) }
            if n == 0 { throw .invalidKeyFile(path: path, size: done) }
            done += n
        }
        return key
    }
}

extension KeystoreHeader {
    /// A new slot wrapping `masterKey` under `protection`. Runs the KDF for a passphrase.
    static func makeSlot(_ protection: KeystoreProtection, masterKey: SecretBytes, keystoreID: [UInt8]) throws(KeystoreError) -> Slot {
        let kind: SlotKind
        let profile: KDFProfile?
        let salt: [UInt8]
        let kek: SecretBytes
        switch protection {
        case .passphrase(let pass, let p):
            guard pass.count > 0 else { throw .emptyPassphrase }
            kind = .passphrase; profile = p; salt = Random.bytes(saltByteCount)
            do { kek = try PasswordHash.deriveKey(passphrase: pass, salt: salt, profile: p, length: 32) } catch { throw .sodium(error) }
        case .keyFile(let path):
            kind = .keyFile; profile = nil; salt = [UInt8](repeating: 0, count: saltByteCount)
            kek = try KeyFile.read(at: path)
        }
        let h = KeystoreHeader(keystoreID: keystoreID, slots: [])
        let nonce = Random.bytes(nonceByteCount)
        let ad = h.wrapAssociatedData(kind: kind, profile: profile, salt: salt)
        do {
            let wrapped = try XChaCha20Poly1305.seal(masterKey, associatedData: ad, nonce: nonce, key: kek)
            return Slot(kind: kind, profile: profile, salt: salt, nonce: nonce, wrappedKey: wrapped)
        } catch { throw .sodium(error) }
    }

    /// Unwraps the master key with `unlock`. Runs the KDF for a passphrase: call it before any
    /// lock is taken, and only on a header whose checksum has been verified.
    /// - Throws: `.unlockMethodNotAvailable`, `.emptyPassphrase`, `.wrongPassphrase`, `.wrongKeyFile`,
    ///   key file errors.
    func unwrap(_ unlock: KeystoreUnlock) throws(KeystoreError) -> SecretBytes {
        let wanted: SlotKind
        switch unlock {
        case .passphrase: wanted = .passphrase
        case .keyFile: wanted = .keyFile
        }
        guard let slot = slots.first(where: { $0.kind == wanted }) else {
            throw .unlockMethodNotAvailable(offered: wanted == .passphrase ? "passphrase" : "key file",
                                            available: slots.map { $0.kind == .passphrase ? "passphrase" : "key file" })
        }
        let kek: SecretBytes
        switch unlock {
        case .passphrase(let pass):
            guard pass.count > 0 else { throw .emptyPassphrase }
            do {
                kek = try PasswordHash.deriveKey(passphrase: pass, salt: slot.salt, profile: slot.profile ?? .moderate, length: 32)
            } catch { throw .sodium(error) }
        case .keyFile(let path):
            kek = try KeyFile.read(at: path)
        }
        let ad = wrapAssociatedData(kind: slot.kind, profile: slot.profile, salt: slot.salt)
        do {
            return try XChaCha20Poly1305.open(slot.wrappedKey, associatedData: ad, nonce: slot.nonce, key: kek)
        } catch {
            // The checksum matched, so the header is intact: a failure here is the wrong secret.
            guard error == .authenticationFailed else { throw .sodium(error) }
            throw wanted == .passphrase ? .wrongPassphrase : .wrongKeyFile
        }
    }
}
