#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A backup as written or read (docs/BACKUP.md).
public struct BackupSummary: Sendable, Equatable {
    /// When the backup was made (RFC 3339 UTC).
    public let made: String
    /// The size of the keystore image it holds.
    public let imageBytes: Int
    /// The size of the backup file.
    public let fileBytes: Int
    /// What protects the backup (its own passphrase or key file, not the keystore's).
    public let kind: UnlockMethodKind
    /// The Argon2id profile of a passphrase-protected backup.
    public let profile: KDFProfile?

    init(_ c: BackupStream.Contents) {
        made = Timestamp.string(fromEpochSeconds: Int(c.made))
        imageBytes = c.image.count
        fileBytes = c.header.fileByteCount
        kind = c.header.kind == .passphrase ? .passphrase : .keyFile
        profile = c.header.profile
    }
}

extension Keystore {
    /// Writes an encrypted backup of the whole keystore to `fd`: its compacted file image
    /// (`image()`), so every record that counts — entries with their history, the replay
    /// ledger, identities in every state, token states and leases, settings, requests, audit
    /// records — and the header with every unlock method, under a passphrase or key file of the
    /// backup's own. The KDF runs first, before any lock; the image is taken under the shared
    /// lock. Then the backup is read back from `fd` and checked: every chunk authenticates, the
    /// contents equal what was written, and the keystore in it verifies as `verify()` does
    /// (every record decrypts under this keystore's key). The keystore changes only by the
    /// `backup` audit record `image()` commits before the copy is taken (the copy ends with it):
    /// a copy holds every secret, so it is logged as a read of secrets is (docs/KEYSTORE.md §2.8).
    /// - Parameter fd: a new, empty regular file open for reading and writing; written from
    ///   offset 0 and synced, but neither named nor closed here (the caller names it once this
    ///   returns, so no unverified backup ever has a name).
    /// - Parameter path: the backup's path, for messages.
    /// - Throws: `KeystoreError.emptyPassphrase`, key file errors, `.readNotLogged`, `.backupDamaged` (it did not
    ///   read back as written: the disk or file system is at fault), `.io`, lock errors, `.sodium`.
    @discardableResult
    public func writeBackup(to fd: Int32, path: String, protection: KeystoreProtection) async throws(KeystoreError) -> BackupSummary {
        let salt = protection.kind == .passphrase ? Random.bytes(BackupHeader.saltByteCount)
                                                  : [UInt8](repeating: 0, count: BackupHeader.saltByteCount)
        let kek = try BackupKeys.kek(protection, salt: salt)
        let image = try await image()
        // The keys the image was made under (image() caught up with any re-key first).
        let imageKeys = keys
        let made = Int64(FileIO.now())
        let prefix = BackupStream.contentsHeader(imageLength: image.count, made: made)
        let header = BackupHeader(kind: protection.kind, profile: protection.profile, contentsLength: prefix.count + image.count,
                                  salt: salt, streamHeader: [])
        var written = 0
        try BackupStream.write(header: header, keys: try BackupKeys(kek: kek), contents: prefix, image: image) { (bytes) throws(KeystoreError) in
            try FileIO.writeAll(fd, bytes, at: written, path)
            written += bytes.count
        }
        try FileIO.sync(fd, path)
        // Read back from the file, not from memory: what the disk holds is what a restore gets.
        var offset = 0
        let back = try BackupStream.read({ (n) throws(KeystoreError) -> [UInt8] in
            let b = try FileIO.read(fd, at: offset, count: n, path)
            offset += b.count
            return b
        }, path: path, kek: { (_) throws(KeystoreError) -> SecretBytes in kek })
        guard back.image == image, back.made == made, written == back.header.fileByteCount else {
            throw .backupDamaged(path: path, detail: "it reads back differently from what was written")
        }
        let copy = Keystore(storage: MemoryKeystoreStorage(image: back.image), keystoreID: keystoreID, keys: imageKeys,
                            slot: slot, slotPublicKey: slotPublicKey)
        do { try await copy.verify() } catch {
            if case .damaged(let detail) = error { throw .backupDamaged(path: path, detail: "the keystore in it does not verify: \(detail)") }
            throw error
        }
        return BackupSummary(back)
    }

    /// Reads the backup from `fd` (a file or a pipe, read once from where it stands) and checks
    /// all of it — header, key, every chunk, the end, and that it holds a format-2 keystore —
    /// before creating a new keystore file at `path` from it, as `create` does: a new file of
    /// mode 0600 linked into place, never over anything that exists. The new keystore is the
    /// backed-up one: the same entries, history, ledger, identities, and the same unlock
    /// methods (the passphrases and key files that opened it when the backup was made).
    /// - Throws: `KeystoreError.notABackup`, `.backupTruncated`, `.backupDamaged`,
    ///   `.backupNewerVersion`, `.backupProtectedOtherwise`, `.wrongBackupSecret`,
    ///   `.emptyPassphrase`, key file errors; `.alreadyExists`, `.notFound` (no such folder),
    ///   `.ownedByAnotherUser`, `.folderWritableByOthers`, `.io` for the new keystore.
    @discardableResult
    public static func restore(backup fd: Int32, backupPath: String, unlock: KeystoreUnlock,
                               to path: String) async throws(KeystoreError) -> BackupSummary {
        try await restore(backup: fd, backupPath: backupPath, unlock: unlock) { () throws(KeystoreError) in try FileKeystoreStorage(path: path) }
    }

    /// As `restore(backup:backupPath:unlock:to:)`, into the storage `storage` gives (another back
    /// end: a PostgreSQL database, docs/KEYSTORE.md §13), asked for once the backup is checked.
    /// - Throws: as `restore(backup:backupPath:unlock:to:)`, and the back end's errors.
    @discardableResult
    public static func restore(backup fd: Int32, backupPath: String, unlock: KeystoreUnlock,
                               into storage: () throws(KeystoreError) -> any KeystoreStorage) async throws(KeystoreError) -> BackupSummary {
        let contents = try BackupStream.read({ (n) throws(KeystoreError) -> [UInt8] in try readSome(fd, n, backupPath) },
                                             path: backupPath, kek: { (h) throws(KeystoreError) -> SecretBytes in try BackupKeys.kek(unlock, for: h) })
        let parts = try imageParts(contents.image, path: backupPath)
        try await storage().create(header: parts.header, state: parts.state, frames: [parts.log])
        return BackupSummary(contents)
    }

    /// How the backup in the regular file `fd` is protected, from its header alone (read at
    /// offset 0 without moving the file's offset; no key is needed): so a caller asks for the
    /// right secret, and names a file that is no backup, or a damaged header, before asking.
    /// - Throws: `KeystoreError.notABackup`, `.backupTruncated`, `.backupNewerVersion`, `.backupDamaged`, `.io`.
    public static func backupProtection(fd: Int32, path: String) throws(KeystoreError) -> (kind: UnlockMethodKind, profile: KDFProfile?) {
        let h = try BackupHeader.parse(try FileIO.read(fd, at: 0, count: BackupHeader.byteCount, path), path: path)
        return (h.kind == .passphrase ? .passphrase : .keyFile, h.profile)
    }

    /// Splits an image into header, state slot A and log, checking what can be checked without
    /// the keystore's key: a format-2 header (checksum, slots), room for both state slots, slot
    /// B empty (an image is written with slot A only). The backup's authentication already
    /// vouches for every byte; this refuses contents no vault writes.
    private static func imageParts(_ image: [UInt8], path: String) throws(KeystoreError) -> (header: [UInt8], state: [UInt8], log: [UInt8]) {
        let parsed: [UInt8]
        do { parsed = try KeystoreHeader.parse(image, path: path).bytes } catch {
            throw .backupDamaged(path: path, detail: "its contents are not a format-2 keystore")
        }
        let l = parsed.count, s = KeystoreState.byteCount
        guard image.count >= l + 2 * s, image[(l + s)..<(l + 2 * s)].allSatisfy({ $0 == 0 }) else {
            throw .backupDamaged(path: path, detail: "its contents are not a keystore image")
        }
        return (parsed, Array(image[l..<(l + s)]), Array(image[(l + 2 * s)...]))
    }

    /// Up to `n` bytes from the current position of `fd`: fewer only at its end.
    private static func readSome(_ fd: Int32, _ n: Int, _ path: String) throws(KeystoreError) -> [UInt8] {
        guard n > 0 else { return [] }
        var out = [UInt8](repeating: 0, count: n)
        var done = 0
        while done < n {
            let r = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, n - done) }
            if r < 0 { if errno == EINTR { continue }; throw FileIO.fail("read", path) }
            if r == 0 { break }
            done += r
        }
        return done == n ? out : Array(out[0..<done])
    }
}

extension KeystoreProtection {
    /// The KDF profile of a passphrase.
    var profile: KDFProfile? {
        if case .passphrase(_, let profile) = self { return profile }
        return nil
    }
}
