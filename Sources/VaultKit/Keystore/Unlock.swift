#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a new keystore (or a new unlock method) protects the master key.
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
        // Its folder must be trusted, as the keystore's: another user who may write it could
        // replace the key file.
        let fd = try FileIO.open(try FileIO.resolve(path), O_WRONLY | O_CREAT | O_EXCL, 0o600)
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
    /// The key file must belong to the running user, be private (mode 0600 or stricter) and
    /// sit in a trusted folder, reached through no symlink another user controls (`FileTrust`).
    /// - Throws: `KeystoreError.notFound`, `.permissionsTooOpen`, `.ownedByAnotherUser`,
    ///   `.folderWritableByOthers`, `.invalidKeyFile` (not 32 bytes), `.io`.
    public static func read(at path: String) throws(KeystoreError) -> SecretBytes {
        let real: String
        do { real = try FileIO.resolve(path) } catch {
            // A missing file is named as the caller gave it.
            if case .notFound = error { throw .notFound(path: path) }
            throw error
        }
        let fd: Int32
        do { fd = try FileIO.open(real, O_RDONLY) } catch {
            if case .notFound = error { throw .notFound(path: path) }
            throw error
        }
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

extension KeystoreProtection {
    var kind: UnlockSlot.Kind {
        switch self {
        case .passphrase: .passphrase
        case .keyFile: .keyFile
        }
    }

    /// The default name of an unlock method of this kind: `passphrase` or `key-file`.
    var defaultName: String { kind == .passphrase ? "passphrase" : "key-file" }
}

extension KeystoreUnlock {
    var kind: UnlockSlot.Kind {
        switch self {
        case .passphrase: .passphrase
        case .keyFile: .keyFile
        }
    }
}

extension UnlockSlot.Kind {
    /// "passphrase" or "key file", for messages.
    var words: String { self == .passphrase ? "passphrase" : "key file" }
}

/// What unlocking a header gives.
struct UnlockedSlot {
    let index: Int
    let opened: UnlockSlot.Opened
    let master: SecretBytes
}

extension KeystoreHeader {
    /// Unlocks with `unlock`: tries each slot of its kind in header order (one KDF per
    /// passphrase slot tried). Call it before any lock is taken, and only on a header whose
    /// checksum has been verified.
    /// - Throws: `.unlockMethodNotAvailable`, `.emptyPassphrase`, `.wrongPassphrase` (with the
    ///   profiles the slots ask for), `.wrongKeyFile`, key file errors, `.damaged`.
    func unlock(_ unlock: KeystoreUnlock) throws(KeystoreError) -> UnlockedSlot {
        let kind = unlock.kind
        let candidates = slots.indices.filter { slots[$0].kind == kind }
        guard !candidates.isEmpty else {
            var available: [String] = []
            for s in slots where !available.contains(s.kind.words) { available.append(s.kind.words) }
            throw .unlockMethodNotAvailable(offered: kind.words, available: available)
        }
        switch unlock {
        case .passphrase(let pass):
            guard pass.count > 0 else { throw .emptyPassphrase }
            for i in candidates {
                let slot = slots[i]
                let kek: SecretBytes
                do {
                    kek = try PasswordHash.deriveKey(passphrase: pass, salt: slot.salt, profile: slot.profile ?? .moderate, length: 32)
                } catch { throw .sodium(error) }
                if let found = try open(i, kek: kek) { return found }
            }
            // The checksum matched, but it is no MAC: a slot edited to another KDF profile fails
            // exactly like a wrong passphrase. Say which profiles were asked for.
            throw .wrongPassphrase(profiles: candidates.compactMap { slots[$0].profile })
        case .keyFile(let path):
            let kek = try KeyFile.read(at: path)
            for i in candidates { if let found = try open(i, kek: kek) { return found } }
            throw .wrongKeyFile
        }
    }

    /// Unlocks with a KEK at hand for a slot of `kind` with this salt and profile (a format-1
    /// keystore migrated meanwhile by another process: its slot kept salt and profile).
    func unlock(kek: SecretBytes, kind: UnlockSlot.Kind, salt: [UInt8], profile: KDFProfile?) throws(KeystoreError) -> UnlockedSlot? {
        for i in slots.indices where slots[i].kind == kind && slots[i].salt == salt && slots[i].profile == profile {
            if let found = try open(i, kek: kek) { return found }
        }
        return nil
    }

    private func open(_ i: Int, kek: SecretBytes) throws(KeystoreError) -> UnlockedSlot? {
        guard let opened = try slots[i].unwrap(kek: kek, keystoreID: keystoreID) else { return nil }
        return UnlockedSlot(index: i, opened: opened, master: try slots[i].openMaster(opened, keystoreID: keystoreID))
    }
}
