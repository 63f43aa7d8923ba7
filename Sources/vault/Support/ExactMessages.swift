import VaultKit

/// Words for the Exact Online broker's errors. Exact's own `error` / `error_description` are
/// public words (VaultKit drops any that repeat a secret), escaped like all outside text.
extension Messages {
    static func exact(_ e: ExactError) -> Explanation {
        switch e {
        case .notExactOnline(let label):
            Explanation(text: "\(Escape.quoted(label)) is not an Exact Online entry", hints: ["connect, token and webhook work on exact-online entries"])
        case .missingField(let label, let field):
            Explanation(text: "entry \(Escape.quoted(label)) has no \(field)", hints: hint(missing: field, label))
        case .notConnected(let label):
            Explanation(text: "\(Escape.quoted(label)) is not connected to Exact Online yet",
                        hints: ["connect it once: vault connect \(InputFile.shellQuoted(label))"])
        case .refreshTokenRefused(let label, let previous, let error, let description):
            refused(label, previous, exactWords(error, description))
        case .refusedEarlier(let label, let at):
            Explanation(text: "Exact refused the refresh token of \(Escape.quoted(label)) at \(time(at)); vault does not ask Exact again with it",
                        hints: ["connect the entry again: vault connect \(InputFile.shellQuoted(label))"])
        case .rejected(let status, let error, let description):
            Explanation(text: "Exact refused the request (HTTP \(status)\(exactWords(error, description)))",
                        hints: error == "invalid_client"
                            ? ["the client id or secret is wrong: if the customer made a new client secret, open their new blob with vault open --replace"]
                            : [])
        case .rateLimited:
            Explanation(text: "Exact's rate limit was reached (HTTP 429); the refresh token is unchanged", hints: ["try again in a minute"])
        case .serverError(let status):
            Explanation(text: "Exact answered with a server error (HTTP \(status)); it may have replaced the refresh token",
                        hints: ["run the command again: if Exact then refuses the stored refresh token, vault says so"])
        case .malformedAnswer(let detail):
            Explanation(text: "Exact's answer is not a token answer (\(detail)); it may have replaced the refresh token",
                        hints: ["run the command again: if Exact then refuses the stored refresh token, vault says so"])
        case .transport(let t):
            transport(t)
        case .baseURLRefused(let url):
            Explanation(text: "--exact-base-url \(Escape.quoted(url)) is refused: it must be https:// or a loopback address (localhost, 127.x.x.x, [::1])",
                        hints: ["the override exists for tests; without it the entry's region decides the site"])
        case .tokenTooShortLived(let seconds, let asked):
            Explanation(text: "Exact issued an access token valid for \(seconds) s, less than --min-valid \(asked)",
                        hints: ["ask for less with --min-valid"])
        case .noPendingAuthorization(let label):
            Explanation(text: "no authorisation of \(Escape.quoted(label)) is waiting to be finished",
                        hints: ["start one: vault connect \(InputFile.shellQuoted(label))"])
        case .authorizationExpired(let label, let started):
            Explanation(text: "the authorisation of \(Escape.quoted(label)) begun at \(started) is too old to finish",
                        hints: ["start again: vault connect \(InputFile.shellQuoted(label))"])
        case .stateMismatch(let label):
            Explanation(text: "the redirected address does not answer the authorisation vault began for \(Escape.quoted(label)) (its state differs)",
                        hints: ["use the address from the last `vault connect`; an older or foreign one is refused"])
        case .authorizationDenied(let error, let description):
            Explanation(text: "Exact did not authorise the app\(exactWords(error, description))",
                        hints: ["the user must log in to the customer's Exact Online and allow the app; then run vault connect again"])
        case .noCode:
            Explanation(text: "no authorisation code: paste the whole address the browser was sent to after logging in, or the code alone")
        case .webhook(let w):
            Explanation(text: "not an Exact Online webhook body: \(webhook(w))")
        case .keystore(let k):
            keystore(k)
        }
    }

    private static func refused(_ label: String, _ previous: TokenRefreshPhase, _ words: String) -> Explanation {
        let connect = "connect the entry again: vault connect \(InputFile.shellQuoted(label))"
        switch previous {
        case .inFlight(let since):
            return Explanation(text: "the refresh token of \(Escape.quoted(label)) is burnt: a refresh sent at \(time(since)) was interrupted "
                               + "before its answer was stored (the process was killed), and Exact has refused the stored token\(words)",
                               hints: [connect])
        case .uncertain(let since):
            return Explanation(text: "the refresh token of \(Escape.quoted(label)) is burnt: a refresh sent at \(time(since)) got no usable "
                               + "answer (timeout, lost connection or bad answer), and Exact has refused the stored token\(words)",
                               hints: [connect])
        case .clean, .refused:
            return Explanation(text: "Exact refused the refresh token of \(Escape.quoted(label))\(words): it was revoked, unused for 30 days, "
                               + "or used by another program", hints: [connect])
        }
    }

    static func transport(_ t: ExactTransportError) -> Explanation {
        switch t {
        case .notSent(let reason):
            Explanation(text: "cannot reach Exact Online (\(reason)); nothing was sent, the refresh token is unchanged",
                        hints: ["check the network and the system's CA certificates, then try again"])
        case .noAnswer(let reason):
            Explanation(text: "no answer from Exact Online (\(reason)); it may have replaced the refresh token",
                        hints: ["run the command again: if Exact then refuses the stored refresh token, vault says so"])
        case .unavailable(let detail):
            Explanation(text: "cannot talk to Exact Online: \(detail)", hints: ["reinstall vault with its vault-http helper"])
        }
    }

    static func webhook(_ w: ExactWebhookError) -> String {
        switch w {
        case .tooLarge(let n): "\(n) bytes, more than \(ExactWebhookBody.maximumSize)"
        case .json(let j): json(j)
        case .missing(let key): "no \(key) member"
        case .wrongKind(let key, let kind): "\(key) is \(kind)"
        case .hashCodeNotHex: "HashCode is not 64 hex digits"
        }
    }

    /// `: error (description)` from Exact's answer, escaped, or nothing.
    private static func exactWords(_ error: String?, _ description: String?) -> String {
        guard error != nil || description != nil else { return "" }
        return ": " + [error, description.map { "(\($0))" }].compactMap { $0.map(Escape.forTerminal) }.joined(separator: " ")
    }

    private static func hint(missing field: String, _ label: String) -> [String] {
        switch field {
        case "redirect_uri": ["give the app's registered redirect URI with --redirect-uri"]
        default: ["the customer did not send it; ask them to seal the credentials again with \(field)"]
        }
    }

    /// Seconds since the epoch as RFC 3339 UTC.
    static func time(_ t: Double) -> String { Timestamp.string(fromEpochSeconds: Int(t)) }
}
