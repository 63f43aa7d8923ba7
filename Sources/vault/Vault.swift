import ArgumentParser
import VaultKit

/// The root command. A new subcommand is a file under Commands/ with a type conforming to
/// `VaultCommand`, added to `subcommands` below.
struct Vault: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "vault",
            abstract: "Hand app credentials from a customer to an integrator, sealed to the integrator's key.",
            discussion: """
            The integrator publishes a recipient key; the customer seals the app's credentials to \
            it and e-mails the sealed file; only the integrator's keystore opens it. An auditor \
            checks fingerprints of keys and blobs without holding any secret.

            Exit status: 0 success, 1 the operation failed or a check did not match, 2 a usage mistake.

            Example:
              vault seal --to integrator.pub -o acme.vault
            """,
            version: versionText,
            subcommands: Self.commands
        )
    }

    /// What `vault --version` prints.
    static var versionText: String { BuildInfo.versionLine }

    /// Every subcommand, in the order `--help` lists them.
    static let commands: [ParsableCommand.Type] = [
        Init.self,
        RecipientCommand.self,
        OpenCommand.self,
        RequestCommand.self,
        RequestsCommand.self,
        List.self,
        Show.self,
        Get.self,
        Export.self,
        Remove.self,
        Passwd.self,
        IdentitiesCommand.self,
        Rotate.self,
        Retire.self,
        IdentityCommand.self,
        UnlockCommand.self,
        BackupCommand.self,
        Restore.self,
        SettingsCommand.self,
        LogCommand.self,
        Connect.self,
        Token.self,
        Status.self,
        Webhook.self,
        Verify.self,
        Migrate.self,
        Seal.self,
        FingerprintCommand.self,
        Inspect.self,
    ]
}
