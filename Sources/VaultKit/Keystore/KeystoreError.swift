/// Errors of the keystore layer: one case per outcome a user or the receiving system can tell
/// apart. No case carries a secret; the CLI turns each into its own message and hint.
public enum KeystoreError: Error, Equatable, Sendable {
    /// The file is empty (zero bytes): perhaps a creation that never finished, or a wrong path.
    case emptyFile(path: String)
    /// The file does not start with the keystore magic: it is not a vault keystore.
    case notAKeystore(path: String)
    /// The file ends inside its header: it was cut short (a keystore is never written that way,
    /// because it only becomes visible once complete). A log cut below what the committed
    /// state records is `.damaged` ("cut short").
    case truncated(path: String)
    /// The file was written by a newer vault (format `found`; this one reads up to `supported`).
    /// It is refused, never misread.
    case newerVersion(found: Int, supported: Int)
    /// The file is a keystore but damaged: a checksum or MAC fails, a length or value is out of
    /// range, a record does not authenticate, or the log is shorter than its committed state
    /// says. `detail` names what (a record by sequence number and position), never any secret.
    case damaged(detail: String)
    /// An empty passphrase: never accepted, neither to create nor to unlock.
    case emptyPassphrase
    /// No passphrase slot unwraps with this passphrase. Either it is the wrong passphrase, or a
    /// slot was altered (its KDF profile edited, say); `profiles` are the KDF profiles the
    /// passphrase slots ask for, in header order, so a profile that looks wrong can be noticed.
    case wrongPassphrase(profiles: [KDFProfile])
    /// No key-file slot unwraps with this key file (the wrong key file, or an altered slot).
    case wrongKeyFile
    /// The keystore has no key slot of the kind offered (`offered` is "passphrase" or "key file").
    case unlockMethodNotAvailable(offered: String, available: [String])
    /// Group or others may access the file (`mode` is the permission bits). Refused, as OpenSSH
    /// refuses such private keys; the fix is `chmod 600`.
    case permissionsTooOpen(path: String, mode: UInt32)
    /// The file or folder belongs to another user (`owner` is its uid), or is reached through a
    /// symlink another user owns: that user could change or replace it. Refused, as OpenSSH does.
    case ownedByAnotherUser(path: String, owner: UInt32)
    /// The folder may be written by group or others and has no sticky bit: anyone who can write
    /// it can replace the keystore, its key file or its lock file. `mode` is its permission bits.
    case folderWritableByOthers(path: String, mode: UInt32)
    /// A symlink where none is allowed (the `.lock` sidecar): refused, never followed.
    case symlinkRefused(path: String)
    /// A key file that is not exactly 32 bytes.
    case invalidKeyFile(path: String, size: Int)
    /// A keystore or key file already exists where one was to be created; it is never overwritten.
    case alreadyExists(path: String)
    /// No file at `path`.
    case notFound(path: String)
    /// A system call failed: `operation` names it, `errno` is the system's error number.
    case io(operation: String, path: String, errno: Int32)
    /// Another process held the keystore's lock for longer than `seconds`.
    case lockTimeout(path: String, seconds: Double)
    /// The blob `blobID` was stored before, under `label`: a replay, refused whatever the options.
    case replay(blobID: String, label: String)
    /// An entry with this label (or one equal to it after NFKC and without default-ignorable
    /// code points) exists; only an explicit replace may supersede it.
    case labelInUse(label: String)
    /// No entry has this label.
    case noSuchEntry(label: String)
    /// An entry or value that the keystore cannot store: `detail` says which rule it breaks.
    case invalidEntry(detail: String)
    /// Another holder kept the entry's token lease for longer than we were willing to wait.
    case leaseTimeout(label: String)
    /// Our token lease expired and another process took it before we stored the new state;
    /// our new state was not stored (see docs/KEYSTORE.md, "Token leases").
    case leaseLost(label: String)
    /// Another process changed or removed the unlock method this handle was opened with (and
    /// re-keyed the keystore) since it was opened: open the keystore again.
    case unlockMethodChanged(path: String)
    /// No unlock method has this name.
    case noSuchUnlockMethod(name: String)
    /// An unlock method with this name exists already.
    case unlockMethodExists(name: String)
    /// A name that is not 1 to 32 of `a-z 0-9 . _ -`, starting with a letter or digit.
    case invalidUnlockMethodName(name: String)
    /// The keystore has the most unlock methods it can hold (`maximum`).
    case tooManyUnlockMethods(maximum: Int)
    /// The last unlock method cannot be removed: nothing would unlock the keystore.
    case lastUnlockMethod(name: String)
    /// No identity has this fingerprint.
    case noSuchIdentity(fingerprint: String)
    /// The identity was retired at `retired` (RFC 3339): blobs sealed to it are refused.
    case identityRetired(fingerprint: String, retired: String)
    /// The identity is held already, in `state`: an import adds nothing.
    case identityExists(fingerprint: String, state: IdentityState)
    /// The current identity cannot be retired: new blobs are sealed to it. Rotate first.
    case currentIdentity(fingerprint: String)
    /// The file is not a vault backup (it does not start with the backup magic).
    case notABackup(path: String)
    /// The backup ends early: `found` bytes where its header says `expected` (nil when even its
    /// header is cut). Nothing of it is used.
    case backupTruncated(path: String, expected: Int?, found: Int)
    /// The backup is damaged or was altered: `detail` names where (its header, a chunk and its
    /// byte position, bytes after its end, its contents). Nothing of it is used.
    case backupDamaged(path: String, detail: String)
    /// The backup was written by a newer vault (backup format `found`; this one reads up to `supported`).
    case backupNewerVersion(found: Int, supported: Int)
    /// The backup passphrase or key file (`kind`: "passphrase" or "key file") does not open the
    /// backup (or its header was altered and its checksum recomputed).
    case wrongBackupSecret(kind: String)
    /// The backup is protected by a `needed` ("passphrase" or "key file"), but a `offered` was given.
    case backupProtectedOtherwise(offered: String, needed: String)
    /// The database server holding the keystore (`location`: its address, never a password)
    /// could not be reached, or stopped answering within the time allowed; `detail` says which.
    /// A change it did not confirm was either stored whole or not at all (a transaction).
    case serverUnavailable(location: String, detail: String)
    /// The database server would not store a change, which it reads fine: the database or
    /// standby is read-only, this user may only read the keystore's schema, or the server's
    /// disk is full (`detail` is its answer). Nothing was stored. A read of secrets, which must
    /// write its audit record, then fails with `readNotLogged` as on a read-only file.
    case serverReadOnly(location: String, detail: String)
    /// The database server refused a request (authentication, TLS, permissions, or a statement):
    /// `detail` is its answer, which never holds a secret vault sent (vault sends none in clear).
    case serverRefused(location: String, detail: String)
    /// The libsodium layer failed (out of memory, or an unexpected failure).
    case sodium(SodiumError)
    /// A read of secrets was refused because its audit record could not be written (`cause`:
    /// the keystore cannot be written here) and the setting `unlogged-reads` is not `on`.
    indirect case readNotLogged(cause: KeystoreError)
    /// The entry has `count` versions, none numbered `version` (1 is the oldest).
    case noSuchEntryVersion(label: String, version: Int, count: Int)
    /// The blob answers no hand-off request, and one is required: by the keystore's setting
    /// `require-request` (`bySetting`), else by the caller (`--require-request`).
    case requestRequired(label: String, bySetting: Bool)
    /// The blob carries a request code this keystore never issued.
    case unknownRequest(code: String)
    /// The request `code` (for `label`) was answered at `at` already: a code answers once.
    case requestAnswered(code: String, label: String, at: String)
    /// The request `code` (for `label`) was cancelled at `at`.
    case requestCancelled(code: String, label: String, at: String)
    /// The blob carries the request's code but another label than the request's.
    case requestLabelMismatch(code: String, requested: String, sealed: String)
    /// The request `code` (for `label`) expired at `expired`, before the blob was opened.
    case requestExpired(code: String, label: String, expired: String)
    /// No request has this code.
    case noSuchRequest(code: String)
    /// The audit log's chain is broken (`vault log --verify` names where); it is not exported.
    case auditLogBroken(AuditProblem)
}
