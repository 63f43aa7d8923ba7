import ArgumentParser
import VaultKit

/// `vault webhook verify LABEL [FILE|-] [--print-content]`: checks an Exact Online webhook's
/// HashCode with the entry's webhook secret, which never leaves the keystore.
struct Webhook: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook",
        abstract: "Check Exact Online webhooks with an entry's webhook secret.",
        subcommands: [WebhookVerify.self]
    )
}

struct WebhookVerify: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that a webhook body's HashCode matches its Content under the entry's webhook secret.",
        discussion: """
        The body is Exact's request body exactly as received, {"Content":{…},"HashCode":"…"}, \
        from FILE or standard input. HashCode must be the HMAC-SHA256 of the Content text \
        exactly as sent (vault never re-encodes it), in hex of either case; it is compared in \
        constant time. Exit status: 0 it matches, 1 it does not (or the entry has no webhook \
        secret), 2 the body is not the webhook shape. --print-content writes the Content text \
        and one LF to standard output, only when it matches.

        Examples:
          vault webhook verify "Acme BV" body.json
          printf '%s' "$BODY" | vault webhook verify --print-content "Acme BV" -
        """
    )
    static let holdsSecrets = true

    @Argument(help: ArgumentHelp("The entry's label.", valueName: "label")) var label: String
    @Argument(help: ArgumentHelp("The webhook body (- or nothing for standard input).", valueName: "file")) var file: String = "-"

    @Flag(name: .customLong("print-content"), help: "Write the verified Content text to standard output.")
    var printContent = false

    @OptionGroup var keystore: KeystoreOptions

    mutating func execute(_ context: Context) async throws {
        let body = try InputFile.readPublic(file)
        // The shape is checked before the keystore is unlocked: a stray body costs no KDF run.
        let shape: ExactWebhookBody
        do {
            shape = try body.withUnsafeBytes { try ExactWebhookBody.parse($0) }
        } catch let error as ExactWebhookError {
            throw CLIFailure(message: "\(InputFile.display(file)) is not an Exact Online webhook body: \(Messages.webhook(error))",
                             hints: ["give the request body exactly as Exact sent it"], status: .usage)
        }
        let (store, _) = try await KeystoreAccess.open(keystore, context)
        let connector = ExactConnector(keystore: store, transport: HTTPHelperTransport())
        let label = self.label
        let matched = try await ExactAccess.run("cannot check the webhook for \(Escape.quoted(label))") {
            try await connector.verifyWebhook(label, body: body)
        }
        guard matched != nil else {
            throw CLIFailure.failed("the webhook's HashCode does not match its Content under the webhook secret of \(Escape.quoted(label))",
                                    hints: ["do not act on it: it was not signed with this entry's webhook secret, or it was changed on the way"])
        }
        if printContent {
            // Strict JSON (checked above), authenticated by the HashCode: no raw control character.
            Console.write(1, Array(body[shape.content]) + [0x0a])
        }
    }
}
