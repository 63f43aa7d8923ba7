import ArgumentParser
import FoundationEssentials
import Glibc
import VaultKit

/// `vault identities [--json]`: every identity of the keystore, with its state (issue 12).
struct IdentitiesCommand: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "identities",
        abstract: "List the keystore's identities: fingerprint, state (current, active, retired), creation time.",
        discussion: """
        The current identity is the recipient new blobs are sealed to (vault recipient prints \
        it). An active one is an earlier identity that still opens blobs sealed to it; a \
        retired one opens nothing. SINCE is when the identity got its state. --json prints an \
        array (fields in docs/JSON.md). No secret is shown.

        Examples:
          vault identities
          vault identities --json
        """
    )
    static let holdsSecrets = true

    @Flag(help: "Print JSON (fields in docs/JSON.md).")
    var json = false

    @OptionGroup var keystore: KeystoreOptions

    mutating func execute(_ context: Context) async throws {
        let (store, _) = try await KeystoreAccess.open(keystore, context)
        let all = try await KeystoreAccess.run("cannot read the keystore's identities") { try await store.identities() }
        if json {
            Console.out(JSONOut.array(all.map(IdentityJSON.object)).text)
            return
        }
        let rows = [["FINGERPRINT", "STATE", "CREATED", "SINCE"]]
            + all.map { [$0.fingerprint.canonical, $0.state.rawValue, $0.created, $0.changed] }
        Console.out(Table.render(rows))
    }
}

/// The JSON object of one identity (docs/JSON.md).
enum IdentityJSON {
    static func object(_ i: IdentityInfo) -> JSONOut {
        .object([("fingerprint", .string(i.fingerprint.canonical)), ("recipient", .string(i.publicKey.recipient)),
                 ("state", .string(i.state.rawValue)), ("created", .string(i.created)), ("state_changed", .string(i.changed))])
    }
}

/// `vault rotate`: a new current identity (issue 12).
struct Rotate: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate",
        abstract: "Make a new current identity: the recipient new blobs are sealed to from now on.",
        discussion: """
        Prints the new recipient string and its fingerprint, as vault init does: publish them \
        (vault recipient -o integrator.pub) and ask your customers to seal to the new key. The \
        identity that was current stays active: blobs sealed to it still open until you retire \
        it with vault retire. Do that once senders have moved, or at once if the old key may \
        have leaked (docs/INTEGRATOR.md).

        Example:
          vault rotate
        """
    )
    static let holdsSecrets = true

    @OptionGroup var keystore: KeystoreOptions

    mutating func execute(_ context: Context) async throws {
        let (store, path) = try await KeystoreAccess.open(keystore, context)
        let old = try await KeystoreAccess.run("cannot read the identity") { try await store.identity() }
        let new = try await KeystoreAccess.run("cannot rotate the identity of \(Escape.quoted(path))") { try await store.rotateIdentity() }
        Console.outLine(new.publicKey.recipient)
        Console.outLine(new.fingerprint.canonical)
        let located = (keystore.keystore.map { " --keystore \(InputFile.shellQuoted($0))" } ?? "")
            + (keystore.keyFile.map { " --key-file \(InputFile.shellQuoted($0))" } ?? "")
        Console.hint("\(new.fingerprint.canonical) is the current identity now; publish it: vault recipient\(located) -o integrator.pub")
        Console.hint("\(old.publicKey.fingerprint.canonical) still opens blobs sealed to it until you retire it: "
                     + "vault retire\(located) \(old.publicKey.fingerprint.canonical)")
    }
}

/// `vault retire FINGERPRINT` (issue 12).
struct Retire: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "retire",
        abstract: "Retire an identity: blobs sealed to it are refused from now on.",
        discussion: """
        FINGERPRINT is one of vault identities' (SHA256: and 64 hex digits; spaces, colons and \
        case do not matter). vault open then refuses a blob sealed to it, saying that the key \
        was retired and when. The current identity cannot be retired: rotate first. The secret \
        key stays in the keystore (vault identities lists it); retiring an identity that is \
        retired already changes nothing.

        Example:
          vault retire \\
            SHA256:f2d8ddb10eb22137b11ac60e8f79b8806d8b8ee82686859a8d8376ecb1fcfb22
        """
    )
    static let holdsSecrets = true

    @Argument(help: ArgumentHelp("The fingerprint of the identity to retire.", valueName: "fingerprint"))
    var fingerprint: String

    @OptionGroup var keystore: KeystoreOptions

    mutating func execute(_ context: Context) async throws {
        let fp = try IdentityArgument.fingerprint(fingerprint)
        let (store, path) = try await KeystoreAccess.open(keystore, context)
        let result = try await KeystoreAccess.run("cannot retire an identity of \(Escape.quoted(path))") {
            try await store.retireIdentity(fingerprint: fp)
        }
        if result.changed {
            Console.hint("retired \(fp.canonical) at \(result.identity.changed): blobs sealed to it are refused from now on")
        } else {
            Console.hint("\(fp.canonical) was retired at \(result.identity.changed) already; nothing was changed")
        }
    }
}

/// `vault identity export|import` (issue 12).
struct IdentityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identity",
        abstract: "Export an identity's secret key to a private file, or import one.",
        subcommands: [IdentityExport.self, IdentityImport.self]
    )
}

/// `vault identity export [FINGERPRINT] -o FILE`.
struct IdentityExport: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write one identity's secret key (VAULT-SECRET-KEY-1…) to a new private file.",
        discussion: """
        For moving to a new machine (vault init --from-identity FILE there keeps the recipient \
        you published) or keeping the key apart. The current identity unless FINGERPRINT names \
        another. The file is new (an existing one is never replaced), mode 0600, and the key is \
        never printed: -o FILE is required. Whoever has the file opens every blob sealed to \
        that key: keep it as you keep the keystore, and delete it once imported.

        Examples:
          vault identity export -o identity.key
          vault identity export -o old.key \\
            SHA256:f2d8ddb10eb22137b11ac60e8f79b8806d8b8ee82686859a8d8376ecb1fcfb22
        """
    )
    static let holdsSecrets = true

    @Argument(help: ArgumentHelp("The identity's fingerprint (default: the current identity).", valueName: "fingerprint"))
    var fingerprint: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("The new file to write the secret key to (mode 0600).", valueName: "file"))
    var output: String?

    @OptionGroup var keystore: KeystoreOptions

    mutating func execute(_ context: Context) async throws {
        // A secret key reaches a terminal or a pipe only by mistake: a new private file only.
        guard let output, output != "-" else {
            throw CLIFailure.usage(output == nil ? "the secret key is written only to a file: give -o FILE"
                                                 : "the secret key is never written to standard output: give -o FILE",
                                   hints: ["the file is new and private (mode 0600); the key is never printed"])
        }
        let fp = try fingerprint.map(IdentityArgument.fingerprint)
        let reads = KeystoreAccess.readFiles(keystore, context)
        try PrivateOutput.refuseExisting(output, reads: reads)
        let (store, path) = try await KeystoreAccess.open(keystore, context)
        let found = try await KeystoreAccess.run("cannot export the identity") { try await store.exportIdentity(fingerprint: fp) }
        KeystoreAccess.warnUnlogged(store, path)
        let file = try PrivateOutput(output, reads: reads)
        try file.write(try IdentityArgument.text(found.keyPair))
        try file.name()
        Console.outLine(found.identity.fingerprint.canonical)
        Console.hint("wrote the secret key of \(found.identity.fingerprint.canonical) (\(found.identity.state.rawValue)) to "
                     + "\(Escape.quoted(output)), mode 0600: whoever has it opens every blob sealed to that key")
        Console.hint("import it elsewhere (vault init --from-identity or vault identity import), then delete this file")
    }
}

/// `vault identity import FILE [--make-current]`.
struct IdentityImport: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Add an identity from a secret key file (retired unless --make-current).",
        discussion: """
        FILE holds a VAULT-SECRET-KEY-1… string, as vault identity export writes it (private: \
        a file group or others can read is refused). Without --make-current the identity is \
        added retired: it is kept, but opens nothing. With --make-current it becomes the \
        current identity (the recipient to publish); the one that was current stays active. An \
        identity the keystore holds already can only be made current.

        Examples:
          vault identity import --make-current identity.key
          vault identity import old.key
        """
    )
    static let holdsSecrets = true

    @Argument(help: ArgumentHelp("The secret key file (- for standard input).", valueName: "file"))
    var file: String

    @Flag(name: .customLong("make-current"), help: "Make it the current identity (the one that was current stays active).")
    var makeCurrent = false

    @OptionGroup var keystore: KeystoreOptions

    mutating func execute(_ context: Context) async throws {
        // The file is read and checked before the keystore's passphrase is asked.
        let pair = try IdentityArgument.read(file, option: "the secret key file")
        let (store, path) = try await KeystoreAccess.open(keystore, context)
        let info = try await KeystoreAccess.run("cannot import the identity into \(Escape.quoted(path))") {
            try await store.importIdentity(pair, makeCurrent: makeCurrent)
        }
        Console.outLine(info.fingerprint.canonical)
        if makeCurrent {
            Console.hint("\(info.fingerprint.canonical) is the current identity now: vault recipient prints it")
        } else {
            Console.hint("added \(info.fingerprint.canonical) retired: it opens nothing; "
                         + "to open blobs sealed to it, make it current: vault identity import --make-current FILE")
        }
    }
}

/// Identities named on the command line or read from files.
enum IdentityArgument {
    /// A fingerprint as a person types it (FORMAT.md §2).
    /// - Throws: `CLIFailure` (status 2).
    static func fingerprint(_ text: String) throws -> Fingerprint {
        do { return try Fingerprint(typed: text) } catch {
            var failure = Messages.failure("cannot read the fingerprint \(Escape.quoted(text))", error, status: .usage)
            failure.hints = ["vault identities lists the keystore's fingerprints"]
            throw failure
        }
    }

    /// The key pair of a private secret-key file (FORMAT.md §3). The file is never echoed.
    /// - Throws: `CLIFailure` (status 1): unreadable, readable by others, another kind of file, invalid.
    static func read(_ path: String, option: String) throws -> KeyPair {
        let text = try InputFile.readSecret(path, option: option, privacy: .required)
        let kind = text.withUnsafeBytes { FileKind.of($0) }
        guard kind == .secretKey else {
            throw FileKind.mismatch("\(option) \(InputFile.display(path))", is: kind, wanted: "a secret key (VAULT-SECRET-KEY-1…)",
                                    hints: ["vault identity export writes one"])
        }
        do { return try SecretKeyText.decode(text) } catch {
            throw Messages.failure("cannot read \(option) \(InputFile.display(path))", error)
        }
    }

    /// The secret key's text form and a line feed, in secret memory.
    /// - Throws: `CLIFailure` when secret memory runs out.
    static func text(_ pair: KeyPair) throws -> SecretBytes {
        do {
            let key = try SecretKeyText.encode(pair)
            let line = try SecretBytes(count: key.count + 1)
            line.withUnsafeMutableBytes { out in
                key.withUnsafeBytes { out.copyMemory(from: $0) }
                out[key.count] = 0x0a
            }
            return line
        } catch { throw Messages.failure("cannot hold the secret key", error) }
    }
}
