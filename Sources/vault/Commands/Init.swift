import ArgumentParser
import FoundationEssentials
import Glibc
import VaultKit

extension KDFProfile: ExpressibleByArgument {}

/// `vault init [--kdf interactive|moderate|sensitive] [--with-key-file FILE]` (CLI.md, Integrator).
struct Init: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a keystore holding a new identity: the key your customers seal credentials to.",
        discussion: """
        Run once, as the integrator. The keystore is unlocked by a passphrase (asked twice at a \
        terminal, or read from --passphrase-file) stretched with Argon2id at the --kdf limits \
        (default moderate), or, with --with-key-file, by a new random 32-byte key file for \
        unattended servers. Prints the recipient string and its fingerprint: publish both in \
        your integration manual. An existing keystore is never overwritten. --from-identity \
        starts it on an identity exported from another keystore (vault identity export), so a \
        new machine keeps the recipient you published.

        Examples:
          vault init
          vault init --keystore /srv/vault/keystore.vault --with-key-file /srv/vault/keystore.key
          vault init --from-identity identity.key
        """
    )
    static let holdsSecrets = true

    @Option(name: .customLong("keystore"), help: ArgumentHelp(
        "Where to create it (else VAULT_KEYSTORE, else $XDG_DATA_HOME/vault/keystore.vault).", valueName: "path"))
    var keystore: String?

    @Option(name: .customLong("db-password-file"), help: ArgumentHelp(
        "For a postgres:// keystore: read the database password from the first line of this file (else PGPASSFILE).", valueName: "file"))
    var dbPasswordFile: String?

    @Option(help: ArgumentHelp("Argon2id limits for the passphrase: interactive, moderate or sensitive (default moderate).", valueName: "profile"))
    var kdf: KDFProfile?

    @Option(name: .customLong("with-key-file"), help: ArgumentHelp(
        "Unlock with a new random key file written here (mode 0600) instead of a passphrase.", valueName: "file"))
    var withKeyFile: String?

    @Option(name: .customLong("passphrase-file"), help: ArgumentHelp(
        "Read the new passphrase from the first line of this file (else VAULT_PASSPHRASE_FILE, else it is asked twice).",
        valueName: "file"))
    var passphraseFile: String?

    @Flag(name: .customLong("allow-weak-passphrase"), help: "Accept a passphrase that is easy to guess (refused by default, saying why).")
    var allowWeakPassphrase = false

    @Option(name: .customLong("from-identity"), help: ArgumentHelp(
        "Start on the identity in this secret key file (vault identity export) instead of a new one.", valueName: "file"))
    var fromIdentity: String?

    /// Refuses a path whose folder does not exist, naming the folder.
    /// - Throws: `CLIFailure` (status 1).
    static func requireFolder(of path: String, for what: String, option: String) throws {
        let folder = Path.directory(of: path)
        var st = stat()
        guard !folder.isEmpty, stat(folder, &st) != 0 || st.st_mode & S_IFMT != S_IFDIR else { return }
        throw CLIFailure.failed("cannot create \(what) \(Escape.quoted(path)): no such directory \(Escape.quoted(folder))",
                                hints: ["make the folder first (mkdir -p \(InputFile.shellQuoted(folder))), or choose another path with \(option)"])
    }

    mutating func execute(_ context: Context) async throws {
        if withKeyFile != nil, kdf != nil {
            throw CLIFailure.usage("--kdf applies to a passphrase; a key file needs no key derivation",
                                   hints: ["drop --kdf, or drop --with-key-file to use a passphrase"])
        }
        if withKeyFile != nil, allowWeakPassphrase {
            throw CLIFailure.usage("--allow-weak-passphrase applies to a passphrase; a key file is 32 random bytes",
                                   hints: ["drop --allow-weak-passphrase, or drop --with-key-file to use a passphrase"])
        }
        if withKeyFile != nil, passphraseFile != nil {
            // Silently ignoring one would leave the user believing the keystore has both.
            throw CLIFailure.usage("give --with-key-file or --passphrase-file, not both: a new keystore is unlocked by one of them",
                                   hints: ["a key file for an unattended server, a passphrase for a person"])
        }
        var options = KeystoreOptions()
        options.keystore = keystore
        options.dbPasswordFile = dbPasswordFile
        let path = KeystoreAccess.path(options, context)
        // A database address is checked (and refused when it holds a password) before anything.
        let database = KeystoreLocation.isDatabase(path) ? try KeystoreAccess.storage(path, options, context) : nil
        if let keyFile = withKeyFile, database == nil, OutputFile.sameFile(keyFile, path) {
            // One would be written over the other: the key file must live apart from the keystore.
            throw CLIFailure.usage("--with-key-file \(Escape.quoted(keyFile)) is the keystore's own path",
                                   hints: ["write the key file elsewhere, apart from the keystore (another disk, a secrets manager)"])
        }
        // Refuse before asking anything: an existing keystore is never overwritten.
        if database == nil, FileManager.default.fileExists(atPath: path) {
            throw Messages.failure("cannot create the keystore", KeystoreError.alreadyExists(path: path))
        }
        if database == nil, context.value(option: keystore, variable: "VAULT_KEYSTORE") == nil {
            // The default location's folder is made on first use, private to the user.
            try? FileManager.default.createDirectory(atPath: Path.directory(of: path),
                                                     withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        // A missing folder is named at once, before a passphrase is asked twice for nothing
        // (and never as "no such file" with a hint to run the very command that failed).
        if database == nil { try Self.requireFolder(of: path, for: "the keystore", option: "--keystore") }
        if let keyFile = withKeyFile {
            try Self.requireFolder(of: keyFile, for: "the key file", option: "--with-key-file")
            var st = stat()
            if lstat(keyFile, &st) == 0 {
                let kind = FileKind.ofFile(keyFile).map { ": it is \($0.described)" } ?? ""
                throw CLIFailure.failed("cannot create the key file: \(Escape.quoted(keyFile)) already exists\(kind); it is never overwritten",
                                        hints: ["choose another path with --with-key-file; a key file that exists may unlock another keystore"])
            }
        }
        // The identity file is read and checked before anything is asked or created.
        let identity = try fromIdentity.map { try IdentityArgument.read($0, option: "--from-identity") }
        let protection: KeystoreProtection
        var createdKeyFile: String?
        if let keyFile = withKeyFile {
            try await KeystoreAccess.run("cannot create the key file") { try KeyFile.create(at: keyFile) }
            createdKeyFile = keyFile
            protection = .keyFile(path: keyFile)
        } else {
            let file = context.value(option: passphraseFile, variable: "VAULT_PASSPHRASE_FILE")
            let option = passphraseFile != nil || file == nil ? "--passphrase-file" : "VAULT_PASSPHRASE_FILE"
            let otherwise = "--passphrase-file FILE (or VAULT_PASSPHRASE_FILE), or unlock with a new key file instead: --with-key-file FILE"
            protection = .passphrase(try KeystoreAccess.newPassphrase(file: file, option: option, otherwise: otherwise,
                                                                      allowWeak: allowWeakPassphrase, context),
                                     profile: kdf ?? .moderate)
        }
        let store: Keystore
        do {
            let storage = try database ?? KeystoreLocation.storage(path, dbPasswordFile: nil, context)
            store = try await Keystore.create(storage: storage, protection: protection, identity: identity)
        } catch {
            // Leave nothing behind: a key file for a keystore that does not exist is useless.
            if let createdKeyFile { unlink(createdKeyFile) }
            // Here a missing file can only be the folder: say so, not "create it with vault init".
            if database == nil, case KeystoreError.notFound(let folder)? = error as? KeystoreError {
                throw CLIFailure.failed("cannot create the keystore \(Escape.quoted(path)): no such directory \(Escape.quoted(folder))",
                                        hints: ["make the folder first (mkdir -p), or choose another path with --keystore"])
            }
            throw Messages.failure("cannot create the keystore \(Escape.quoted(path))", error)
        }
        let pair = try await KeystoreAccess.run("cannot read the new identity") { try await store.identity() }
        Console.outLine(pair.publicKey.recipient)
        Console.outLine(pair.publicKey.fingerprint.canonical)
        // The hint's command must work as typed: it names the keystore when an option chose it.
        let located = (keystore.map { " --keystore \(InputFile.shellQuoted($0))" } ?? "")
            + (createdKeyFile.map { " --key-file \(InputFile.shellQuoted($0))" } ?? "")
        if let fromIdentity {
            Console.hint("created \(Escape.quoted(path)) on the identity of \(Escape.quoted(fromIdentity)): the recipient you published "
                         + "stays valid; delete that file once this keystore opens your blobs")
        } else {
            Console.hint("created \(Escape.quoted(path)); publish the recipient and its fingerprint: vault recipient\(located) -o integrator.pub")
        }
        Console.hint(createdKeyFile != nil
            ? "back up the keystore and the key file, apart from each other: without the key file nothing opens"
            : "back up the keystore and remember the passphrase: without it nothing opens")
    }
}

/// `vault recipient [-o FILE]`: the public key file to publish.
struct RecipientCommand: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "recipient",
        abstract: "Print the public key file to publish: the recipient string with its fingerprint.",
        discussion: """
        Unlocks the keystore, so what it prints is the key the keystore really holds. Put the \
        file (or the recipient and fingerprint lines) in your integration manual; customers \
        seal to it with `vault seal --to FILE`.

        Examples:
          vault recipient
          vault recipient -o integrator.pub
        """
    )
    static let holdsSecrets = true

    @OptionGroup var keystore: KeystoreOptions

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the public key file here instead of standard output.", valueName: "file"))
    var output: String?

    @Flag(help: "Replace an existing output file.")
    var force = false

    mutating func execute(_ context: Context) async throws {
        let reads = KeystoreAccess.readFiles(keystore, context)
        if let output, output != "-" { try OutputFile.refuseExisting(output, force: force, reads: reads) }
        let (store, _) = try await KeystoreAccess.open(keystore, context)
        let pair = try await KeystoreAccess.run("cannot read the identity") { try await store.identity() }
        let created = try await KeystoreAccess.run("cannot read the identity") { try await store.identityCreated() }
        let text = PublicKeyFile.text(recipient: pair.publicKey.bytes, fingerprint: pair.publicKey.fingerprint,
                                      created: UTCTime(exact: created) ?? Handoff.now())
        if let output, output != "-" {
            try OutputFile.write(Array(text.utf8), to: output, mode: 0o644, force: force, reads: reads)
        } else {
            Console.out(text)
        }
        // The manual prints both forms: the customer's seal shows the grouped one (issue 9).
        Console.hint("print the fingerprint in your manual in both forms; a customer compares the grouped one with what vault seal shows:")
        Console.detail(pair.publicKey.fingerprint.canonical)
        Console.detail(pair.publicKey.fingerprint.grouped)
    }
}
