import ArgumentParser
import VaultKit

/// `vault request --label TEXT [--expires DURATION] [-o FILE]`, `vault request --cancel CODE`
/// (CLI.md, Integrator; FORMAT.md §7).
struct RequestCommand: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "request",
        abstract: "Issue a hand-off request for one customer (or cancel one), recorded in the keystore.",
        discussion: """
        Records a one-time code with the label and expiry (default 14d) and prints the request \
        text. Send it to the customer over a channel you already trust (your customer portal, \
        the signed contract e-mail); they seal with vault seal --request FILE, and vault open \
        accepts one blob per code, carrying that label, before the expiry. The request is \
        neither secret nor signed: it binds the blob to whoever received the text \
        (docs/INTEGRATOR.md). vault requests lists the requests; --cancel CODE withdraws one.

        Examples:
          vault request --label "Acme BV" -o acme-request.txt
          vault request --label "Acme BV" --expires 3d
          vault request --cancel 0f1e2d3c4b5a69788796a5b4c3d2e1f0
        """
    )
    static let holdsSecrets = true

    @Option(help: ArgumentHelp("The label the customer's blob must carry (their company or administration).", valueName: "text"))
    var label: String?

    @Option(help: ArgumentHelp("How long the request may be answered: Nh or Nd, 1h to 365d (default 14d).", valueName: "duration"))
    var expires: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the request text to this file instead of standard output.", valueName: "file"))
    var output: String?

    @Flag(help: "Replace the output file if it exists.")
    var force = false

    @Option(help: ArgumentHelp("Cancel the open request with this code instead: no blob answers it afterwards.", valueName: "code"))
    var cancel: String?

    @OptionGroup var keystore: KeystoreOptions

    static let defaultExpiry = "14d"

    func validate() throws {
        if cancel != nil {
            guard label == nil, expires == nil, output == nil, !force else {
                throw ValidationError("--cancel takes only the code; --label, --expires, -o and --force are for issuing a request")
            }
            return
        }
        guard let label else { throw ValidationError("give --label TEXT: the label the customer's blob must carry") }
        if let rule = PayloadRules.label(label) { throw ValidationError("--label \(Escape.quoted(label)) \(rule)") }
        // The request text's own rules (a label must travel intact through e-mail).
        do { _ = try HandoffRequest(recipient: [UInt8](repeating: 9, count: 32), label: label, code: String(repeating: "0", count: 32),
                                    expires: UTCTime(seconds: 0)) } catch {
            throw ValidationError("--label \(Escape.quoted(label)): \(Messages.request(error).text)")
        }
        if let expires, Expiry.seconds(expires) == nil { throw ValidationError("--expires \(Escape.quoted(expires)) \(Expiry.rule)") }
    }

    mutating func execute(_ context: Context) async throws {
        if let code = cancel { return try await cancelRequest(code, context) }
        let reads = KeystoreAccess.readFiles(keystore, context)
        let output = self.output == "-" ? nil : self.output
        if let output { try OutputFile.refuseExisting(output, force: force, reads: reads) }
        let (store, path) = try await KeystoreAccess.open(keystore, context)
        let identity = try await KeystoreAccess.run("cannot read the keystore's identity") { try await store.identity() }
        let label = self.label!
        let until = Handoff.now().adding(seconds: Expiry.seconds(expires ?? Self.defaultExpiry)!)
        let info = try await KeystoreAccess.run("cannot issue a request for \(Escape.quoted(label))") {
            try await store.issueRequest(label: label, expires: until)
        }
        let request = try HandoffRequest(recipient: identity.publicKey.bytes, label: info.label, code: info.code,
                                         expires: UTCTime(exact: info.expires)!)
        let text = request.text(fingerprint: identity.publicKey.fingerprint)
        if let output {
            do { try OutputFile.write(Array(text.utf8), to: output, force: force, reads: reads) } catch let failure as CLIFailure {
                // Recorded already: say so, or the code would be open with nobody holding its text.
                Console.report(failure)
                throw CLIFailure.failed("request \(info.code) for \(Escape.quoted(info.label)) is recorded, but its text was not written",
                                        hints: ["cancel it (vault request --cancel \(info.code)) and issue another"])
            }
        } else {
            Console.out(text)
        }
        Console.hint("recorded request \(info.code) for \(Escape.quoted(info.label)) in \(Escape.quoted(path)); it can be answered until \(info.expires)")
        Console.hint("send the request text to the customer over a channel you already trust; they seal with: vault seal --request FILE")
    }

    private func cancelRequest(_ code: String, _ context: Context) async throws {
        let (store, _) = try await KeystoreAccess.open(keystore, context)
        let info = try await KeystoreAccess.run("cannot cancel request \(Escape.quoted(code))") { try await store.cancelRequest(code: code) }
        Console.hint("cancelled request \(info.code) for \(Escape.quoted(info.label)); a blob that answers it is refused")
    }
}

/// `vault requests [--json]`: the hand-off requests this keystore issued.
struct RequestsCommand: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "requests",
        abstract: "List the hand-off requests: open, answered, expired and cancelled.",
        discussion: """
        Oldest first. An open request past its expiry shows as expired. --json prints an array \
        (fields in docs/JSON.md).

        Examples:
          vault requests
          vault requests --json
        """
    )
    static let holdsSecrets = true

    @Flag(help: "Print JSON (fields in docs/JSON.md).") var json = false
    @OptionGroup var keystore: KeystoreOptions

    mutating func execute(_ context: Context) async throws {
        let (store, _) = try await KeystoreAccess.open(keystore, context)
        let all = try await KeystoreAccess.run("cannot list the requests") { try await store.requests() }
        let now = Handoff.now()
        if json {
            Console.out(JSONOut.array(all.map { r in
                var members: [(String, JSONOut)] = [("code", .string(r.code)), ("label", .string(r.label)),
                                                    ("status", .string(r.status(at: now))), ("created", .string(r.created)),
                                                    ("expires", .string(r.expires))]
                if let a = r.answeredBy { members.append(("answered_by", .string(a))) }
                if let c = r.changed { members.append(("changed", .string(c))) }
                return .object(members)
            }).text)
            return
        }
        guard !all.isEmpty else {
            Console.hint("no requests yet; issue one with vault request --label LABEL")
            return
        }
        let rows = [["CODE", "LABEL", "STATUS", "EXPIRES", "ANSWERED OR CANCELLED"]] + all.map { r in
            [r.code, r.label, r.status(at: now), r.expires, r.changed.map { t in r.answeredBy.map { "\(t) (blob \($0))" } ?? t } ?? "-"]
        }
        Console.out(Table.render(rows))
    }
}
