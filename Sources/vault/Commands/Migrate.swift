import ArgumentParser
import VaultKit

/// `vault migrate --from LOCATION --to LOCATION`: moves a keystore between back ends (a file and
/// a PostgreSQL database, either way), then checks the copy (docs/KEYSTORE.md §13).
struct Migrate: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy a keystore to another back end (a file into PostgreSQL, or back) and check the copy.",
        discussion: """
        Copies the keystore at --from to --to, where no keystore may exist yet (nothing is \\
        replaced): the same identities, unlock methods, entries with their history, replay \\
        ledger, token states and settings, so the same passphrase or key file unlocks the copy. \\
        The copy is then read back: every record must authenticate, and its live records must \\
        equal the source's byte for byte. The source changes only by the audit record of \\
        the copy (a copy holds every secret), which the copy ends with too; stop the processes \\
        that write to it first, and point them at the copy afterwards. A postgres:// address never \\
        holds a password: it comes from PGPASSFILE or --db-password-file.

        Examples:
          vault migrate --from /srv/vault/keystore.vault --to 'postgres://vault@db1:5432/vault?sslmode=verify-full' --key-file /srv/vault/keystore.key
          vault migrate --from 'postgres://vault@db1/vault' --to /srv/vault/restored.vault --key-file /srv/vault/keystore.key
        """
    )
    static let holdsSecrets = true

    @Option(help: ArgumentHelp("The keystore to copy: a file, or a postgres:// address.", valueName: "location"))
    var from: String

    @Option(help: ArgumentHelp("Where to put the copy: a new file, or a postgres:// address with no keystore yet.", valueName: "location"))
    var to: String

    @Option(name: .customLong("key-file"), help: ArgumentHelp("Unlock the source with this key file (else VAULT_KEY_FILE).", valueName: "file"))
    var keyFile: String?

    @Option(name: .customLong("passphrase-file"), help: ArgumentHelp(
        "Unlock the source with the first line of this file (else VAULT_PASSPHRASE_FILE, else it is asked).", valueName: "file"))
    var passphraseFile: String?

    @Option(name: .customLong("db-password-file"), help: ArgumentHelp(
        "The database password for a postgres:// location, on the first line of this file (else PGPASSFILE).", valueName: "file"))
    var dbPasswordFile: String?

    mutating func execute(_ context: Context) async throws {
        guard from != to else { throw CLIFailure.usage("--from and --to name the same keystore") }
        if dbPasswordFile != nil, !KeystoreLocation.isDatabase(from), !KeystoreLocation.isDatabase(to) {
            throw CLIFailure.usage("--db-password-file applies to a postgres:// location; neither --from nor --to is one")
        }
        var source = KeystoreOptions()
        source.keystore = from
        source.keyFile = keyFile
        source.passphraseFile = passphraseFile
        source.dbPasswordFile = KeystoreLocation.isDatabase(from) ? dbPasswordFile : nil
        var target = KeystoreOptions()
        target.keystore = to
        target.dbPasswordFile = KeystoreLocation.isDatabase(to) ? dbPasswordFile : nil
        // Both locations are checked before the source is unlocked (the KDF may take seconds).
        let targetStorage = try KeystoreAccess.storage(to, target, context)
        let (store, _) = try await KeystoreAccess.open(source, context)
        let report = try await KeystoreAccess.run("cannot migrate the keystore to \(Escape.quoted(to))") { try await store.copy(to: targetStorage) }
        let v = report.verify
        Console.outLine("migrated \(Escape.quoted(from)) to \(Escape.quoted(to)): \(report.records) live records compared "
                        + "(\(v.entries) entries with \(v.versions) versions, \(report.ledger) blob ids in the ledger, "
                        + "\(v.identities) \(v.identities == 1 ? "identity" : "identities")); the copy verifies")
        Console.hint("the source is unchanged but for the record of this copy in its audit log: point every process at \(Escape.quoted(to)), then archive or remove the source")
    }
}
