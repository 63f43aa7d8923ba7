import ArgumentParser
import FoundationEssentials
import Glibc
import VaultKit

/// `vault connect LABEL [--listen | --response FILE]`: authorises the app once for the
/// customer's Exact Online, and stores the tokens under the entry (never shown).
struct Connect: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Connect an entry to the customer's Exact Online (once): the authorisation URL, then the code.",
        discussion: """
        Prints the authorisation URL (with a new random state, recorded in the keystore). Open \
        it in a browser; a user of the customer's Exact Online logs in and allows the app; \
        Exact sends the browser to the app's redirect URI with a code. At a terminal, paste \
        that whole address (or the code) when asked: it is read with echo off. Without a \
        terminal, finish later with --response FILE (- for standard input). With --listen, \
        vault receives the redirect itself on a loopback redirect URI \
        (http://localhost:PORT/…). The state is checked, the code exchanged and the tokens \
        stored; nothing secret is printed. Connecting again replaces the tokens.

        Examples:
          vault connect "Acme BV"
          vault connect --listen --redirect-uri http://localhost:8765/callback "Acme BV"
          vault connect "Acme BV" > url.txt; vault connect --response redirect.txt "Acme BV"
        """
    )
    static let holdsSecrets = true

    @Argument(help: ArgumentHelp("The entry's label.", valueName: "label")) var label: String

    @Flag(help: "Receive the redirect on the loopback redirect URI instead of asking for it.") var listen = false

    @Option(name: .customLong("redirect-uri"), help: ArgumentHelp("The app's registered redirect URI, if the entry has none (or another).", valueName: "uri"))
    var redirectURI: String?

    @Option(help: ArgumentHelp("Finish the authorisation begun earlier: the redirected address or the code, from this file (- for standard input).", valueName: "file"))
    var response: String?

    @Option(help: ArgumentHelp("Seconds --listen waits for the redirect.", valueName: "seconds"))
    var wait: Int = 300

    @OptionGroup var exact: ExactOptions
    @OptionGroup var keystore: KeystoreOptions

    func validate() throws {
        if listen && response != nil { throw ValidationError("--listen and --response exclude each other") }
        if response != nil && redirectURI != nil { throw ValidationError("--redirect-uri is given when the authorisation begins, not with --response") }
        guard (1...3600).contains(wait) else { throw ValidationError("--wait must be 1 to 3600 seconds") }
    }

    mutating func execute(_ context: Context) async throws {
        if let r = redirectURI, let rule = PayloadRules.redirectURI(r) {
            throw CLIFailure.usage("--redirect-uri \(rule)")
        }
        let connector = try await ExactAccess.connector(keystore, exact, context)
        let label = self.label
        if let response {
            let pasted = try InputFile.readSecret(response, option: "--response", privacy: .warn)
            return try await finish(connector, pasted)
        }
        let redirect = redirectURI
        let auth = try await ExactAccess.run("cannot connect \(Escape.quoted(label))") {
            try await connector.beginAuthorization(label, redirectURI: redirect)
        }
        if listen {
            // Bound before the URL is shown, so the redirect can never arrive before vault listens.
            let listener = try LoopbackListener(redirectURI: auth.redirectURI)
            Console.outLine(auth.url)
            Console.hint("open this address in a browser, log in to the customer's Exact Online and allow the app; "
                         + "vault waits up to \(wait) s for the redirect to \(Escape.quoted(auth.redirectURI))")
            let query = try listener.waitForRedirect(until: Date().addingTimeInterval(Double(wait)))
            return try await finish(connector, query)
        }
        guard let terminal = context.terminal else {
            Console.outLine(auth.url)
            Console.hint("open this address in a browser and allow the app; then finish with: vault connect --response FILE "
                         + "\(InputFile.shellQuoted(label)), FILE holding the address the browser was sent to (or the code)")
            return
        }
        terminal.line("Open this address in a browser, log in to the customer's Exact Online and allow the app:")
        terminal.line()
        terminal.line("  " + auth.url)
        terminal.line()
        terminal.line("The browser is then sent to \(Escape.forTerminal(auth.redirectURI))?code=…")
        let pasted = try terminal.askSecret("Paste that whole address, or the code (not shown): ")
        terminal.line("Exchanging the code with Exact Online…")
        try await finish(connector, pasted)
    }

    private func finish(_ connector: ExactConnector, _ pasted: SecretBytes) async throws {
        let label = self.label
        let result = try await ExactAccess.run("cannot connect \(Escape.quoted(label))") {
            try await connector.completeAuthorization(label, response: try ExactAuthorizationResponse.parse(pasted))
        }
        if !result.stateChecked {
            Console.warning("only a code was given, so its state could not be checked against the authorisation vault began; "
                            + "paste the whole redirected address to have it checked")
        }
        Console.hint("\(Escape.quoted(label)) is connected to Exact Online; its access token expires at \(result.state.accessTokenExpires); "
                     + "the receiving system gets one with: vault token \(InputFile.shellQuoted(label))")
    }
}
