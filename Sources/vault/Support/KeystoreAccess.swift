import ArgumentParser
import Glibc
import VaultKit

/// The options of every command that reads or changes a keystore (CLI.md, "Unlocking a keystore"
/// and "Keystore location").
struct KeystoreOptions: ParsableArguments {
    @Option(name: .customLong("keystore"), help: ArgumentHelp(
        "The keystore file, or a postgres:// address (else VAULT_KEYSTORE, else $XDG_DATA_HOME/vault/keystore.vault).", valueName: "path"))
    var keystore: String?

    @Option(name: .customLong("db-password-file"), help: ArgumentHelp(
        "For a postgres:// keystore: read the database password from the first line of this file (else PGPASSFILE).", valueName: "file"))
    var dbPasswordFile: String?

    @Option(name: .customLong("key-file"), help: ArgumentHelp(
        "Unlock with this 32-byte key file (else VAULT_KEY_FILE).", valueName: "file"))
    var keyFile: String?

    @Option(name: .customLong("passphrase-file"), help: ArgumentHelp(
        "Read the passphrase from the first line of this file (else VAULT_PASSPHRASE_FILE, else it is asked at the terminal).",
        valueName: "file"))
    var passphraseFile: String?
}

/// Finding and unlocking the keystore the way CLI.md says: an option beats its variable; a key
/// file beats a passphrase; the terminal is asked only when nothing else gives a value.
enum KeystoreAccess {
    /// `--keystore`, else `VAULT_KEYSTORE`, else `$XDG_DATA_HOME/vault/keystore.vault`, else
    /// `~/.local/share/vault/keystore.vault`.
    static func path(_ options: KeystoreOptions, _ context: Context) -> String {
        if let p = context.value(option: options.keystore, variable: "VAULT_KEYSTORE") { return p }
        if let xdg = context.environment["XDG_DATA_HOME"], xdg.hasPrefix("/") { return xdg + "/vault/keystore.vault" }
        let home = context.environment["HOME"] ?? homeDirectory()
        return home + "/.local/share/vault/keystore.vault"
    }

    /// The user's home folder from the password database, for a process started without HOME.
    private static func homeDirectory() -> String {
        if let pw = getpwuid(getuid()), let dir = pw.pointee.pw_dir { return String(cString: dir) }
        return "/"
    }

    /// The files a keystore command reads, for the output checker (`OutputFile.refuseProtected`):
    /// the keystore, its lock file (beside the keystore with symlinks resolved, where the
    /// keystore layer puts it), and the key file or passphrase file from options or variables.
    static func readFiles(_ options: KeystoreOptions, _ context: Context) -> [ReadFile] {
        let keystore = path(options, context)
        var files = [ReadFile(path: keystore, role: "the keystore"),
                     ReadFile(path: keystore + ".lock", role: "the keystore's lock file")]
        if let resolved = realpath(keystore, nil) {
            files.append(ReadFile(path: String(cString: resolved) + ".lock", role: "the keystore's lock file"))
            free(resolved)
        }
        if let keyFile = context.value(option: options.keyFile, variable: "VAULT_KEY_FILE") {
            files.append(ReadFile(path: keyFile, role: "the key file"))
        }
        if let file = context.value(option: options.passphraseFile, variable: "VAULT_PASSPHRASE_FILE") {
            files.append(ReadFile(path: file, role: "the passphrase file"))
        }
        // Read only for a database: a command that fills KeystoreOptions itself (unlock) sets
        // dbPasswordFile only then, and an option never set cannot be read.
        if KeystoreLocation.isDatabase(keystore), let file = options.dbPasswordFile { files.append(ReadFile(path: file, role: "the database password file")) }
        if KeystoreLocation.isDatabase(keystore), let file = context.environment["PGPASSFILE"], !file.isEmpty {
            files.append(ReadFile(path: file, role: "the database password file"))
        }
        return files
    }

    /// How to unlock: a key file, else a passphrase file, else the terminal.
    /// - Throws: `CLIFailure`: an unreadable or too open passphrase file, an empty passphrase,
    ///   or (status 2) no terminal and no option.
    static func unlock(_ options: KeystoreOptions, _ context: Context, keystorePath: String) throws -> KeystoreUnlock {
        if let keyFile = context.value(option: options.keyFile, variable: "VAULT_KEY_FILE") {
            try checkKeyFile(keyFile, option: options.keyFile != nil ? "--key-file" : "VAULT_KEY_FILE")
            return .keyFile(path: keyFile)
        }
        if let file = context.value(option: options.passphraseFile, variable: "VAULT_PASSPHRASE_FILE") {
            return .passphrase(try passphrase(fromFile: file, option: options.passphraseFile != nil ? "--passphrase-file" : "VAULT_PASSPHRASE_FILE"))
        }
        let terminal = try context.requireTerminal(for: "the keystore's passphrase",
                                                   option: "--passphrase-file FILE or --key-file FILE (or VAULT_PASSPHRASE_FILE / VAULT_KEY_FILE)")
        let answer = try terminal.askSecret("Passphrase for \(Escape.quoted(keystorePath)): ")
        guard answer.count > 0 else { throw CLIFailure.failed("the passphrase is empty", hints: ["an empty passphrase is refused"]) }
        return .passphrase(answer)
    }

    /// Refuses a key file that is plainly another kind of file (a keystore, a passphrase file, a
    /// blob), naming both; a 32-byte file is left to the keystore, which tells a wrong key.
    /// - Throws: `CLIFailure` (status 1).
    static func checkKeyFile(_ path: String, option: String) throws {
        var st = stat()
        guard stat(path, &st) == 0, st.st_size != off_t(KeyFile.byteCount), let kind = FileKind.ofFile(path) else { return }
        throw FileKind.mismatch("\(option) \(Escape.quoted(path)) (\(st.st_size) bytes)", is: kind,
                                wanted: "a key file (32 random bytes, as vault init --with-key-file writes)",
                                hints: kind == .text ? ["a passphrase is read from a file with --passphrase-file"] : [])
    }

    /// Refuses a passphrase file that is plainly another kind of file. Only kinds no typed
    /// passphrase can be: a passphrase may look like JSON, or like any text.
    /// - Throws: `CLIFailure` (status 1).
    static func checkPassphraseFile(_ secret: SecretBytes, _ file: String, option: String) throws {
        let kind = secret.withUnsafeBytes { FileKind.of($0) }
        guard [.keystore, .keyFile, .binary, .sealedBlobs, .request, .secretKey].contains(kind) else { return }
        throw FileKind.mismatch("\(option) \(InputFile.display(file))", is: kind, wanted: "a passphrase file",
                                hints: ["a passphrase file holds the passphrase on its first line"])
    }

    /// The first line of a private passphrase file, without CR/LF; an empty one is refused.
    static func passphrase(fromFile file: String, option: String) throws -> SecretBytes {
        let whole = try InputFile.readSecret(file, option: option, privacy: .required)
        try checkPassphraseFile(whole, file, option: option)
        let line = try InputFile.firstLine(whole)
        guard line.count > 0 else {
            throw CLIFailure.failed("\(option) \(InputFile.display(file)) holds an empty passphrase",
                                    hints: ["an empty passphrase is refused; write the passphrase on its first line"])
        }
        return line
    }

    /// A new passphrase: from `file` when given, else asked twice at the terminal (a mismatch or
    /// a weak one is asked again, five tries at most). A weak one is refused unless `allowWeak`
    /// (`PassphrasePolicy`).
    /// - Parameter option: the option that supplies it without a terminal, for messages.
    /// - Parameter otherwise: how else it is given without a terminal (default `option FILE`).
    static func newPassphrase(file: String?, option: String, otherwise: String? = nil, allowWeak: Bool,
                              _ context: Context) throws -> SecretBytes {
        if let file {
            let secret = try passphrase(fromFile: file, option: option)
            try PassphrasePolicy.check(secret, source: "\(option) \(InputFile.display(file))", allowWeak: allowWeak)
            return secret
        }
        let terminal = try context.requireTerminal(for: "the new passphrase", option: otherwise ?? "\(option) FILE")
        var last = "the two entries differed"
        for _ in 0..<5 {
            let first = try terminal.askSecret("New passphrase: ")
            guard first.count > 0 else {
                terminal.line("An empty passphrase is refused; type one.")
                continue
            }
            if let why = PassphrasePolicy.weakness(first), allowWeak {
                terminal.line("Note: that passphrase is easy to guess: \(why); accepted because of \(PassphrasePolicy.allowOption).")
            } else if let why = PassphrasePolicy.weakness(first) {
                // Said before it is typed a second time, on the person's own terminal.
                terminal.line("That passphrase is too weak: \(why).")
                terminal.line("Please \(PassphrasePolicy.advice) (or run the command again with \(PassphrasePolicy.allowOption)).")
                last = "it was too weak"
                continue
            }
            let second = try terminal.askSecret("The same passphrase again: ")
            if first.constantTimeEquals(second) { return first }
            terminal.line("The two passphrases differ; once more.")
            last = "the two entries differed"
        }
        throw CLIFailure.failed("no passphrase was set after five tries (the last time \(last))")
    }

    /// Opens and unlocks the keystore (the KDF runs here, before any lock is taken).
    /// - Throws: `CLIFailure` worded from the keystore's error.
    static func open(_ options: KeystoreOptions, _ context: Context) async throws -> (keystore: Keystore, path: String) {
        let path = path(options, context)
        // A database address is checked before anything is asked or printed with it: one that
        // holds a password is refused without being shown (not even in the passphrase prompt).
        var storage = KeystoreLocation.isDatabase(path) ? try storage(path, options, context) : nil
        let unlock = try unlock(options, context, keystorePath: path)
        let store: Keystore
        do {
            if storage == nil { storage = try KeystoreLocation.storage(path, dbPasswordFile: nil, context) }
            store = try await openRetrying(storage!, path, unlock, options, context)
        } catch let failure as CLIFailure {
            throw failure
        } catch KeystoreError.notFound(let missing) where unlock.keyFilePath == missing {
            // The keystore is there; what is missing is the key file it was offered.
            throw CLIFailure.failed("cannot open the keystore \(Escape.quoted(path)): no key file \(Escape.quoted(missing))",
                                    hints: ["check --key-file / VAULT_KEY_FILE"])
        } catch KeystoreError.permissionsTooOpen(let file, _) where FileKind.ofFile(file).map({ $0 != .keystore }) ?? false
                                                                  && !(unlock.keyFilePath.map { OutputFile.sameFile($0, file) } ?? false) {
            // Not a keystore at all (a blob, a .pub given to --keystore): "chmod 600" would send
            // the person the wrong way.
            throw FileKind.mismatch("cannot open the keystore: \(Escape.quoted(path))", is: FileKind.ofFile(file) ?? .binary,
                                    wanted: "a vault keystore", hints: ["check --keystore / VAULT_KEYSTORE"])
        } catch KeystoreError.notAKeystore(let file) {
            // Say what the file is instead: a blob, a .pub or a key file given to --keystore.
            let kind = FileKind.ofFile(file) ?? .binary
            throw FileKind.mismatch("cannot open the keystore: \(Escape.quoted(path))", is: kind, wanted: "a vault keystore",
                                    hints: ["check --keystore / VAULT_KEYSTORE"])
        } catch {
            throw Messages.failure("cannot open the keystore \(Escape.quoted(path))", error)
        }
        if let upgrade = store.upgrade {
            // Said once: the next run finds format 2 (unless the folder could not be written).
            if upgrade.written {
                Console.warning("upgraded the keystore \(Escape.quoted(path)) from format \(upgrade.fromVersion) to format 2; vault 0.1.0 cannot read it any more")
            } else {
                Console.warning("the keystore \(Escape.quoted(path)) is in format \(upgrade.fromVersion) and could not be upgraded here; "
                                + "it was read as it is, and changes are refused")
                Console.hint("let the keystore's owner run any vault command on it once, in a folder they can write")
            }
            for method in upgrade.droppedUnlockMethods {
                Console.warning("the keystore's \(method) was not carried over to format 2: only the way it was unlocked now opens it")
            }
        }
        if store.interruptedWriteBytes > 0 {
            // What a crash mid-write leaves, or a file cut inside its log: never silent.
            Console.warning("the keystore \(Escape.quoted(path)) ends with \(store.interruptedWriteBytes) bytes of an unfinished change; "
                            + "they were ignored (an interrupted write, or a file cut short)")
            Console.hint("if no vault process was stopped while writing, restore the keystore from a backup")
        }
        return (store, path)
    }

    /// The storage at the database address `location`, its failure worded as one to open the keystore.
    static func storage(_ location: String, _ options: KeystoreOptions, _ context: Context) throws -> any KeystoreStorage {
        do { return try KeystoreLocation.storage(location, dbPasswordFile: options.dbPasswordFile, context) } catch let f as CLIFailure {
            throw f
        } catch {
            throw Messages.failure("cannot open the keystore \(Escape.quoted(location))", error)
        }
    }

    /// `Keystore.open`, but a passphrase typed at the terminal is asked again when it is wrong,
    /// as sudo does, three tries in all: running the whole command again for a typo helps no one.
    /// - Throws: the keystore's errors (the last try's), terminal errors.
    private static func openRetrying(_ storage: any KeystoreStorage, _ path: String, _ first: KeystoreUnlock,
                                     _ options: KeystoreOptions, _ context: Context) async throws -> Keystore {
        let typed = context.value(option: options.keyFile, variable: "VAULT_KEY_FILE") == nil
            && context.value(option: options.passphraseFile, variable: "VAULT_PASSPHRASE_FILE") == nil
        var unlock = first
        var attempt = 0
        while true {
            attempt += 1
            let result: Result<Keystore, KeystoreError>
            do { result = .success(try await Keystore.open(storage: storage, unlock: unlock)) } catch { result = .failure(error) }
            switch result {
            case .success(let store): return store
            case .failure(let error):
                guard case .wrongPassphrase = error, typed, attempt < 3, let terminal = context.terminal else { throw error }
                terminal.line("That passphrase does not unlock the keystore; try again.")
                let answer = try terminal.askSecret("Passphrase for \(Escape.quoted(path)): ")
                guard answer.count > 0 else { throw KeystoreError.emptyPassphrase }
                unlock = .passphrase(answer)
            }
        }
    }

    /// Warns when the keystore handed out secrets without their audit record (it cannot be
    /// written here, and its setting `unlogged-reads` is on): never silent.
    static func warnUnlogged(_ store: Keystore, _ path: String) {
        guard store.unloggedReads > 0 else { return }
        Console.warning("this read was not recorded in the audit log of \(Escape.quoted(path)): the keystore cannot be written here, "
                        + "and its setting unlogged-reads allows that")
    }

    /// Runs a keystore call about the entry `label`, wording its failure with `context`; when
    /// there is no such entry, the nearest label held is suggested (labels are compared exactly,
    /// so `acme bv` finds nothing where `Acme BV` is stored).
    static func run<T>(_ context: String, label: String, in store: Keystore, _ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch {
            var failure = Messages.failure(context, error)
            if case KeystoreError.noSuchEntry = error, let labels = try? await store.list().map(\.label),
               let near = Usage.nearest(label, in: labels) {
                failure.hints.insert("did you mean \(Escape.quoted(near))?", at: 0)
            }
            throw failure
        }
    }

    /// Runs a keystore call, wording its failure with `context`.
    static func run<T>(_ context: String, _ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch { throw Messages.failure(context, error) }
    }
}

extension KeystoreUnlock {
    /// The key file offered, if it is one.
    var keyFilePath: String? {
        if case .keyFile(let path) = self { return path }
        return nil
    }
}
