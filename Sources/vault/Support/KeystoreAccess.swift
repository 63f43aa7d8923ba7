import ArgumentParser
import Glibc
import VaultKit

/// The options of every command that reads or changes a keystore (CLI.md, "Unlocking a keystore"
/// and "Keystore location").
struct KeystoreOptions: ParsableArguments {
    @Option(name: .customLong("keystore"), help: ArgumentHelp(
        "The keystore file (else VAULT_KEYSTORE, else $XDG_DATA_HOME/vault/keystore.vault).", valueName: "path"))
    var keystore: String?

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

    /// How to unlock: a key file, else a passphrase file, else the terminal.
    /// - Throws: `CLIFailure`: an unreadable or too open passphrase file, an empty passphrase,
    ///   or (status 2) no terminal and no option.
    static func unlock(_ options: KeystoreOptions, _ context: Context, keystorePath: String) throws -> KeystoreUnlock {
        if let keyFile = context.value(option: options.keyFile, variable: "VAULT_KEY_FILE") {
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

    /// The first line of a private passphrase file, without CR/LF; an empty one is refused.
    static func passphrase(fromFile file: String, option: String) throws -> SecretBytes {
        let line = try InputFile.firstLine(try InputFile.readSecret(file, option: option, privacy: .required))
        guard line.count > 0 else {
            throw CLIFailure.failed("\(option) \(InputFile.display(file)) holds an empty passphrase",
                                    hints: ["an empty passphrase is refused; write the passphrase on its first line"])
        }
        return line
    }

    /// A new passphrase: from `file` when given, else asked twice at the terminal (a mismatch is
    /// asked again, three times at most).
    /// - Parameter option: the option that supplies it without a terminal, for messages.
    /// - Parameter otherwise: how else it is given without a terminal (default `option FILE`).
    static func newPassphrase(file: String?, option: String, otherwise: String? = nil, _ context: Context) throws -> SecretBytes {
        if let file { return try passphrase(fromFile: file, option: option) }
        let terminal = try context.requireTerminal(for: "the new passphrase", option: otherwise ?? "\(option) FILE")
        for _ in 0..<3 {
            let first = try terminal.askSecret("New passphrase: ")
            guard first.count > 0 else {
                terminal.line("An empty passphrase is refused; type one.")
                continue
            }
            let second = try terminal.askSecret("The same passphrase again: ")
            if first.constantTimeEquals(second) { return first }
            terminal.line("The two passphrases differ; once more.")
        }
        throw CLIFailure.failed("no passphrase was set: the two entries differed three times")
    }

    /// Opens and unlocks the keystore (the KDF runs here, before any lock is taken).
    /// - Throws: `CLIFailure` worded from the keystore's error.
    static func open(_ options: KeystoreOptions, _ context: Context) async throws -> (keystore: Keystore, path: String) {
        let path = path(options, context)
        let unlock = try unlock(options, context, keystorePath: path)
        let store: Keystore
        do {
            store = try await Keystore.open(at: path, unlock: unlock)
        } catch KeystoreError.notFound(let missing) where unlock.keyFilePath == missing {
            // The keystore is there; what is missing is the key file it was offered.
            throw CLIFailure.failed("cannot open the keystore \(Escape.quoted(path)): no key file \(Escape.quoted(missing))",
                                    hints: ["check --key-file / VAULT_KEY_FILE"])
        } catch {
            throw Messages.failure("cannot open the keystore \(Escape.quoted(path))", error)
        }
        if store.interruptedWriteBytes > 0 {
            // What a crash mid-write leaves, or a file cut inside its log: never silent.
            Console.warning("the keystore \(Escape.quoted(path)) ends with \(store.interruptedWriteBytes) bytes of an unfinished change; "
                            + "they were ignored (an interrupted write, or a file cut short)")
            Console.hint("if no vault process was stopped while writing, restore the keystore from a backup")
        }
        return (store, path)
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
