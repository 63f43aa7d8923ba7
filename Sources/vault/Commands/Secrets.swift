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
    @OptionGroup var keystore: KeystoreOptions

    mutating func execute(_ context: Context) async throws {
        let entry = try await Entries.load(label, keystore, context)
        guard let value = entry.field(field) else {
            throw CLIFailure.failed("entry \(Escape.quoted(entry.label)) has no field \(Escape.quoted(field))",
                                    hints: ["its fields: " + entry.fields.map(\.name).joined(separator: ", ")])
        }
        let out = try SecretOutput(capacity: value.count + 1)
        out.raw(value)
        out.byte(0x0a)
        try out.write()
    }
}

/// `vault export LABEL [--format json|env]` (CLI.md): every field, for the receiving system.
struct Export: VaultCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable { case json, env }

    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Print all credential fields of an entry, secrets included, for the receiving system.",
        discussion: """
        json (default): one object, each field a string (division a number). env: one \
        NAME='value' line per field, NAME the field name in upper case, each ' written as '\\''.

        --all (json only): every entry as one object whose members are the labels, each holding \
        the object that export LABEL prints, sorted by label.

        Examples:
          vault export "Acme BV" > /run/secrets/acme.json
          eval "$(vault export --format env "Acme BV")"
          vault export --all > /run/secrets/all.json
        """
    )
    static let holdsSecrets = true

    @Argument(help: ArgumentHelp("The entry's label (or --all).", valueName: "label")) var label: String?
    @Option(help: ArgumentHelp("json or env.", valueName: "format")) var format: Format = .json
    @Flag(help: "Every entry, as one JSON object keyed by label (ExportAll.swift).") var all = false
    @OptionGroup var keystore: KeystoreOptions

    mutating func validate() throws { try validateAll() }

    mutating func execute(_ context: Context) async throws {
        guard let label else { return try await exportAll(context) }
        let entry = try await Entries.load(label, keystore, context)
        let out = try SecretOutput(capacity: SecretOutput.capacity(entry.fields.map(\.value), extra: 16 + entry.fields.map { $0.name.utf8.count * 2 + 8 }.reduce(0, +)))
        switch format {
        case .json:
            out.text("{")
            for (i, f) in entry.fields.enumerated() {
                out.text((i == 0 ? "\n  " : ",\n  ") + JSONOut.quote(f.name) + ": ")
                if f.name == "division" && entry.type == CredentialType.exactOnline.rawValue { out.raw(f.value) } else { out.jsonString(f.value) }
            }
            out.text("\n}\n")
        case .env:
            for f in entry.fields {
                out.text(f.name.uppercased() + "=")
                out.shellQuoted(f.value)
                out.byte(0x0a)
            }
        }
        try out.write()
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
        try await KeystoreAccess.run("cannot remove \(Escape.quoted(label))") { try await store.remove(label) }
        Console.hint("removed \(Escape.quoted(label)); a blob that was stored under it stays refused as a replay")
    }
}

/// `vault passwd [--new-passphrase-file FILE]`: a new passphrase; the master key is rewrapped.
struct Passwd: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "passwd",
        abstract: "Change the keystore's passphrase (or give a key-file keystore one instead of its key file).",
        discussion: """
        Unlocks with the current passphrase or key file, then sets the new passphrase, asked \
        twice at a terminal or read from --new-passphrase-file. Only the wrapped master key \
        changes; the entries are not re-encrypted. The new passphrase replaces the old way of \
        unlocking: after it, a key file no longer unlocks the keystore.

        Examples:
          vault passwd
          vault passwd --passphrase-file old.txt --new-passphrase-file new.txt
        """
    )
    static let holdsSecrets = true

    @Option(name: .customLong("new-passphrase-file"), help: ArgumentHelp("Read the new passphrase from the first line of this file.", valueName: "file"))
    var newPassphraseFile: String?

    @Option(help: ArgumentHelp("Argon2id limits for the new passphrase: interactive, moderate or sensitive (default moderate).", valueName: "profile"))
    var kdf: KDFProfile = .moderate

    @OptionGroup var keystore: KeystoreOptions

    mutating func execute(_ context: Context) async throws {
        // The new passphrase's source is checked first, "at once" (CLI.md): a missing terminal or
        // a bad file is reported before the old passphrase costs a KDF run.
        var passphrase: SecretBytes?
        if let file = newPassphraseFile {
            passphrase = try KeystoreAccess.passphrase(fromFile: file, option: "--new-passphrase-file")
        } else {
            _ = try context.requireTerminal(for: "the new passphrase", option: "--new-passphrase-file FILE")
        }
        let keyFile = context.value(option: keystore.keyFile, variable: "VAULT_KEY_FILE")
        let (store, path) = try await KeystoreAccess.open(keystore, context)
        let new = try passphrase ?? KeystoreAccess.newPassphrase(file: nil, option: "--new-passphrase-file", context)
        let profile = kdf
        try await KeystoreAccess.run("cannot change the passphrase of \(Escape.quoted(path))") {
            try await store.changeProtection(to: .passphrase(new, profile: profile))
        }
        // The new passphrase replaces every key slot: a server's key file stops working.
        if let keyFile {
            Console.warning("the key file \(Escape.quoted(keyFile)) no longer unlocks \(Escape.quoted(path)); only the new passphrase does")
        }
        Console.hint("the passphrase of \(Escape.quoted(path)) is changed")
    }
}

/// Reading one entry for `get` and `export`.
enum Entries {
    static func load(_ label: String, _ options: KeystoreOptions, _ context: Context) async throws -> KeystoreEntry {
        let (store, _) = try await KeystoreAccess.open(options, context)
        return try await KeystoreAccess.run("cannot read \(Escape.quoted(label))") { try await store.entry(label) }
    }
}
