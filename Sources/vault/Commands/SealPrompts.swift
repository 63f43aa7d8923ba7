import Glibc
import VaultKit

/// The questions `seal` asks at a terminal, each with a one-line hint of where the answer is
/// found. A value given by an option or `--input` is never asked for (but can be changed at
/// the review, when the person asks to).
enum SealPrompts {
    static let appCenter = "on the app's page under \"Manage my apps\" in the Exact Online App Center"

    /// What the person is sealing: the fields gathered so far, and the payload's own values.
    struct Draft {
        var fields: CredentialsInput.Fields
        var label: String?
        var from: String?
        var note: String?
        var expiresSeconds: Int64
        /// The hand-off request answered (`--request`): its label is then fixed.
        var request: String?
    }

    /// One question of the guided seal.
    enum Question: CaseIterable {
        case label, clientID, clientSecret, webhookSecret, region, redirectURI, appName, division, from, expires

        /// Asked when missing even if `--input` was given (the rest only without `--input`).
        var required: Bool { [.label, .clientID, .clientSecret].contains(self) }
        /// Only for exact-online credentials.
        var exactOnly: Bool { ![.label, .from, .expires].contains(self) }
    }

    /// Shows the fingerprint grouped for reading aloud and asks the customer to confirm it
    /// against the integrator's manual.
    /// - Throws: `CLIFailure` (status 1) unless the answer is yes.
    static func confirmFingerprint(_ fingerprint: Fingerprint, on t: Terminal) throws {
        t.line("You are sealing to the integrator key with this fingerprint:")
        t.line()
        t.line("    " + fingerprint.grouped)
        t.line()
        t.line("Check it against the fingerprint in your integrator's manual (or read it aloud with them).")
        guard try t.confirm("Is it exactly the same? Type yes or no: ") else {
            throw CLIFailure.failed("the fingerprint was not confirmed; nothing was sealed",
                                    hints: ["ask your integrator for their public key file again, and compare the fingerprint with their manual"])
        }
        t.line()
    }

    /// Asks every missing field; optional ones only when `askOptional` (Enter skips them).
    /// - Returns: whether anything was asked.
    @discardableResult
    static func askMissing(_ d: inout Draft, on t: Terminal, askOptional: Bool) throws -> Bool {
        var asked = false
        for q in Question.allCases where q != .expires && (q.required || askOptional) && isMissing(q, d) {
            if q.exactOnly && d.fields.type != .exactOnline { continue }
            try ask(q, &d, on: t)
            asked = true
        }
        return asked
    }

    private static func isMissing(_ q: Question, _ d: Draft) -> Bool {
        switch q {
        case .label: d.label == nil
        case .clientID: d.fields.clientID == nil
        case .clientSecret: d.fields.clientSecret == nil
        case .webhookSecret: d.fields.webhookSecret == nil
        case .region: d.fields.region == nil
        case .redirectURI: d.fields.redirectURI == nil
        case .appName: d.fields.appName == nil
        case .division: d.fields.division == nil
        case .from: d.from == nil
        case .expires: false
        }
    }

    /// Asks one question (again, at the review) and stores the answer in `d`.
    static func ask(_ q: Question, _ d: inout Draft, on t: Terminal) throws {
        switch q {
        case .label:
            t.line("Label: the name of your company or administration, as the integrator will see it.")
            d.label = try t.ask("  Label: ", check: PayloadRules.label)
        case .clientID:
            t.line("Client ID: \(appCenter) (8-4-4-4-12 characters).")
            // Spaces around a pasted value are the page's, not the ID's.
            let id = try t.ask("  Client ID: ") { PayloadRules.normalizedClientID(trim($0)) == nil ? "must be a GUID (8-4-4-4-12 hex digits)" : nil }
            d.fields.clientID = PayloadRules.normalizedClientID(trim(id))
        case .clientSecret:
            t.line("Client secret: \(appCenter); it is not shown as you type.")
            let webhook = d.fields.webhookSecret
            d.fields.clientSecret = try t.askSecretTwice("  Client secret: ", check: { secret in
                if let rule = PayloadRules.exactSecret(secret) { return rule }
                return webhook.map { secret.constantTimeEquals($0) } == true ? "must differ from the webhook secret" : nil
            }, unusual: { unusual($0, "client secret") })
            d.fields.askedAtTerminal.insert("client_secret")
        case .webhookSecret:
            t.line("Webhook secret: \(appCenter), if the app uses webhooks; press Enter if it has none.")
            let clientSecret = d.fields.clientSecret
            d.fields.webhookSecret = try t.askSecretTwice("  Webhook secret: ", optional: true, check: { secret in
                if let rule = PayloadRules.exactSecret(secret) { return rule }
                return clientSecret.map { secret.constantTimeEquals($0) } == true ? "must differ from the client secret" : nil
            }, unusual: { unusual($0, "webhook secret") })
            d.fields.askedAtTerminal.insert("webhook_secret")
        case .region:
            t.line("Region: the country of the Exact Online site you log in to: nl be de uk us es fr; Enter for nl.")
            let r = trim(try t.ask("  Region [nl]: ") { trim($0).isEmpty || Region(rawValue: trim($0).lowercased()) != nil ? nil : "must be one of nl be de uk us es fr" })
            d.fields.region = r.isEmpty ? nil : Region(rawValue: r.lowercased())
        case .redirectURI:
            t.line("Redirect URI: \(appCenter); press Enter to skip.")
            let u = trim(try t.ask("  Redirect URI: ") { trim($0).isEmpty ? nil : PayloadRules.redirectURI(trim($0)) })
            d.fields.redirectURI = u.isEmpty ? nil : u
        case .appName:
            t.line("App name: the app's name \(appCenter); press Enter to skip.")
            let a = try t.ask("  App name: ") { $0.isEmpty ? nil : PayloadRules.appName($0) }
            d.fields.appName = a.isEmpty ? nil : a
        case .division:
            t.line("Division: the number of your Exact Online administration, if the integrator asked for it; press Enter to skip.")
            let n = trim(try t.ask("  Division: ") { trim($0).isEmpty || Int(trim($0)).map({ (1...PayloadRules.divisionMaximum).contains($0) }) == true ? nil : "must be a whole number from 1 to \(PayloadRules.divisionMaximum)" })
            d.fields.division = Int(n)
        case .from:
            t.line("From: your name, shown to the integrator; press Enter to skip.")
            let v = try t.ask("  From: ") { $0.isEmpty ? nil : PayloadRules.from($0) }
            d.from = v.isEmpty ? nil : v
        case .expires:
            t.line("Expires: how long your integrator may open it: a whole number and h or d, from 1h to 365d.")
            let e = trim(try t.ask("  Open within [30d]: ") { trim($0).isEmpty || Expiry.seconds(trim($0)) != nil ? nil : Expiry.rule })
            d.expiresSeconds = e.isEmpty ? 30 * 86400 : Expiry.seconds(e)!
        }
    }

    /// An answer without the spaces around it (a value pasted from a web page often has some).
    static func trim(_ s: String) -> String { Text.trimmed(s, newlines: false) }

    /// Why a secret does not look like an Exact Online one (12 to 16 letters and digits,
    /// FORMAT.md §5.1), in words that name no character of it; nil when it does. Said only on
    /// the person's own terminal.
    static func unusual(_ secret: SecretBytes, _ name: String) -> String? {
        guard !PayloadRules.looksLikeExactSecret(secret) else { return nil }
        let why: String = secret.withUnsafeBytes { b in
            if !(12...16).contains(b.count) { return "it is \(b.count) character\(b.count == 1 ? "" : "s") long" }
            return "it holds characters other than letters and digits"
        }
        return "That does not look like an Exact Online \(name): those are 12 to 16 letters and digits, and \(why). "
            + "Check that you copied all of it, and nothing more"
    }
}
