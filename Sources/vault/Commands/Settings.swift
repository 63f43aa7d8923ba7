import ArgumentParser
import VaultKit

/// `vault settings [NAME [on|off]]`: the keystore's own policy, recorded (and logged) in it.
struct SettingsCommand: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "settings",
        abstract: "Show or change the keystore's settings (require-request, unlogged-reads).",
        discussion: """
        Without arguments, lists every setting and its value (off unless set). A change is \
        recorded in the keystore with its audit record.

        require-request on: vault open refuses every blob that answers no open hand-off \
        request of this keystore, as --require-request does.

        unlogged-reads on: where the keystore cannot be written (a read-only mount), a read of \
        secrets (get, export, token) is made without its audit record, with a warning; off \
        (the default): such a read fails. Set it while the keystore is writable.

        Examples:
          vault settings
          vault settings require-request on
        """
    )
    static let holdsSecrets = true

    @Argument(help: ArgumentHelp("The setting to show or change.", valueName: "name")) var name: String?
    @Argument(help: ArgumentHelp("on or off.", valueName: "value")) var value: String?
    @OptionGroup var keystore: KeystoreOptions

    func validate() throws {
        if let name, !KeystoreSettingName.all.contains(name) {
            throw ValidationError("there is no setting \(Escape.quoted(name)); the settings are "
                                  + KeystoreSettingName.all.joined(separator: ", "))
        }
        if let value, !["on", "off"].contains(value) { throw ValidationError("a setting is on or off, not \(Escape.quoted(value))") }
    }

    mutating func execute(_ context: Context) async throws {
        let (store, _) = try await KeystoreAccess.open(keystore, context)
        if let name, let value {
            try await KeystoreAccess.run("cannot change the setting \(name)") { try await store.setSetting(name, to: value) }
            Console.hint("\(name) is \(value)")
            return
        }
        var rows: [[String]] = []
        for n in name.map({ [$0] }) ?? KeystoreSettingName.all {
            let v = try await KeystoreAccess.run("cannot read the setting \(n)") { try await store.setting(n) }
            rows.append([n, v ?? "off"])
        }
        Console.out(Table.render(rows, header: false))
    }
}
