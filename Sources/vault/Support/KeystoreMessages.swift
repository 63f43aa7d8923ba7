import Glibc
import VaultKit

/// Words for the keystore's errors and for refusals at FORMAT.md §6 steps 9–10.
extension Messages {
    static func keystore(_ e: KeystoreError) -> Explanation {
        switch e {
        case .emptyFile(let path):
            Explanation(text: "the keystore \(Escape.quoted(path)) is empty (0 bytes)",
                        hints: ["it is not a keystore; check --keystore / VAULT_KEYSTORE, or restore it from a backup"])
        case .notAKeystore(let path):
            Explanation(text: "\(Escape.quoted(path)) is not a vault keystore", hints: ["check --keystore / VAULT_KEYSTORE"])
        case .truncated(let path):
            Explanation(text: "the keystore \(Escape.quoted(path)) is cut short inside its header",
                        hints: ["restore it from a backup"])
        case .newerVersion(let found, let supported):
            Explanation(text: "the keystore is format version \(found); this vault reads up to version \(supported)",
                        hints: ["use a newer vault for this keystore"])
        case .damaged(let detail):
            Explanation(text: "the keystore is damaged (\(detail))", hints: ["restore it from a backup"])
        case .emptyPassphrase:
            Explanation(text: "the passphrase is empty", hints: ["an empty passphrase is refused; give one"])
        case .wrongPassphrase:
            Explanation(text: "wrong passphrase for the keystore", hints: ["check the passphrase (or --passphrase-file); the keystore itself is intact"])
        case .wrongKeyFile:
            Explanation(text: "this key file does not unlock the keystore", hints: ["check --key-file / VAULT_KEY_FILE; the keystore itself is intact"])
        case .unlockMethodNotAvailable(let offered, let available):
            Explanation(text: "the keystore cannot be unlocked with a \(offered)",
                        hints: ["it is unlocked with a \(available.joined(separator: " or a ")): "
                                + (available.contains("key file") ? "give --key-file" : "give --passphrase-file, or run at a terminal")])
        case .permissionsTooOpen(let path, let mode):
            Explanation(text: "\(Escape.quoted(path)) can be read by group or others (mode \(String(mode & 0o777, radix: 8))); refusing it",
                        hints: ["make it private: chmod 600 \(InputFile.shellQuoted(path))"])
        case .invalidKeyFile(let path, let size):
            Explanation(text: "the key file \(Escape.quoted(path)) is \(size) bytes, not \(KeyFile.byteCount)",
                        hints: ["a key file is exactly 32 random bytes, as `vault init --with-key-file` writes it"])
        case .alreadyExists(let path):
            Explanation(text: "\(Escape.quoted(path)) already exists; it is never overwritten",
                        hints: ["choose another path with --keystore, or remove the old file yourself if you are sure"])
        case .notFound(let path):
            Explanation(text: "no such file: \(Escape.quoted(path))",
                        hints: ["create a keystore with `vault init`, or point --keystore / VAULT_KEYSTORE at yours"])
        case .io(let operation, let path, let code):
            Explanation(text: "cannot \(ioVerb(operation)) \(Escape.quoted(path)): \(Errno.text(code))",
                        hints: ioHints(path: path, code: code))
        case .lockTimeout(let path, let seconds):
            Explanation(text: "another vault process has held \(Escape.quoted(path)) locked for over \(Int(seconds)) s",
                        hints: ["try again when it has finished"])
        case .replay(let blobID, let label):
            Explanation(text: "already opened: blob \(blobID) was stored as \(Escape.quoted(label)) (a replay)",
                        hints: ["the same blob is never stored twice; ask the sender to seal again if the credentials changed"])
        case .labelInUse(let label):
            Explanation(text: "an entry \(Escape.quoted(label)) already exists",
                        hints: ["add --replace to store it as the new version (the old one stays in its history), or --as LABEL to store it under another label"])
        case .noSuchEntry(let label):
            Explanation(text: "no entry \(Escape.quoted(label))", hints: ["see the labels with `vault list`"])
        case .invalidEntry(let detail):
            Explanation(text: "cannot store the entry: \(detail)")
        case .leaseTimeout(let label):
            Explanation(text: "the token lease of \(Escape.quoted(label)) is held by another process")
        case .leaseLost(let label):
            Explanation(text: "the token lease of \(Escape.quoted(label)) expired before the new state was stored")
        case .sodium(let s):
            sodium(s)
        }
    }

    /// A system call named in words ("write", not "pwrite").
    static func ioVerb(_ operation: String) -> String {
        switch operation {
        case "pwrite", "write": "write"
        case "pread", "read": "read"
        case "fsync": "flush to disk"
        case "ftruncate": "truncate"
        case "flock": "lock"
        case "fstat": "examine"
        case "realpath": "resolve"
        default: operation
        }
    }

    /// What to do about a failed system call where the cause is the user's to fix.
    static func ioHints(path: String, code: Int32) -> [String] {
        switch code {
        case EFBIG, ENOSPC, EDQUOT:
            return ["the disk is full or a file size limit was reached: free some space, then run the command again; "
                    + "what failed to be written was not kept"]
        case EACCES, EPERM, EROFS where path.hasSuffix(".lock") || path.contains(".tmp-"):
            let dir = Path.directory(of: path)
            return ["vault writes beside the keystore (its .lock file; a new copy to change the passphrase): "
                    + "the folder \(Escape.quoted(dir)) must be writable by this user; the keystore was not changed"]
        default:
            return []
        }
    }

    static func receive(_ e: ReceiveError) -> Explanation {
        switch e {
        case .open(let o): open(o)
        case .keystore(let k): keystore(k)
        }
    }
}
