import VaultKit

/// The review `seal` shows at a terminal before sealing, when it asked anything (issue 9): every
/// field, secrets masked, the recipient's fingerprint and the expiry, with the choice to seal,
/// to change a line, or to stop. A typing mistake is fixed here instead of by starting over.
enum SealReview {
    /// Shows the draft and asks until the person seals (returns) or stops (throws).
    /// - Throws: `CLIFailure` (status 1) when the person answers no; terminal errors.
    static func confirm(_ d: inout SealPrompts.Draft, recipient: Fingerprint, now: UTCTime, on t: Terminal) throws {
        while true {
            let lines = rows(d, recipient: recipient, now: now)
            t.line("Please check what will be sealed:")
            t.line()
            let width = lines.map(\.name.count).max() ?? 0
            for (i, row) in lines.enumerated() {
                let number = row.question == nil ? "   " : String(repeating: " ", count: i + 1 < 10 ? 1 : 0) + "\(i + 1) "
                t.line("  " + number + " " + row.name + String(repeating: " ", count: width - row.name.count) + "  " + row.value)
            }
            t.line()
            let count = lines.count
            let answer = Text.trimmed(try t.ask("Type yes to seal it, a line's number to change it, or no to stop: "), newlines: false)
                .lowercased()
            switch answer {
            case "yes", "y":
                t.line()
                return
            case "no", "n":
                throw CLIFailure.failed("stopped at the review; nothing was sealed",
                                        hints: ["run vault seal again when you have the right values"])
            default:
                // A line's number, or its name ("region", "client secret").
                let n = Int(answer) ?? lines.firstIndex { $0.name.lowercased() == answer }.map { $0 + 1 }
                if let n, (1...count).contains(n), let q = lines[n - 1].question {
                    t.line()
                    try SealPrompts.ask(q, &d, on: t)
                    t.line()
                } else {
                    t.line("  Please type yes, no, or the number (or name) of a line to change (1 to \(count); the lines without a number are fixed).")
                }
            }
        }
    }

    /// The review's lines: a name, the value as shown (secrets masked, others escaped), and the
    /// question that changes it (nil for what cannot be changed here).
    static func rows(_ d: SealPrompts.Draft, recipient: Fingerprint, now: UTCTime) -> [(name: String, value: String, question: SealPrompts.Question?)] {
        func text(_ s: String?) -> String { s.map(Escape.forTerminal) ?? "(none)" }
        func masked(_ s: SecretBytes?) -> String { s == nil ? "(none)" : "******** (hidden)" }
        let f = d.fields
        // A request's label is the one the integrator accepts: it is shown, not changed here.
        var out: [(String, String, SealPrompts.Question?)] = [("label", text(d.label), d.request == nil ? .label : nil)]
        switch f.type {
        case .exactOnline:
            out += [("client ID", text(f.clientID), .clientID),
                    ("client secret", masked(f.clientSecret), .clientSecret),
                    ("webhook secret", masked(f.webhookSecret), .webhookSecret),
                    ("region", f.region?.rawValue ?? "nl (the default)", .region),
                    ("redirect URI", text(f.redirectURI), .redirectURI),
                    ("app name", text(f.appName), .appName),
                    ("division", f.division.map(String.init) ?? "(none)", .division)]
        case .generic:
            // Every generic value is a secret, from --input: named, masked, not changed here.
            out += f.generic.map { (Escape.forTerminal($0.name), "******** (hidden; from --input)", nil) }
        }
        out.append(("from", text(d.from), .from))
        if let note = d.note { out.append(("note", Escape.forTerminal(note), nil)) }
        let days = d.expiresSeconds % 86400 == 0 ? "\(d.expiresSeconds / 86400)d" : "\(d.expiresSeconds / 3600)h"
        out.append(("integrator may open it until", "\(now.adding(seconds: d.expiresSeconds).text) (\(days))", .expires))
        if let code = d.request { out.append(("answers the request", code, nil)) }
        out.append(("sealed to the key", recipient.grouped, nil))
        return out.map { (name: $0.0, value: $0.1, question: $0.2) }
    }
}
