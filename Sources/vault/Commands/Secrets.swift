import ArgumentParser
import VaultKit

/// `vault get LABEL FIELD` (CLI.md): one field's value, exactly as stored, and one LF.
struct Get: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Print one credential field of an entry, exactly as stored (secrets included).",
        discussion: """
        FIELD is client_id, client_secret, webhook_secret, region, redirect_uri, app_name, \
        division, or a generic entry's key. The value goes to standard output with one LF; \
        pipe it to the receiving system rather than to a terminal that others can see.

        Examples:
          vault get "Acme BV" client_secret
          CLIENT_ID=$(vault get "Acme BV" client_id)
        """
    )
    static let holdsSecrets = true

    @Argument(help: ArgumentHelp("The entry's label.", valueName: "label")) var label: String
    @Argument(help: ArgumentHelp("The field to print.", valueName: "field")) var field: String
    @OptionGroup var version: EntryVersionOption
    @OptionGroup var keystore: KeystoreOptions

    mutating func execute(_ context: Context) async throws {
        let entry = try await Entries.load(label, version: version.entryVersion, for: .get(field: field), keystore, context)
        guard let value = entry.field(field) else {
            let names = entry.fields.map(\.name)
            throw CLIFailure.failed("entry \(Escape.quoted(entry.label)) has no field \(Escape.quoted(field))",
                                    hints: (Usage.nearest(field, in: names).map { ["did you mean \(Escape.quoted($0))?"] } ?? [])
                                        + ["its fields: " + names.map(Escape.forTerminal).joined(separator: ", ")])
        }
        let out = try SecretOutput(capacity: value.count + 1)
        out.raw(value)
        out.byte(0x0a)
        try out.write()
    }
}

/// `vault export LABEL [--format json|env] [--prefix TEXT]` (CLI.md): every field, for the
/// receiving system.
struct Export: VaultCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable { case json, env }

    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Print all credential fields of an entry, secrets included, for the receiving system.",
        discussion: """
        json (default): one object, each field a string (division a number). env: one \
        NAME='value' line per field, NAME the prefix (VAULT_ unless --prefix gives another, \
        such as ACME_) followed by the field name in upper case, each ' written as '\\''. The \
        field names come from the sender: a NAME that a shell, the dynamic loader or an \
        interpreter acts on (PROMPT_COMMAND, LD_PRELOAD, NODE_OPTIONS, …) is refused, and then \
        nothing is printed.

        --all (json only): every entry as one object whose members are the labels, each holding \
        the object that export LABEL prints, sorted by label.

        Examples:
          (umask 077; vault export "Acme BV" > /run/secrets/acme.json)
          eval "$(vault export --format env "Acme BV")"      # VAULT_CLIENT_ID='…' …
          (umask 077; vault export --format env --prefix ACME_ "Acme BV" > /run/secrets/acme.env)
          (umask 077; vault export --all > /run/secrets/all.json)
        """
    )
    static let holdsSecrets = true

    @Argument(help: ArgumentHelp("The entry's label (or --all).", valueName: "label")) var label: String?
    @Option(help: ArgumentHelp("json or env.", valueName: "format")) var format: Format = .json
    @Flag(help: "Every entry, as one JSON object keyed by label (ExportAll.swift).") var all = false
    @Option(help: ArgumentHelp("env: the start of every variable name, [A-Z][A-Z0-9_]*_ (default VAULT_).", valueName: "text"))
    var prefix: String?
    @OptionGroup var version: EntryVersionOption
    @OptionGroup var keystore: KeystoreOptions

    mutating func validate() throws { try validateAll() }

    mutating func execute(_ context: Context) async throws {
        // Usage first, before the keystore costs a KDF run.
        if let prefix {
            guard format == .env else {
                throw CLIFailure.usage("--prefix is for --format env", hints: ["JSON keys are the field names as stored"])
            }
            try EnvNames.checkPrefix(prefix)
        }
        guard let label else { return try await exportAll(context) }
        // The env names are checked on the field names before the read is logged: a refused
        // export hands out nothing, and leaves no record of a read.
        let command = self
        let entry = try await Entries.load(label, version: version.entryVersion, for: .export, keystore, context,
                                           check: format == .env ? { summary in _ = try command.envNames(label: summary.label, fields: summary.fieldNames) } : nil)
        let names = try envNames(label: entry.label, fields: entry.fields.map(\.name))
        let out = try SecretOutput(capacity: SecretOutput.capacity(entry.fields.map(\.value), extra: 16 + entry.fields.map { $0.name.utf8.count * 2 + 8 }.reduce(0, +) + names.map(\.utf8.count).reduce(0, +)))
        switch format {
        case .json:
            out.text("{")
            for (i, f) in entry.fields.enumerated() {
                out.text((i == 0 ? "\n  " : ",\n  ") + JSONOut.quote(f.name) + ": ")
                if f.name == "division" && entry.type == CredentialType.exactOnline.rawValue { out.raw(f.value) } else { out.jsonString(f.value) }
            }
            out.text("\n}\n")
        case .env:
            for (f, name) in zip(entry.fields, names) {
                out.text(name + "=")
                out.shellQuoted(f.value)
                out.byte(0x0a)
            }
        }
        try out.write()
    }

    /// The env names of every field, all checked before anything is printed: one refused name
    /// refuses the whole export, so a script never evaluates half of it.
    /// - Throws: `CLIFailure` (status 1) naming the field and the variable.
    private func envNames(label: String, fields: [String]) throws -> [String] {
        guard format == .env else { return [] }
        let prefix = self.prefix ?? EnvNames.defaultPrefix
        var seen: Set<String> = []
        return try fields.map { field in
            let name = prefix + field.uppercased()
            let reason = EnvNames.refusal(name) ?? (seen.insert(name).inserted ? nil : "which another field also makes")
            if let reason {
                throw CLIFailure.failed("entry \(Escape.quoted(label)): field \(Escape.quoted(field)) would set \(Escape.quoted(name)), \(reason); nothing was exported",
                                        hints: ["the sender chose the field names: export with another --prefix, or read this field with vault get"])
            }
            return name
        }
    }
}

/// `vault remove LABEL`: the entry and its history go; its blob ids stay in the replay ledger.
struct Remove: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove an entry and its history (its blob ids stay in the replay ledger).",
        discussion: """
        Example:
          vault remove "Acme BV"
        """
    )
    static let holdsSecrets = true

    @Argument(help: ArgumentHelp("The entry's label.", valueName: "label")) var label: String
    @OptionGroup var keystore: KeystoreOptions

    mutating func execute(_ context: Context) async throws {
        let (store, _) = try await KeystoreAccess.open(keystore, context)
        let label = self.label
        try await KeystoreAccess.run("cannot remove \(Escape.quoted(label))", label: label, in: store) { try await store.remove(label) }
        Console.hint("removed \(Escape.quoted(label)); a blob that was stored under it stays refused as a replay")
    }
}

/// `vault passwd [--new-passphrase-file FILE] [--kdf PROFILE]`: a new passphrase, and a new
/// master key (issue 8 item 3): the old passphrase opens nothing stored from now on.
struct Passwd: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "passwd",
        abstract: "Change the keystore's passphrase (or give a key-file keystore one instead of its key file).",
        discussion: """
        Unlocks with the current passphrase or key file, then sets the new passphrase, asked \
        twice at a terminal or read from --new-passphrase-file. The keystore is re-keyed: a new \
        master key, every entry encrypted again, so the old passphrase (or key file) opens \
        nothing stored from now on. A copy of the keystore made before still opens with the old \
        one: delete old copies you no longer trust. The new passphrase replaces the way the \
        keystore was unlocked (and keeps its name, vault unlock list): after it, a key file \
        used to unlock it no longer does. Other unlock methods keep working. The KDF profile \
        stays as it was unless --kdf is given.

        Examples:
          vault passwd
          vault passwd --passphrase-file old.txt --new-passphrase-file new.txt
        """
    )
    static let holdsSecrets = true

    @Option(name: .customLong("new-passphrase-file"), help: ArgumentHelp("Read the new passphrase from the first line of this file.", valueName: "file"))
    var newPassphraseFile: String?

    @Option(help: ArgumentHelp("Argon2id limits for the new passphrase: interactive, moderate or sensitive "
                               + "(default: the current passphrase's profile; moderate for a key-file keystore).", valueName: "profile"))
    var kdf: KDFProfile?

    @Flag(name: .customLong("allow-weak-passphrase"), help: "Accept a new passphrase that is easy to guess (refused by default, saying why).")
    var allowWeakPassphrase = false

    @OptionGroup var keystore: KeystoreOptions

    mutating func execute(_ context: Context) async throws {
        // The new passphrase's source is checked first, "at once" (CLI.md): a missing terminal or
        // a bad file is reported before the old passphrase costs a KDF run.
        var passphrase: SecretBytes?
        if let file = newPassphraseFile {
            passphrase = try KeystoreAccess.newPassphrase(file: file, option: "--new-passphrase-file", allowWeak: allowWeakPassphrase, context)
        } else {
            _ = try context.requireTerminal(for: "the new passphrase", option: "--new-passphrase-file FILE")
        }
        let keyFile = context.value(option: keystore.keyFile, variable: "VAULT_KEY_FILE")
        let (store, path) = try await KeystoreAccess.open(keystore, context)
        let before = try await KeystoreAccess.run("cannot read the keystore's unlock methods") { try await store.unlockedMethod() }
        // Issue 8 item 4: never lower (or raise) the cost of guessing in silence.
        let profile = kdf ?? before.profile ?? .moderate
        let new = try passphrase ?? KeystoreAccess.newPassphrase(file: nil, option: "--new-passphrase-file", allowWeak: allowWeakPassphrase, context)
        let methods = try await KeystoreAccess.run("cannot read the keystore's unlock methods") { try await store.unlockMethods() }
        let others = methods.filter { $0.name != before.name }
        // A key file replaced by a passphrase takes the name 'passphrase', numbered when another
        // method has it (passwd has no --name: it must not fail on a name).
        let name = before.kind == .passphrase ? nil : UnlockMethodName.free("passphrase", taken: others.map(\.name))
        try await KeystoreAccess.run("cannot change the passphrase of \(Escape.quoted(path))") {
            try await store.changeProtection(to: .passphrase(new, profile: profile), name: name)
        }
        // The new passphrase replaces the method that unlocked: a server's key file stops working.
        if let keyFile {
            let rest = others.isEmpty ? "only the new passphrase does" : "the new passphrase and the other unlock methods do"
            Console.warning("the key file \(Escape.quoted(keyFile)) no longer unlocks \(Escape.quoted(path)); \(rest)")
        }
        if let old = before.profile, old != profile {
            Console.hint("the KDF profile changes from \(old.rawValue) to \(profile.rawValue)")
        }
        Console.hint("the passphrase of \(Escape.quoted(path)) is changed and the keystore re-keyed: the old passphrase opens nothing stored "
                     + "from now on; copies of the keystore made before still open with it")
    }
}

/// Reading one entry for `get` and `export`.
enum Entries {
    /// The current version of `label`, or its entry version `version` (1 = oldest, as
    /// `vault show --history` numbers them). The keystore logs the read (`read` names who reads
    /// which fields) before it hands the values out; a read it could not log (a keystore that
    /// cannot be written, unlogged reads allowed) is warned about.
    /// - Parameter check: runs first on the version's summary (no values, no record), so a
    ///   refusal that needs only field names hands out nothing and logs nothing.
    static func load(_ label: String, version: Int? = nil, for read: SecretRead, _ options: KeystoreOptions,
                     _ context: Context, check: ((KeystoreEntrySummary) throws -> Void)? = nil) async throws -> KeystoreEntry {
        let (store, path) = try await KeystoreAccess.open(options, context)
        if let check {
            let versions = try await KeystoreAccess.run("cannot read \(Escape.quoted(label))", label: label, in: store) {
                try await store.versions(label)
            }
            if let v = version.map({ $0 <= versions.count ? versions[$0 - 1] : nil }) ?? versions.last { try check(v) }
        }
        let entry = try await KeystoreAccess.run("cannot read \(Escape.quoted(label))", label: label, in: store) {
            try await store.entry(label, version: version, for: read)
        }
        KeystoreAccess.warnUnlogged(store, path)
        return entry
    }
}
