import ArgumentParser
import VaultKit

/// `vault verify`: authenticates every record of the keystore (issue 8 item 5).
struct Verify: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the whole keystore: every record decrypts and authenticates, and the log matches its committed state.",
        discussion: """
        Reads every record, not only those a command needs, and reports the first that is \\
        damaged or altered, by its sequence number and byte position. Changes nothing. Exit \\
        status 0 when everything verifies, 1 otherwise.

        Example:
          vault verify --keystore /srv/vault/keystore.vault --key-file /srv/vault/keystore.key
        """
    )
    static let holdsSecrets = true

    @OptionGroup var keystore: KeystoreOptions

    mutating func execute(_ context: Context) async throws {
        let (store, path) = try await KeystoreAccess.open(keystore, context)
        let report = try await KeystoreAccess.run("the keystore \(Escape.quoted(path)) does not verify") { try await store.verify() }
        Console.outLine("verified \(Escape.quoted(path)): \(report.records) records (\(report.logBytes) bytes), "
                        + "\(report.entries) entries with \(report.versions) versions, \(report.identities) "
                        + (report.identities == 1 ? "identity" : "identities"))
    }
}
