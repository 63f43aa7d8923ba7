import ArgumentParser
import VaultKit

/// `vault seal` (CLI.md, Customer): seals app credentials to the integrator's recipient key.
struct Seal: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "seal",
        abstract: "Seal app credentials to an integrator's key, for e-mailing to them.",
        discussion: """
        RECIPIENT is the integrator's recipient string (vault1…) or their public key file (.pub). \
        At a terminal, vault shows the key's fingerprint for you to check against the integrator's \
        manual (not needed with --expect-fingerprint), asks each missing field, the secrets twice \
        with echo off, and writes the sealed text to standard output or -o FILE. The client ID \
        and secrets are on the app's page under "Manage my apps" in the Exact Online App Center.

        If the integrator sent you a hand-off request, give it with --request instead of --to and \
        --label: the key, the label and the request's code come from it, and the integrator \
        accepts one blob for it, before it expires (docs/CUSTOMER.md).

        Without a terminal nothing is asked: every value comes from the options and --input, a \
        JSON object of the credentials fields (client_id, client_secret, webhook_secret, region, \
        redirect_uri, app_name, division; or any fields with --type generic). Secrets are never \
        taken from the command line.

        Examples:
          vault seal --to integrator.pub -o acme.vault
          vault seal --to integrator.pub --expect-fingerprint 'SHA256:3f2a…' \\
              --label 'Acme BV' --input credentials.json -o acme.vault
          vault seal --request acme-request.txt -o acme.vault
        """
    )
    static let holdsSecrets = true

    @Option(name: .customLong("to"), help: ArgumentHelp("The integrator's recipient string or .pub file.", valueName: "recipient"))
    var recipient: String?

    @Option(help: ArgumentHelp("The fingerprint from the integrator's manual; a different key is refused.", valueName: "fp"))
    var expectFingerprint: String?

    @Option(help: ArgumentHelp("The integrator's hand-off request (a file, or - for pasted text): recipient, label and code come from it.",
                               valueName: "file"))
    var request: String?

    @Option(help: ArgumentHelp("The name the integrator will store these credentials under (your company or administration).", valueName: "text"))
    var label: String?

    @Option(help: ArgumentHelp("exact-online (default) or generic.", valueName: "type"))
    var type: String = CredentialType.exactOnline.rawValue

    @Option(help: ArgumentHelp("The app's Client ID (a GUID), from \"Manage my apps\" in the Exact Online App Center.", valueName: "guid"))
    var clientID: String?

    @Option(help: ArgumentHelp("The Exact Online site: nl be de uk us es fr (default nl).", valueName: "code"))
    var region: String?

    @Option(help: ArgumentHelp("The app's Redirect URI, exactly as registered.", valueName: "url"))
    var redirectURI: String?

    @Option(help: ArgumentHelp("The app's name in the App Center.", valueName: "text"))
    var appName: String?

    @Option(help: ArgumentHelp("The Exact Online administration (division) number.", valueName: "n"))
    var division: Int?

    @Option(help: ArgumentHelp("Who sends this (your name); shown to the integrator.", valueName: "text"))
    var from: String?

    @Option(help: ArgumentHelp("A note for the integrator.", valueName: "text"))
    var note: String?

    @Option(help: ArgumentHelp("How long the integrator may open it: Nh or Nd, 1h to 365d.", valueName: "duration"))
    var expires: String = "30d"

    @Option(help: ArgumentHelp("A JSON file (- for standard input) with the credentials fields, secrets included.", valueName: "file"))
    var input: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the sealed text to this file instead of standard output.", valueName: "file"))
    var output: String?

    @Flag(help: "Replace the output file if it exists.")
    var force = false

    mutating func execute(_ context: Context) throws {
        // Everything given on the command line is checked before anything is read or asked.
        let options = try SealOptions(self)
        // Refuse an existing output file now, not after the customer has typed everything.
        if let output = options.output { try OutputFile.refuseExisting(output, force: options.force, reads: options.reads) }
        let target = try target(options)
        var fields = try options.input.map { try CredentialsInput.read($0, type: options.type) } ?? CredentialsInput.Fields(type: options.type)
        try fields.merge(options)

        let terminal = context.terminal
        var asked = false
        if let expected = options.expectedFingerprint {
            guard expected == target.key.fingerprint else {
                throw KeyArgument.mismatch("the recipient key", expected: expected, actual: target.key.fingerprint)
            }
        } else if let terminal {
            try SealPrompts.confirmFingerprint(target.key.fingerprint, on: terminal)
            asked = true
        }

        var draft = SealPrompts.Draft(fields: fields, label: options.label ?? target.label, from: options.from,
                                      note: options.note, expiresSeconds: options.expiresSeconds, request: target.request)
        if let terminal {
            if try SealPrompts.askMissing(&draft, on: terminal, askOptional: options.input == nil) { asked = true }
            // What the person typed is shown back before anything is sealed (issue 9); a fully
            // scripted run at a terminal (nothing asked) is not stopped by a question.
            if asked { try SealReview.confirm(&draft, recipient: target.key.fingerprint, now: Handoff.now(), on: terminal) }
        }
        // From here on nothing waits for a person: the times sealed are those of the sealing.
        guard let label = draft.label else { throw missing("the label", option: "--label TEXT") }
        let credentials = try draft.fields.credentials(missing: missing)
        draft.fields.warnUnusualSecrets()

        let now = Handoff.now()
        let payload = Payload(id: Handoff.newCode(), recipient: target.key.fingerprint, created: now,
                              expires: now.adding(seconds: draft.expiresSeconds), label: label, from: draft.from,
                              note: draft.note, request: target.request, credentials: credentials)
        // A sealer never sends what an opener would refuse: every rule of FORMAT.md §5, first.
        do { try PayloadRules.validate(payload) } catch { throw Messages.failure("nothing was sealed", error) }
        let text: String
        do { text = try Handoff.seal(payload, to: target.key) } catch { throw Messages.failure("cannot seal", error) }

        if let output = options.output {
            try OutputFile.write(Array(text.utf8), to: output, force: options.force, reads: options.reads)
        } else {
            Console.out(text)
        }
        if options.expectedFingerprint == nil && terminal == nil {
            Console.warning("the recipient's fingerprint was not checked")
            Console.hint("next time add --expect-fingerprint with the fingerprint from the integrator's manual")
        }
        Console.hint("sealed for \(target.key.fingerprint.canonical); the integrator can open it until \(payload.expires.text)")
        Console.hint(options.output.map { "e-mail the file \(Escape.quoted($0)) to your integrator; only their key opens it" }
                     ?? "e-mail the text above, BEGIN and END lines included, to your integrator; only their key opens it")
    }

    /// Who the blob is for: `--to`, or a hand-off request, which also gives the label and code.
    private func target(_ options: SealOptions) throws -> (key: PublicKey, label: String?, request: String?) {
        if let file = options.request {
            let text = try InputFile.readPublic(file)
            let request: HandoffRequest
            do { request = try HandoffRequests.read(text) } catch {
                let kind = FileKind.of(text)
                if case .armor = error, kind != .text, kind != .request {
                    throw FileKind.mismatch("--request \(InputFile.display(file))", is: kind, wanted: "a hand-off request text",
                                            hints: ["--request takes the text the integrator sent (-----BEGIN VAULT HAND-OFF REQUEST-----)"])
                }
                throw Messages.failure("--request \(InputFile.display(file))", error)
            }
            // Sealing for a request the integrator no longer accepts would only be refused there.
            guard Handoff.now() < request.expires else {
                throw CLIFailure.failed("the hand-off request for \(Escape.quoted(request.label)) expired at \(request.expires.text); nothing was sealed",
                                        hints: ["ask the integrator for a new request"])
            }
            let key: PublicKey
            do { key = try PublicKey(bytes: request.recipient) } catch { throw Messages.failure("--request \(InputFile.display(file))", error) }
            return (key, request.label, request.code)
        }
        guard let recipient = options.recipient else {
            throw CLIFailure.usage("missing --to RECIPIENT", hints: ["give the integrator's recipient string (vault1…) or their .pub file, or their hand-off request with --request FILE"])
        }
        return (try KeyArgument.recipient(recipient, option: "--to"), nil, nil)
    }

    private func missing(_ what: String, option: String) -> CLIFailure {
        CLIFailure.usage("\(what) is missing (and there is no terminal to ask it on)", hints: ["give it with \(option)"])
    }
}

/// The options of `seal`, each checked against its rule (a broken one is a usage mistake,
/// status 2, naming the option and the rule).
struct SealOptions {
    let recipient: String?
    let request: String?
    let expectedFingerprint: Fingerprint?
    let label: String?
    let type: CredentialType
    let clientID: String?
    let region: Region?
    let redirectURI: String?
    let appName: String?
    let division: Int?
    let from: String?
    let note: String?
    let expiresSeconds: Int64
    let input: String?
    let output: String?
    let force: Bool

    init(_ s: Seal) throws {
        func check(_ option: String, _ value: String?, _ rule: (String) -> String?) throws {
            guard let value, let broken = rule(value) else { return }
            throw CLIFailure.usage("\(option) \(Escape.quoted(value)) \(broken)")
        }
        guard let type = CredentialType(rawValue: s.type) else {
            throw CLIFailure.usage("--type \(Escape.quoted(s.type)) must be exact-online or generic")
        }
        try check("--label", s.label, PayloadRules.label)
        try check("--from", s.from, PayloadRules.from)
        try check("--note", s.note, PayloadRules.note)
        try check("--client-id", s.clientID) { PayloadRules.normalizedClientID($0) == nil ? "must be a GUID (8-4-4-4-12 hex digits)" : nil }
        try check("--redirect-uri", s.redirectURI, PayloadRules.redirectURI)
        try check("--app-name", s.appName, PayloadRules.appName)
        // Case is a typing matter on the command line, as at the prompt: NL is nl.
        try check("--region", s.region) { Region(rawValue: $0.lowercased()) == nil ? "must be one of nl be de uk us es fr" : nil }
        try check("--expires", s.expires) { Expiry.seconds($0) == nil ? Expiry.rule : nil }
        if let d = s.division, !(1...PayloadRules.divisionMaximum).contains(d) {
            throw CLIFailure.usage("--division \(d) must be an integer from 1 to \(PayloadRules.divisionMaximum)")
        }
        if type == .generic {
            let exactOnly = [("--client-id", s.clientID), ("--region", s.region), ("--redirect-uri", s.redirectURI),
                             ("--app-name", s.appName), ("--division", s.division.map(String.init))]
            if let (option, _) = exactOnly.first(where: { $0.1 != nil }) {
                throw CLIFailure.usage("\(option) is for --type exact-online", hints: ["with --type generic every field comes from --input FILE"])
            }
            if s.input == nil {
                throw CLIFailure.usage("--type generic takes its fields from --input FILE", hints: ["a JSON object of field names and string values"])
            }
        }
        if s.request != nil {
            // The request names the key and the label the integrator accepts: a second source
            // for either could only disagree with it.
            if s.recipient != nil { throw CLIFailure.usage("give --request or --to, not both: the request names the integrator's key") }
            if s.label != nil {
                throw CLIFailure.usage("give --request or --label, not both: the request names the label the integrator accepts")
            }
            if s.request == "-" && s.input == "-" {
                throw CLIFailure.usage("--request and --input cannot both read standard input", hints: ["give one of them as a file"])
            }
        }
        recipient = s.recipient
        request = s.request
        expectedFingerprint = try s.expectFingerprint.map { try KeyArgument.expectedFingerprint($0, option: "--expect-fingerprint") }
        label = s.label
        self.type = type
        clientID = s.clientID.flatMap(PayloadRules.normalizedClientID)
        region = s.region.flatMap { Region(rawValue: $0.lowercased()) }
        redirectURI = s.redirectURI
        appName = s.appName
        division = s.division
        from = s.from
        note = s.note
        expiresSeconds = Expiry.seconds(s.expires)!
        input = s.input
        output = s.output == "-" ? nil : s.output
        force = s.force
    }

    /// The files `seal` reads, which its output never replaces: the recipient's .pub file and
    /// the --input file.
    var reads: [ReadFile] {
        var files: [ReadFile] = []
        if let recipient, !KeyArgument.isRecipientString(recipient) { files.append(ReadFile(path: recipient, role: "the --to public key file")) }
        if let request { files.append(ReadFile(path: request, role: "the --request file")) }
        if let input { files.append(ReadFile(path: input, role: "the --input file")) }
        return files
    }
}
