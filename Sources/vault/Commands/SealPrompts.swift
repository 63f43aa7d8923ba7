import VaultKit

/// The questions `seal` asks at a terminal, each with a one-line hint of where the answer is
/// found. A value given by an option or `--input` is never asked for.
enum SealPrompts {
    static let appCenter = "on the app's page under \"Manage my apps\" in the Exact Online App Center"

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
    static func askMissing(_ f: inout CredentialsInput.Fields, label: inout String?, from: inout String?,
                           on t: Terminal, askOptional: Bool) throws {
        if label == nil {
            t.line("Label: the name of your company or administration, as the integrator will see it.")
            label = try t.ask("  Label: ", check: PayloadRules.label)
        }
        guard f.type == .exactOnline else { return }
        if f.clientID == nil {
            t.line("Client ID: \(appCenter) (8-4-4-4-12 characters).")
            let id = try t.ask("  Client ID: ") { PayloadRules.normalizedClientID($0) == nil ? "must be a GUID (8-4-4-4-12 hex digits)" : nil }
            f.clientID = PayloadRules.normalizedClientID(id)
        }
        if f.clientSecret == nil {
            t.line("Client secret: \(appCenter); it is not shown as you type.")
            f.clientSecret = try t.askSecretTwice("  Client secret: ", check: PayloadRules.exactSecret,
                                                  unusual: { unusual($0, "client secret") })
            f.askedAtTerminal.insert("client_secret")
        }
        guard askOptional else { return }
        if f.webhookSecret == nil {
            t.line("Webhook secret: \(appCenter), if the app uses webhooks; press Enter if it has none.")
            let clientSecret = f.clientSecret
            f.webhookSecret = try t.askSecretTwice("  Webhook secret: ", optional: true, check: { secret in
                if let rule = PayloadRules.exactSecret(secret) { return rule }
                return clientSecret.map { secret.constantTimeEquals($0) } == true ? "must differ from the client secret" : nil
            }, unusual: { unusual($0, "webhook secret") })
            f.askedAtTerminal.insert("webhook_secret")
        }
        if f.region == nil {
            t.line("Region: the country of the Exact Online site you log in to: nl be de uk us es fr; Enter for nl.")
            let r = try t.ask("  Region [nl]: ") { $0.isEmpty || Region(rawValue: $0.lowercased()) != nil ? nil : "must be one of nl be de uk us es fr" }
            f.region = r.isEmpty ? nil : Region(rawValue: r.lowercased())
        }
        if f.redirectURI == nil {
            t.line("Redirect URI: \(appCenter); press Enter to skip.")
            let u = try t.ask("  Redirect URI: ") { $0.isEmpty ? nil : PayloadRules.redirectURI($0) }
            f.redirectURI = u.isEmpty ? nil : u
        }
        if f.appName == nil {
            t.line("App name: the app's name \(appCenter); press Enter to skip.")
            let a = try t.ask("  App name: ") { $0.isEmpty ? nil : PayloadRules.appName($0) }
            f.appName = a.isEmpty ? nil : a
        }
        if f.division == nil {
            t.line("Division: the number of your Exact Online administration, if the integrator asked for it; press Enter to skip.")
            let d = try t.ask("  Division: ") { $0.isEmpty || Int($0).map({ (1...PayloadRules.divisionMaximum).contains($0) }) == true ? nil : "must be a whole number from 1 to \(PayloadRules.divisionMaximum)" }
            f.division = Int(d)
        }
        if from == nil {
            t.line("From: your name, shown to the integrator; press Enter to skip.")
            let v = try t.ask("  From: ") { $0.isEmpty ? nil : PayloadRules.from($0) }
            from = v.isEmpty ? nil : v
        }
    }

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
