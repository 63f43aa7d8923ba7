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
        case .wrongPassphrase(let profiles):
            // A slot edited to another KDF profile fails exactly like a wrong passphrase: never
            // claim the keystore is intact; name the profile the slot asks for.
            Explanation(text: "wrong passphrase for the keystore, or its key slot was altered (it asks for KDF profile "
                        + profiles.map(\.rawValue).joined(separator: ", ") + ")",
                        hints: ["check the passphrase (or --passphrase-file); if it is right and the keystore was not made with that profile, "
                                + "its header was edited: restore it from a backup"])
        case .wrongKeyFile:
            Explanation(text: "this key file does not unlock the keystore, or its key slot was altered",
                        hints: ["check --key-file / VAULT_KEY_FILE; if it is the right key file, restore the keystore from a backup"])
        case .unlockMethodNotAvailable(let offered, let available):
            Explanation(text: "the keystore cannot be unlocked with a \(offered)",
                        hints: ["it is unlocked with a \(available.joined(separator: " or a ")): "
                                + (available.contains("key file") ? "give --key-file" : "give --passphrase-file, or run at a terminal")])
        case .permissionsTooOpen(let path, let mode):
            Explanation(text: "\(Escape.quoted(path)) can be read by group or others (mode \(String(mode & 0o777, radix: 8))); refusing it",
                        hints: ["make it private: chmod 600 \(InputFile.shellQuoted(path))"])
        case .ownedByAnotherUser(let path, let owner):
            Explanation(text: "\(Escape.quoted(path)) belongs to another user (uid \(owner)); refusing it: that user could change or replace it",
                        hints: [path.hasSuffix(".lock")
                                ? "if no vault process is using the keystore, remove that lock file: rm \(InputFile.shellQuoted(path))"
                                : "vault trusts only files, folders and symlinks of the user running it (folders and symlinks of root too): "
                                  + "chown it to this user, or keep the keystore in a folder of your own"])
        case .folderWritableByOthers(let path, let mode):
            Explanation(text: "the folder \(Escape.quoted(path)) can be written by group or others (mode \(String(mode & 0o7777, radix: 8))) "
                        + "and has no sticky bit; refusing it: anyone who can write it could replace the keystore or its key file",
                        hints: ["make it writable by its owner only: chmod go-w \(InputFile.shellQuoted(path))"])
        case .symlinkRefused(let path):
            Explanation(text: "\(Escape.quoted(path)) is a symlink; refusing to follow it",
                        hints: ["remove it (rm \(InputFile.shellQuoted(path))); vault makes its lock file itself"])
        case .unlockMethodChanged(let path):
            Explanation(text: "the keystore \(Escape.quoted(path)) was re-keyed by another process, and the way it was unlocked here no longer opens it",
                        hints: ["run the command again with a current passphrase or key file"])
        case .noSuchUnlockMethod(let name):
            Explanation(text: "the keystore has no unlock method \(Escape.quoted(name))",
                        hints: ["unlock methods are named when they are added; the one vault init made is 'passphrase' or 'key-file'"])
        case .unlockMethodExists(let name):
            Explanation(text: "the keystore has an unlock method \(Escape.quoted(name)) already", hints: ["choose another name"])
        case .invalidUnlockMethodName(let name):
            Explanation(text: "\(Escape.quoted(name)) is not a valid unlock method name",
                        hints: ["1 to 32 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit"])
        case .tooManyUnlockMethods(let maximum):
            Explanation(text: "the keystore has \(maximum) unlock methods, the most it can hold", hints: ["remove one first"])
        case .lastUnlockMethod(let name):
            Explanation(text: "\(Escape.quoted(name)) is the keystore's only unlock method; removing it would leave nothing that opens it",
                        hints: ["add another unlock method first"])
        case .noSuchIdentity(let fingerprint):
            Explanation(text: "the keystore holds no identity \(Escape.quoted(fingerprint))",
                        hints: ["compare it with the fingerprint vault recipient prints: what was sealed to another key cannot be opened here"])
        case .identityRetired(let fingerprint, let retired):
            Explanation(text: "sealed to the key \(fingerprint), which was retired at \(retired): it opens nothing any more",
                        hints: ["ask the sender to seal again to your current recipient (vault recipient), and to replace the old public key file they kept"])
        case .identityExists(let fingerprint, let state):
            Explanation(text: "the keystore holds the identity \(fingerprint) already (\(state.rawValue)); nothing was changed",
                        hints: [state == .current ? "it is the current identity: vault recipient prints it"
                                : "to open blobs sealed to it again, make it current: vault identity import --make-current FILE"])
        case .currentIdentity(let fingerprint):
            Explanation(text: "\(fingerprint) is the current identity, which new blobs are sealed to; it cannot be retired",
                        hints: ["make a new current identity first (vault rotate), publish it, and retire this one once senders have moved to it"])
        case .notABackup(let path):
            Explanation(text: "\(Escape.quoted(path)) is not a vault backup", hints: ["give the file vault backup -o wrote"])
        case .backupTruncated(let path, let expected, let found):
            Explanation(text: found == 0 ? "the backup \(Escape.quoted(path)) is empty (0 bytes)"
                        : "the backup \(Escape.quoted(path)) is cut short: " + (expected.map { "\(found) of its \($0) bytes are there" }
                                                                              ?? "it ends inside its header, after \(found) bytes"),
                        hints: ["nothing was restored; copy the whole backup file again from where it is kept, or use another backup"])
        case .backupDamaged(let path, let detail):
            Explanation(text: "the backup \(Escape.quoted(path)) is damaged or was altered (\(detail))",
                        hints: ["nothing was restored; copy the backup again from where it is kept, or use another backup"])
        case .backupNewerVersion(let found, let supported):
            Explanation(text: "the backup is format version \(found); this vault reads up to version \(supported)",
                        hints: ["restore it with a newer vault"])
        case .wrongBackupSecret(let kind):
            Explanation(text: kind == "passphrase" ? "wrong passphrase for the backup (or its header was altered)"
                                                   : "this key file does not open the backup (or its header was altered)",
                        hints: [kind == "passphrase" ? "the backup has a passphrase of its own, set by vault backup; check --backup-passphrase-file"
                                                     : "the backup has a key file of its own, made by vault backup; check --backup-key-file"])
        case .backupProtectedOtherwise(let offered, let needed):
            Explanation(text: "the backup is protected by a \(needed), not a \(offered)",
                        hints: [needed == "key file" ? "give its key file: --backup-key-file FILE"
                                                     : "give its passphrase: --backup-passphrase-file FILE, or run at a terminal"])
        case .invalidKeyFile(let path, let size):
            Explanation(text: "the key file \(Escape.quoted(path)) is \(size) bytes, not \(KeyFile.byteCount)",
                        hints: ["a key file is exactly 32 random bytes, as `vault init --with-key-file` writes it"])
        case .alreadyExists(let path) where KeystoreLocation.isDatabase(path):
            Explanation(text: "the database at \(Escape.quoted(path)) holds a keystore already; it is never replaced",
                        hints: ["choose another database or ?schema=, or drop the old schema yourself if you are sure"])
        case .alreadyExists(let path):
            Explanation(text: "\(Escape.quoted(path)) already exists; it is never overwritten",
                        hints: ["choose another path with --keystore, or remove the old file yourself if you are sure"])
        case .notFound(let path) where KeystoreLocation.isDatabase(path):
            Explanation(text: "no keystore in the database at \(Escape.quoted(path)) (its schema has no vault tables)",
                        hints: ["create one with `vault init --keystore ADDRESS`, or move one there with `vault migrate`; check the database and ?schema="])
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
            Explanation(text: "the token lease of \(Escape.quoted(label)) is held by another process",
                        hints: ["another vault process is refreshing its tokens and held the lease longer than this one waits; "
                                + "a lease expires by itself: run the command again, and look for a vault process that is stuck"])
        case .leaseLost(let label):
            Explanation(text: "the token lease of \(Escape.quoted(label)) expired before the new state was stored",
                        hints: ["this process took longer than its lease and another took the lease over; what it received was not stored: "
                                + "run the command again (if Exact then refuses the stored refresh token, connect the entry again with vault connect)"])
        case .serverUnavailable(let location, let detail):
            Explanation(text: "cannot reach the keystore's database \(Escape.quoted(location)): \(Escape.forTerminal(detail))",
                        hints: ["check that the server runs and that this host reaches it; nothing was changed that was not reported stored"])
        case .serverReadOnly(let location, let detail):
            Explanation(text: "the keystore's database \(Escape.quoted(location)) will not store changes: \(Escape.forTerminal(detail))",
                        hints: ["connect to the primary server as a user that may write the keystore's schema (INSERT, UPDATE, DELETE); nothing was stored"])
        case .serverRefused(let location, let detail):
            Explanation(text: "the keystore's database \(Escape.quoted(location)) refused the request: \(Escape.forTerminal(detail))",
                        hints: detail.contains("SQLSTATE 28") || detail.contains("authentication") || detail.contains("TLS")
                            ? ["check the user, the password (PGPASSFILE or --db-password-file), sslmode, sslrootcert and the server's pg_hba.conf"]
                            : [])
        case .sodium(let s):
            sodium(s)
        case .readNotLogged(let cause):
            Explanation(text: "the read cannot be recorded in the keystore's audit log, so it is refused (\(keystore(cause).text))",
                        hints: ["every read of secrets is logged in the keystore: "
                                + (isDatabase(cause) ? "let this database user write the keystore's schema, on the primary server; "
                                                     : "make the keystore and its folder writable for this user; ")
                                + "if it must stay read-only, allow unlogged reads first (vault settings unlogged-reads on): such reads then leave no record"])
        case .noSuchEntryVersion(let label, let version, let count):
            Explanation(text: "entry \(Escape.quoted(label)) has \(count == 1 ? "one version" : "\(count) versions"); it has no entry version \(version)",
                        hints: ["see its versions with: vault show --history \(InputFile.shellQuoted(label))"])
        case .requestRequired(_, let bySetting):
            Explanation(text: "the blob answers no hand-off request of this keystore, and one is required ("
                        + (bySetting ? "the keystore's setting require-request is on)" : "--require-request)"),
                        hints: ["issue a request for this customer (vault request --label LABEL) and ask them to seal again with vault seal --request"]
                            + (bySetting ? ["to accept blobs without a request again: vault settings require-request off"] : []))
        case .unknownRequest(let code):
            Explanation(text: "the blob answers request \(Escape.quoted(code)), which this keystore never issued",
                        hints: ["it may answer a request of another keystore, or be forged: check with the customer by a channel you trust; "
                                + "vault requests lists this keystore's requests"])
        case .requestAnswered(let code, let label, let at):
            Explanation(text: "request \(Escape.quoted(code)) for \(Escape.quoted(label)) was answered already\(at.isEmpty ? "" : " (at \(at))"); a request is answered once",
                        hints: ["if the customer sends new credentials, issue a new request: vault request --label \(InputFile.shellQuoted(label))"])
        case .requestCancelled(let code, let label, let at):
            Explanation(text: "request \(Escape.quoted(code)) for \(Escape.quoted(label)) was cancelled\(at.isEmpty ? "" : " at \(at)")",
                        hints: ["if the customer should still send credentials, issue a new request: vault request --label \(InputFile.shellQuoted(label))"])
        case .requestLabelMismatch(let code, let requested, let sealed):
            Explanation(text: "the blob answers request \(Escape.quoted(code)), made for \(Escape.quoted(requested)), but is labelled \(Escape.quoted(sealed))",
                        hints: ["a request binds its label: ask the customer to seal again from the request text without changing the label"])
        case .requestExpired(let code, let label, let expired):
            Explanation(text: "request \(Escape.quoted(code)) for \(Escape.quoted(label)) expired at \(expired), before this blob was opened",
                        hints: ["issue a new request (vault request --label \(InputFile.shellQuoted(label))) and ask the customer to seal again"])
        case .noSuchRequest(let code):
            Explanation(text: "this keystore has no request \(Escape.quoted(code))",
                        hints: ["vault requests lists the requests this keystore issued, with their codes"])
        case .auditLogBroken(let problem):
            Explanation(text: "the keystore's audit log is broken: \(auditProblem(problem)); it is not exported",
                        hints: ["vault log --verify names the first broken link; compare with a backup and with the last export given to your auditor"])
        }
    }

    /// The first broken link of an audit chain, or what an export shows, in words.
    static func auditProblem(_ p: AuditProblem) -> String {
        switch p {
        case .missing(let n, let next): "record \(n) is missing (the next record is \(next)): records were removed"
        case .outOfOrder(let n, let after): "record \(n) comes after record \(after): records were reordered or repeated"
        case .brokenLink(let n):
            n == 1 ? "record 1 does not start the chain: it was changed"
                   : "record \(n) does not carry the hash of record \(n - 1): one of them was changed, or records between them removed"
        case .cutShort(let state, let log): "the log ends at record \(log), but the keystore's state records \(state): records were cut off the end"
        case .longerThanState(let state, let log): "the log holds \(log) records, more than the \(state) the keystore's state records"
        case .headMismatch(let n): "record \(n), the newest, is not the one the keystore's state records: it was changed"
        case .malformed(let n, let detail): "record \(n) is malformed (\(Escape.forTerminal(detail)))"
        case .otherKeystore: "the export is of another keystore"
        case .signature(let detail): "the export's signature does not hold: \(detail)"
        case .export(let inner): "the export itself was altered: \(auditProblem(inner))"
        case .olderThanExport(let k, let e):
            "the keystore's log holds \(k) records, the export \(e): the keystore was put back to an older copy, or records were cut off"
        case .differsFromExport(let n):
            "record \(n) differs from the export's: the log was rewritten since the export, or the keystore was put back to an older copy and written since"
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
        // (Each pattern carries the condition: a `where` after a list applies to its last item only.)
        case EACCES where besideKeystore(path), EPERM where besideKeystore(path), EROFS where besideKeystore(path):
            let dir = Path.directory(of: path)
            return ["vault writes beside the keystore (its .lock file; a new copy to change the passphrase): "
                    + "the folder \(Escape.quoted(dir)) must be writable by this user; the keystore was not changed"]
        default:
            return []
        }
    }

    /// Whether `e` is about a keystore in a database rather than a file.
    private static func isDatabase(_ e: KeystoreError) -> Bool {
        switch e {
        case .serverReadOnly, .serverRefused, .serverUnavailable: true
        default: false
        }
    }

    /// A file vault makes beside the keystore: its lock, or a temporary copy.
    private static func besideKeystore(_ path: String) -> Bool { path.hasSuffix(".lock") || path.contains(".tmp-") }

    static func receive(_ e: ReceiveError) -> Explanation {
        switch e {
        case .open(let o): open(o)
        case .keystore(let k): keystore(k)
        }
    }
}
