import ArgumentParser
import FoundationEssentials
import Glibc
import VaultKit

/// The options that protect a backup with a secret of its own (issue 12).
struct BackupSecretOptions: ParsableArguments {
    @Option(name: .customLong("backup-passphrase-file"), help: ArgumentHelp(
        "The backup's own passphrase, from the first line of this file (else it is asked at the terminal).", valueName: "file"))
    var passphraseFile: String?

    @Option(name: .customLong("backup-key-file"), help: ArgumentHelp(
        "Protect the backup with this key file instead of a passphrase (32 bytes; vault backup makes it if it does not exist).",
        valueName: "file"))
    var keyFile: String?

    /// Usage mistakes (called from `execute`: a `CLIFailure` from `validate` would reach argument-parser).
    func checkUsage() throws {
        if passphraseFile != nil, keyFile != nil {
            throw CLIFailure.usage("give --backup-passphrase-file or --backup-key-file, not both: a backup is protected by one of them")
        }
    }
}

/// `vault backup -o FILE`: an encrypted copy of the whole keystore (issue 12, docs/BACKUP.md).
struct BackupCommand: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write an encrypted backup of the whole keystore, under a passphrase or key file of its own.",
        discussion: """
        The backup holds everything the keystore holds: entries with their history, the replay \
        ledger, identities (retired ones too), unlock methods, Exact Online tokens, settings. It \
        is encrypted with a passphrase of its own (asked twice, or --backup-passphrase-file; \
        weak ones refused unless --allow-weak-passphrase) or a key file of its own \
        (--backup-key-file: an existing one, or a new one made there), in authenticated chunks \
        so that damage or a cut is found. It is written to a new file (mode 0600, never over \
        an existing one), read back and verified before it gets its name: a killed backup \
        leaves no file. Keep it, and its passphrase or key file, apart from the keystore; \
        restore it with vault restore (SECURITY.md says what it protects).

        Examples:
          vault backup -o /media/usb/keystore-2026-12-01.backup
          vault backup --key-file /srv/vault/keystore.key \\
            --backup-key-file /root/backup.key -o /backup/keystore.backup
        """
    )
    static let holdsSecrets = true

    @Option(name: .shortAndLong, help: ArgumentHelp("The new backup file (mode 0600).", valueName: "file"))
    var output: String?

    @OptionGroup var secret: BackupSecretOptions

    @Option(help: ArgumentHelp("Argon2id limits for the backup's passphrase: interactive, moderate or sensitive (default moderate).",
                               valueName: "profile"))
    var kdf: KDFProfile?

    @Flag(name: .customLong("allow-weak-passphrase"), help: "Accept a backup passphrase that is easy to guess (refused by default, saying why).")
    var allowWeakPassphrase = false

    @OptionGroup var keystore: KeystoreOptions

    mutating func execute(_ context: Context) async throws {
        try secret.checkUsage()
        guard let output, output != "-" else {
            throw CLIFailure.usage(output == nil ? "give the backup file: -o FILE" : "a backup is written to a file, never to standard output: give -o FILE",
                                   hints: ["the file is new and private (mode 0600)"])
        }
        if secret.keyFile != nil, kdf != nil || allowWeakPassphrase {
            throw CLIFailure.usage("\(kdf != nil ? "--kdf" : "--allow-weak-passphrase") applies to a backup passphrase; a key file is 32 random bytes")
        }
        let path = KeystoreAccess.path(keystore, context)
        var reads = KeystoreAccess.readFiles(keystore, context)
        let unlockKey = context.value(option: keystore.keyFile, variable: "VAULT_KEY_FILE")
        var makeKeyFile = false
        if let keyFile = secret.keyFile {
            // The backup is for when the keystore and what unlocks it are lost: its key is its own.
            if OutputFile.sameFile(keyFile, path) || unlockKey.map({ OutputFile.sameFile(keyFile, $0) }) ?? false || OutputFile.sameFile(keyFile, output) {
                throw CLIFailure.usage("--backup-key-file \(Escape.quoted(keyFile)) is \(OutputFile.sameFile(keyFile, output) ? "the backup file" : OutputFile.sameFile(keyFile, path) ? "the keystore" : "the key file that unlocks the keystore")",
                                       hints: ["a backup has a key file of its own, kept apart from the keystore and its key file: a lost disk must not take both"])
            }
            var st = stat()
            makeKeyFile = lstat(keyFile, &st) != 0
            if makeKeyFile {
                try Init.requireFolder(of: keyFile, for: "the backup key file", option: "--backup-key-file")
            } else {
                // Plainly another kind of file is named before the keystore's passphrase is asked.
                try KeystoreAccess.checkKeyFile(keyFile, option: "--backup-key-file")
            }
            reads.append(ReadFile(path: keyFile, role: "the backup's key file"))
        }
        if let file = secret.passphraseFile { reads.append(ReadFile(path: file, role: "the backup's passphrase file")) }
        try PrivateOutput.refuseExisting(output, reads: reads)
        // The backup's passphrase from a file is checked before the keystore's costs a KDF run.
        var passphrase: SecretBytes?
        if let file = secret.passphraseFile {
            passphrase = try KeystoreAccess.newPassphrase(file: file, option: "--backup-passphrase-file", allowWeak: allowWeakPassphrase, context)
        } else if secret.keyFile == nil {
            _ = try context.requireTerminal(for: "the backup's passphrase", option: "--backup-passphrase-file FILE or --backup-key-file FILE")
        }
        let (store, keystorePath) = try await KeystoreAccess.open(keystore, context)
        let protection: KeystoreProtection
        if let keyFile = secret.keyFile {
            if makeKeyFile { try await KeystoreAccess.run("cannot create the backup key file") { try KeyFile.create(at: keyFile) } }
            protection = .keyFile(path: keyFile)
        } else {
            if passphrase == nil, let terminal = context.terminal {
                terminal.line("The backup gets a passphrase of its own.")
            }
            let secret = try passphrase ?? KeystoreAccess.newPassphrase(file: nil, option: "--backup-passphrase-file",
                                                                       allowWeak: allowWeakPassphrase, context)
            protection = .passphrase(secret, profile: kdf ?? .moderate)
        }
        let summary: BackupSummary
        do {
            let file = try PrivateOutput(output, reads: reads)
            summary = try await KeystoreAccess.run("cannot back up \(Escape.quoted(path)) to \(Escape.quoted(output))") {
                do { return try await store.writeBackup(to: file.fd, path: output, protection: protection) } catch KeystoreError.io(_, _, let code) where [ENOSPC, EDQUOT, EFBIG].contains(code) {
                    throw file.failure(code)
                }
            }
            try file.name()
        } catch {
            // A key file made for a backup that was not written protects nothing.
            if makeKeyFile, let keyFile = secret.keyFile { unlink(keyFile) }
            throw error
        }
        KeystoreAccess.warnUnlogged(store, keystorePath)
        Console.hint("wrote \(Escape.quoted(output)) (\(summary.fileBytes) bytes), read it back and verified it: the whole keystore as of \(summary.made)")
        if let keyFile = secret.keyFile {
            Console.hint("it opens with \(makeKeyFile ? "the new key file" : "the key file") \(Escape.quoted(keyFile)) only: keep that apart from the backup and the keystore")
        } else {
            Console.hint("it opens with its own passphrase only: without it the backup is useless")
        }
        Console.hint("restore it with: vault restore \(InputFile.shellQuoted(output)) --keystore PATH")
    }
}

/// `vault restore FILE --keystore PATH`: a backup brought back into a new keystore (issue 12).
struct Restore: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup into a new keystore, unlocked as the backed-up one was.",
        discussion: """
        FILE is a backup written by vault backup (- for standard input), opened with its own \
        passphrase (asked, or --backup-passphrase-file) or key file (--backup-key-file). All of \
        it is checked first — a damaged, altered or cut backup is refused with its own message \
        and nothing is written — then a new keystore is created at --keystore (else \
        VAULT_KEYSTORE, else the default path), never over an existing file. It holds what the \
        keystore held when the backup was made, and opens with the passphrases and key files \
        it had then. A blob opened after the backup was made is not in its replay ledger: open \
        again only what you expect.

        Example:
          vault restore keystore.backup --keystore ~/.local/share/vault/keystore.vault
        """
    )
    static let holdsSecrets = true

    @Argument(help: ArgumentHelp("The backup file (- for standard input).", valueName: "file"))
    var file: String

    @OptionGroup var secret: BackupSecretOptions

    @Option(name: .customLong("keystore"), help: ArgumentHelp(
        "The new keystore to create: a file, or a postgres:// address (else VAULT_KEYSTORE, else $XDG_DATA_HOME/vault/keystore.vault).",
        valueName: "path"))
    var keystore: String?

    @Option(name: .customLong("db-password-file"), help: ArgumentHelp(
        "For a postgres:// keystore: read the database password from the first line of this file (else PGPASSFILE).", valueName: "file"))
    var dbPasswordFile: String?

    mutating func execute(_ context: Context) async throws {
        try secret.checkUsage()
        var options = KeystoreOptions()
        options.keystore = keystore
        options.dbPasswordFile = dbPasswordFile
        let path = KeystoreAccess.path(options, context)
        // A database address is checked (refused when it holds a password) before anything; the
        // database itself refuses to restore over a keystore (create never replaces).
        let database = KeystoreLocation.isDatabase(path) ? try KeystoreAccess.storage(path, options, context) : nil
        // Refused at once, before any passphrase: a keystore is never restored over anything.
        var st = stat()
        if database == nil, lstat(path, &st) == 0 {
            throw CLIFailure.failed("cannot restore into \(Escape.quoted(path)): it exists already; nothing was written",
                                    hints: ["a restore makes a new keystore; give another path with --keystore, or move the old file away yourself if you are sure"])
        }
        if database == nil, context.value(option: keystore, variable: "VAULT_KEYSTORE") == nil {
            // The default location's folder is made on first use, private to the user.
            try? FileManager.default.createDirectory(atPath: Path.directory(of: path),
                                                     withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        if database == nil { try Init.requireFolder(of: path, for: "the keystore", option: "--keystore") }
        let fd = file == "-" ? 0 : open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CLIFailure.failed("cannot read \(InputFile.display(file)): \(Errno.text())") }
        defer { if fd != 0 { close(fd) } }
        // The header of a backup file is read first (it changes nothing): a file that is no
        // backup, or is damaged, is named before a passphrase is asked, and the right secret is asked.
        var kind: UnlockMethodKind?
        if file != "-" {
            kind = try await KeystoreAccess.run("cannot restore the keystore") {
                try Keystore.backupProtection(fd: fd, path: file).kind
            }
        }
        var tries = 0
        while true {
            tries += 1
            let (unlock, typed) = try unlockSecret(kind, context)
            do {
                let summary: BackupSummary
                if let database {
                    summary = try await Keystore.restore(backup: fd, backupPath: file, unlock: unlock) { () throws(KeystoreError) in database }
                } else {
                    summary = try await Keystore.restore(backup: fd, backupPath: file, unlock: unlock, to: path)
                }
                Console.hint("restored \(Escape.quoted(path)) from \(InputFile.display(file)): the keystore as it was at \(summary.made)")
                Console.hint("it opens with the passphrases and key files it had then; check every record with: vault verify --keystore \(InputFile.shellQuoted(path))")
                return
            } catch KeystoreError.wrongBackupSecret(let k) where typed && tries < 3 && lseek(fd, 0, SEEK_SET) == 0 {
                context.terminal?.line("That \(k) does not open the backup; try again.")
            } catch {
                if database == nil, case KeystoreError.alreadyExists = error {
                    throw CLIFailure.failed("cannot restore into \(Escape.quoted(path)): it appeared meanwhile; nothing was written")
                }
                throw Messages.failure("cannot restore the keystore", error)
            }
        }
    }

    /// The backup's secret, of the kind its header asks for when known; and whether it was typed.
    private func unlockSecret(_ kind: UnlockMethodKind?, _ context: Context) throws -> (KeystoreUnlock, Bool) {
        if let keyFile = secret.keyFile {
            try KeystoreAccess.checkKeyFile(keyFile, option: "--backup-key-file")
            return (.keyFile(path: keyFile), false)
        }
        if let file = secret.passphraseFile {
            return (.passphrase(try KeystoreAccess.passphrase(fromFile: file, option: "--backup-passphrase-file")), false)
        }
        if kind == .keyFile {
            throw CLIFailure.usage("the backup is protected by a key file: give it with --backup-key-file FILE")
        }
        let terminal = try context.requireTerminal(for: "the backup's passphrase", option: "--backup-passphrase-file FILE or --backup-key-file FILE")
        let answer = try terminal.askSecret("Passphrase of the backup \(InputFile.display(file)): ")
        guard answer.count > 0 else { throw CLIFailure.failed("the passphrase is empty", hints: ["an empty passphrase is refused"]) }
        return (.passphrase(answer), true)
    }
}
