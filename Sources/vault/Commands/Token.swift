import ArgumentParser
import VaultKit

/// `vault token LABEL [--json] [--min-valid SECONDS]`: a valid Exact Online access token for
/// the receiving system, which never sees the client secret or the refresh token.
struct Token: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Print an Exact Online access token valid for at least --min-valid seconds.",
        discussion: """
        The stored access token is printed if it is valid long enough; otherwise vault \
        refreshes it under the entry's token lease, so that of many processes asking at once \
        exactly one talks to Exact, and stores Exact's new refresh token durably before it \
        prints anything. The token goes to standard output with one LF; --json adds its expiry \
        and the site's base URL (fields in docs/JSON.md). If an earlier refresh was interrupted \
        after sending the refresh token (a killed process, a lost connection), the next call \
        finds out and says exactly what to do. Every token printed is recorded in the \
        keystore's audit log (token-read) before it is printed.

        Examples:
          TOKEN=$(vault token "Acme BV")
          vault token --json --min-valid 300 "Acme BV"
        """
    )
    static let holdsSecrets = true

    @Argument(help: ArgumentHelp("The entry's label.", valueName: "label")) var label: String

    @Flag(help: "Print JSON with the expiry and base URL.") var json = false

    @Option(name: .customLong("min-valid"), help: ArgumentHelp("Seconds the token must stay valid (0 to 3600).", valueName: "seconds"))
    var minValid: Int = 60

    @OptionGroup var exact: ExactOptions
    @OptionGroup var keystore: KeystoreOptions

    func validate() throws {
        guard (0...3600).contains(minValid) else { throw ValidationError("--min-valid must be 0 to 3600 seconds") }
    }

    mutating func execute(_ context: Context) async throws {
        let connector = try await ExactAccess.connector(keystore, exact, context)
        let (label, minValid) = (self.label, self.minValid)
        let token = try await ExactAccess.run("cannot get an access token for \(Escape.quoted(label))") {
            try await connector.accessToken(label, minValid: minValid)
        }
        if let phase = token.recovered {
            // The stored refresh token had been sent once without its answer being stored:
            // Exact had not replaced it after all.
            let what = switch phase {
            case .uncertain(let t): "sent at \(Messages.time(t)) got no usable answer"
            case .inFlight(let t), .refused(let t): "sent at \(Messages.time(t)) was interrupted"
            case .clean: "was interrupted"
            }
            Console.warning("an earlier refresh of \(Escape.quoted(label)) \(what); Exact still accepted the stored refresh token, so nothing was lost")
        }
        KeystoreAccess.warnUnlogged(connector.keystore, connector.keystore.storage.location)
        let out = try SecretOutput(capacity: token.token.count * 6 + token.baseURL.utf8.count * 6 + 200)
        if json {
            out.text("{\n  \"access_token\": ")
            out.jsonString(token.token)
            out.text(",\n  \"token_type\": \"bearer\",\n  \"expires\": " + JSONOut.quote(token.expires)
                     + ",\n  \"base_url\": " + JSONOut.quote(token.baseURL) + "\n}\n")
        } else {
            out.raw(token.token)
            out.byte(0x0a)
        }
        try out.write()
    }
}
