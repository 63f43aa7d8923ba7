import ArgumentParser
import FoundationEssentials
import Glibc
import VaultKit

/// `vault unlock add|list|remove`: several unlock methods at once (issue 12).
struct UnlockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unlock",
        abstract: "Manage the keystore's unlock methods: passphrases and key files, each with a name.",
        discussion: """
        A keystore opens with any one of its unlock methods: a server keeps a key file while an \
        administrator keeps a passphrase for recovery. vault init makes the first one \
        ('passphrase' or 'key-file'); vault passwd changes the one it unlocks with.
        """,
        subcommands: [UnlockList.self, UnlockAdd.self, UnlockRemove.self]
    )
}

/// `vault unlock list [--json]`.
struct UnlockList: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the unlock methods: name, kind, KDF profile, when added; the one used is marked.",
        discussion: """
        Names, kinds and profiles are stored in clear in the keystore's header (docs/KEYSTORE.md \
        §7); no secret is shown. --json prints an array (fields in docs/JSON.md).

        Examples:
          vault unlock list
          vault unlock list --json
        """
    )
    static let holdsSecrets = true

    @Flag(help: "Print JSON (fields in docs/JSON.md).")
    var json = false

    @OptionGroup var keystore: KeystoreOptions

    mutating func execute(_ context: Context) async throws {
        let (store, _) = try await KeystoreAccess.open(keystore, context)
        let methods = try await KeystoreAccess.run("cannot read the unlock methods") { try await store.unlockMethods() }
        let used = try await KeystoreAccess.run("cannot read the unlock methods") { try await store.unlockedMethod() }
        if json {
            Console.out(JSONOut.array(methods.map { m in
                .object([("name", .string(m.name)), ("kind", .string(m.kind.rawValue))]
                        + (m.profile.map { [("kdf", JSONOut.string($0.rawValue))] } ?? [])
                        + [("created", .string(m.created)), ("used_now", .bool(m.name == used.name))])
            }).text)
            return
        }
        let rows = [["NAME", "KIND", "KDF", "ADDED", ""]]
            + methods.map { [$0.name, $0.kind.rawValue, $0.profile?.rawValue ?? "-", $0.created, $0.name == used.name ? "(unlocked with)" : ""] }
        Console.out(Table.render(rows))
    }
}

/// `vault unlock add --key-file FILE | --passphrase [--name NAME]`.
struct UnlockAdd: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add an unlock method: a new key file, or a new passphrase.",
        discussion: """
        --key-file FILE writes a new random 32-byte key file there (mode 0600, never over an \
        existing file), as vault init --with-key-file does. --passphrase sets a new passphrase, \
        asked twice at the terminal or read from --new-passphrase-file; one that is easy to \
        guess is refused unless --allow-weak-passphrase. The method gets --name (default \
        'key-file' or 'passphrase', numbered when taken); names are stored in clear, so choose \
        ones that reveal nothing.

        Here --key-file names the new key file. The keystore itself is unlocked, as always, by \
        a passphrase (--passphrase-file, or the terminal) or by a key file: --unlock-key-file \
        FILE (else VAULT_KEY_FILE). The other methods and every entry stay as they are.

        Examples:
          vault unlock add --key-file /srv/vault/server.key --name server
          vault unlock add --passphrase --name admin --unlock-key-file server.key
        """
    )
    static let holdsSecrets = true

    @Option(name: .customLong("key-file"), help: ArgumentHelp("Add a new key file, written here (mode 0600).", valueName: "file"))
    var newKeyFile: String?

    @Flag(help: "Add a new passphrase, asked twice at the terminal (or read from --new-passphrase-file).")
    var passphrase = false

    @Option(name: .customLong("new-passphrase-file"), help: ArgumentHelp(
        "Read the new passphrase from the first line of this file.", valueName: "file"))
    var newPassphraseFile: String?

    @Option(help: ArgumentHelp("Argon2id limits for the new passphrase: interactive, moderate or sensitive (default moderate).",
                               valueName: "profile"))
    var kdf: KDFProfile?

    @Flag(name: .customLong("allow-weak-passphrase"), help: "Accept a new passphrase that is easy to guess (refused by default, saying why).")
    var allowWeakPassphrase = false

    @Option(help: ArgumentHelp("The new method's name: 1 to 32 of a-z 0-9 . _ - (default key-file or passphrase).", valueName: "name"))
    var name: String?

    @Option(name: .customLong("keystore"), help: ArgumentHelp(
        "The keystore file, or a postgres:// address whose password is in PGPASSFILE (else VAULT_KEYSTORE, else $XDG_DATA_HOME/vault/keystore.vault).", valueName: "path"))
    var keystore: String?

    @Option(name: .customLong("unlock-key-file"), help: ArgumentHelp(
        "Unlock the keystore with this key file (else VAULT_KEY_FILE).", valueName: "file"))
    var unlockKeyFile: String?

    @Option(name: .customLong("passphrase-file"), help: ArgumentHelp(
        "Unlock the keystore with the passphrase on the first line of this file (else VAULT_PASSPHRASE_FILE, else it is asked).",
        valueName: "file"))
    var passphraseFile: String?

    /// Usage mistakes, before anything is read or asked (in `execute`: a `CLIFailure` thrown
    /// from `validate` would reach argument-parser).
    func checkUsage() throws {
        let wantsPassphrase = passphrase || newPassphraseFile != nil
        guard (newKeyFile != nil) != wantsPassphrase else {
            throw CLIFailure.usage(newKeyFile == nil ? "say what to add: --key-file FILE or --passphrase"
                                                     : "give --key-file or --passphrase, not both: each adds one method",
                                   hints: ["a key file for an unattended server, a passphrase for a person; add both with two commands"])
        }
        if newKeyFile != nil, kdf != nil || allowWeakPassphrase {
            throw CLIFailure.usage("\(kdf != nil ? "--kdf" : "--allow-weak-passphrase") applies to a passphrase; a key file is 32 random bytes",
                                   hints: ["drop it, or add a passphrase instead of a key file"])
        }
        if let name, !UnlockMethodName.isValid(name) {
            throw Messages.failure("", KeystoreError.invalidUnlockMethodName(name: name), status: .usage)
        }
    }

    mutating func execute(_ context: Context) async throws {
        try checkUsage()
        var options = KeystoreOptions()
        options.keystore = keystore
        options.keyFile = unlockKeyFile
        options.passphraseFile = passphraseFile
        options.dbPasswordFile = nil   // a database's password comes from PGPASSFILE here
        let path = KeystoreAccess.path(options, context)
        let unlockKey = context.value(option: unlockKeyFile, variable: "VAULT_KEY_FILE")
        // Refuse what cannot work before asking anything.
        if let newKeyFile {
            if OutputFile.sameFile(newKeyFile, path) || unlockKey.map({ OutputFile.sameFile(newKeyFile, $0) }) ?? false {
                throw CLIFailure.usage("--key-file \(Escape.quoted(newKeyFile)) is \(OutputFile.sameFile(newKeyFile, path) ? "the keystore" : "the key file that unlocks it")",
                                       hints: ["--key-file names the new key file to write; unlock with --unlock-key-file (or VAULT_KEY_FILE)"])
            }
            try Init.requireFolder(of: newKeyFile, for: "the key file", option: "--key-file")
            var st = stat()
            if lstat(newKeyFile, &st) == 0 {
                let kind = FileKind.ofFile(newKeyFile).map { ": it is \($0.described)" } ?? ""
                throw CLIFailure.failed("cannot create the key file: \(Escape.quoted(newKeyFile)) already exists\(kind); it is never overwritten",
                                        hints: ["--key-file names a new key file, which vault writes; unlock with an existing one with "
                                                + "--unlock-key-file (or VAULT_KEY_FILE)"])
            }
        }
        var newPassphrase: SecretBytes?
        if let file = newPassphraseFile {
            newPassphrase = try KeystoreAccess.newPassphrase(file: file, option: "--new-passphrase-file", allowWeak: allowWeakPassphrase, context)
        } else if newKeyFile == nil {
            _ = try context.requireTerminal(for: "the new passphrase", option: "--new-passphrase-file FILE")
        }
        let store: Keystore
        do { store = try await KeystoreAccess.open(options, context).keystore } catch let failure as CLIFailure {
            // Here --key-file is the new key file: the one that unlocks is --unlock-key-file.
            throw failure.renaming("--key-file", to: "--unlock-key-file")
        }
        let methods = try await KeystoreAccess.run("cannot read the unlock methods") { try await store.unlockMethods() }
        let kind: UnlockMethodKind = newKeyFile != nil ? .keyFile : .passphrase
        let chosen = name ?? UnlockMethodName.free(kind.rawValue, taken: methods.map(\.name))
        if methods.contains(where: { $0.name == chosen }) {
            throw Messages.failure("cannot add the unlock method", KeystoreError.unlockMethodExists(name: chosen))
        }
        let protection: KeystoreProtection
        if let newKeyFile {
            try await KeystoreAccess.run("cannot create the key file") { try KeyFile.create(at: newKeyFile) }
            protection = .keyFile(path: newKeyFile)
        } else {
            let secret = try newPassphrase ?? KeystoreAccess.newPassphrase(file: nil, option: "--new-passphrase-file",
                                                                          allowWeak: allowWeakPassphrase, context)
            protection = .passphrase(secret, profile: kdf ?? .moderate)
        }
        do {
            try await store.addUnlockMethod(name: chosen, protection)
        } catch {
            // A key file for a method that was not added unlocks nothing: leave nothing behind.
            if let newKeyFile { unlink(newKeyFile) }
            throw Messages.failure("cannot add the unlock method \(Escape.quoted(chosen)) to \(Escape.quoted(path))", error)
        }
        Console.hint("added the \(kind == .keyFile ? "key file" : "passphrase") \(Escape.quoted(chosen)): "
                     + "\(Escape.quoted(path)) now opens with any of \(methods.count + 1) unlock methods (vault unlock list)")
        if let newKeyFile {
            Console.hint("keep \(Escape.quoted(newKeyFile)) apart from the keystore: whoever has both has every credential")
        }
    }
}

/// `vault unlock remove NAME`.
struct UnlockRemove: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove an unlock method and re-key the keystore, so it opens nothing written from now on.",
        discussion: """
        The keystore gets a new master key, sealed to every remaining method, and every record \
        is encrypted again: the removed passphrase or key file opens nothing written from now \
        on (a copy of the keystore, or a backup, made before still opens with it). The last \
        method cannot be removed. The one you unlock with can be, if another remains: that is \
        how an administrator who leaves hands over; vault then says which methods are left.

        Examples:
          vault unlock remove admin-alice
          vault unlock remove passphrase --key-file /srv/vault/server.key
        """
    )
    static let holdsSecrets = true

    @Argument(help: ArgumentHelp("The name of the method to remove (vault unlock list).", valueName: "name"))
    var name: String

    @OptionGroup var keystore: KeystoreOptions

    mutating func execute(_ context: Context) async throws {
        let (store, path) = try await KeystoreAccess.open(keystore, context)
        let used = try await KeystoreAccess.run("cannot read the unlock methods") { try await store.unlockedMethod() }
        try await KeystoreAccess.run("cannot remove the unlock method \(Escape.quoted(name)) from \(Escape.quoted(path))") {
            try await store.removeUnlockMethod(name: name)
        }
        let left = try await KeystoreAccess.run("cannot read the unlock methods") { try await store.unlockMethods() }
        let names = left.map { Escape.quoted($0.name) }.joined(separator: ", ")
        if used.name == name {
            // Never silent: the way this command was unlocked no longer opens the keystore.
            Console.warning("you unlocked with \(Escape.quoted(name)), which no longer opens \(Escape.quoted(path)); from now on only \(names) do")
        }
        Console.hint("removed \(Escape.quoted(name)) and re-keyed the keystore: \(Escape.quoted(name)) opens nothing written from now on "
                     + "(copies and backups made before still open with it); the unlock methods left: \(names)")
    }
}

/// Unlock method names (docs/KEYSTORE.md §2.2).
enum UnlockMethodName {
    /// `[a-z0-9][a-z0-9._-]*`, 1 to 32 bytes.
    static func isValid(_ name: String) -> Bool {
        let b = Array(name.utf8)
        guard (1...32).contains(b.count) else { return false }
        return b.enumerated().allSatisfy { i, c in
            (0x61...0x7a).contains(c) || (0x30...0x39).contains(c) || (i > 0 && [0x2e, 0x5f, 0x2d].contains(c))
        }
    }

    /// `base`, or `base-2`, `base-3`, … : the first not in `taken`.
    static func free(_ base: String, taken: [String]) -> String {
        if !taken.contains(base) { return base }
        var n = 2
        while taken.contains("\(base)-\(n)") { n += 1 }
        return "\(base)-\(n)"
    }
}

extension CLIFailure {
    /// The failure with an option's name replaced in its message and hints.
    func renaming(_ option: String, to other: String) -> CLIFailure {
        var f = self
        func swap(_ s: String) -> String { s.replacing(option + " ", with: other + " ").replacing(option + ",", with: other + ",") }
        f.message = swap(f.message)
        f.hints = f.hints.map(swap)
        return f
    }
}
