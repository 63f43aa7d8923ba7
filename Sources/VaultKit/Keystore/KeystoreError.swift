/// Errors of the keystore layer: one case per outcome a user or the receiving system can tell
/// apart. No case carries a secret; the CLI turns each into its own message and hint.
public enum KeystoreError: Error, Equatable, Sendable {
    /// The file is empty (zero bytes): perhaps a creation that never finished, or a wrong path.
    case emptyFile(path: String)
    /// The file does not start with the keystore magic: it is not a vault keystore.
    case notAKeystore(path: String)
    /// The file ends inside its header: it was cut short (a keystore is never written that way,
    /// because it only becomes visible once complete). A cut inside the record log is instead
    /// what a crash mid-append leaves, and is read as the last complete transaction.
    case truncated(path: String)
    /// The file was written by a newer vault (format `found`; this one reads up to `supported`).
    /// It is refused, never misread.
    case newerVersion(found: Int, supported: Int)
    /// The file is a keystore but damaged: its header checksum fails, a length or value is out of
    /// range, or a record does not authenticate. `detail` names what, never any secret.
    case damaged(detail: String)
    /// An empty passphrase: never accepted, neither to create nor to unlock.
    case emptyPassphrase
    /// The passphrase does not unwrap the master key (the header itself is intact).
    case wrongPassphrase
    /// The key file does not unwrap the master key (the header itself is intact).
    case wrongKeyFile
    /// The keystore has no key slot of the kind offered (`offered` is "passphrase" or "key file").
    case unlockMethodNotAvailable(offered: String, available: [String])
    /// Group or others may access the file (`mode` is the permission bits). Refused, as OpenSSH
    /// refuses such private keys; the fix is `chmod 600`.
    case permissionsTooOpen(path: String, mode: UInt32)
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
    /// An entry with this label exists; only an explicit replace may supersede it.
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
    /// The libsodium layer failed (out of memory, or an unexpected failure).
    case sodium(SodiumError)
}
