import ArgumentParser
import VaultKit

/// `vault status LABEL [--json]`: an entry's Exact Online connection, never a token.
struct Status: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show an entry's Exact Online connection: connected or not, token expiry, last refresh, refresh token age.",
        discussion: """
        Never shows a token. Warns when the refresh token is \(ExactConnectionStatus.warnAfterDays) days \
        old or more: Exact refuses one unused for 30 days. --json prints one object (fields in docs/JSON.md).

        Examples:
          vault status "Acme BV"
          vault status --json "Acme BV"
        """
    )
    static let holdsSecrets = true

    @Argument(help: ArgumentHelp("The entry's label.", valueName: "label")) var label: String
    @Flag(help: "Print JSON (fields in docs/JSON.md).") var json = false
    @OptionGroup var exact: ExactOptions
    @OptionGroup var keystore: KeystoreOptions

    mutating func execute(_ context: Context) async throws {
        let connector = try await ExactAccess.connector(keystore, exact, context)
        let label = self.label
        let s = try await ExactAccess.run("cannot show the connection of \(Escape.quoted(label))") { try await connector.status(label) }
        if json {
            Console.out(ConnectionJSON.object(label: label, s).text)
        } else {
            Console.out(Table.render(rows(s), separator: ": ", header: false))
        }
        if !s.connected {
            Console.hint("connect it: vault connect \(InputFile.shellQuoted(label))")
        } else if s.refreshTokenAging {
            Console.warning("the refresh token of \(Escape.quoted(label)) is \(s.refreshTokenAgeDays ?? 0) days old; Exact refuses one unused for 30 days")
            Console.hint("a refresh renews it: vault token --min-valid 3600 \(InputFile.shellQuoted(label)) > /dev/null")
        }
    }

    private func connectedText(_ s: ExactConnectionStatus) -> String {
        if case .refused = s.phase { return "no (Exact refused the refresh token; connect again)" }
        return s.connected ? "yes" : "no (never connected)"
    }

    private func rows(_ s: ExactConnectionStatus) -> [[String]] {
        var rows: [[String]] = [["label", Escape.forTerminal(label)], ["connected", connectedText(s)]]
        rows.append(["site", s.baseURL])
        if let e = s.accessTokenExpires { rows.append(["access token expires", e]) }
        if let r = s.refreshedAt { rows.append(["last refresh", r]) }
        if let i = s.refreshTokenIssuedAt { rows.append(["refresh token issued", i + (s.refreshTokenAgeDays.map { " (\($0) days old)" } ?? "")]) }
        switch s.phase {
        case .clean: break
        case .inFlight(let t): rows.append(["refresh", (s.leaseHeldUntil == nil ? "interrupted" : "in progress") + " (sent at \(Messages.time(t)))"])
        case .uncertain(let t): rows.append(["refresh", "sent at \(Messages.time(t)) got no usable answer; the next refresh finds out whether Exact replaced the token"])
        case .refused(let t): rows.append(["refresh", "Exact refused the refresh token at \(Messages.time(t))"])
        }
        if let h = s.leaseHeldUntil { rows.append(["lease", "held until \(h)"]) }
        if let p = s.pendingSince { rows.append(["authorisation", "begun at \(p), not finished"]) }
        return rows
    }
}

/// The JSON form of a connection (docs/JSON.md).
enum ConnectionJSON {
    /// `connected`, `not-connected` or `refused`.
    static func state(_ s: ExactConnectionStatus) -> String {
        if case .refused = s.phase { return "refused" }
        return s.connected ? "connected" : "not-connected"
    }

    /// `connected`, `not-connected`, `refused`, from `Keystore.tokenStatuses()` (for `list`).
    static func state(_ s: TokenStatus?) -> String {
        if case .refused? = s?.phase { return "refused" }
        return s?.state == nil ? "not-connected" : "connected"
    }

    static func object(label: String, _ s: ExactConnectionStatus) -> JSONOut {
        var m: [(String, JSONOut)] = [("label", .string(label)), ("connection", .string(state(s))), ("connected", .bool(s.connected)),
                                      ("base_url", .string(s.baseURL))]
        m += EntryJSON.optional([("access_token_expires", s.accessTokenExpires), ("refreshed_at", s.refreshedAt),
                                 ("refresh_token_issued_at", s.refreshTokenIssuedAt)])
        if let d = s.refreshTokenAgeDays { m.append(("refresh_token_age_days", .int(d))) }
        let (phase, since): (String, Double?) = switch s.phase {
        case .clean: ("clean", nil)
        case .inFlight(let t): (s.leaseHeldUntil == nil ? "interrupted" : "in-flight", t)
        case .uncertain(let t): ("uncertain", t)
        case .refused(let t): ("refused", t)
        }
        m.append(("refresh_phase", .string(phase)))
        if let since { m.append(("refresh_phase_since", .string(Messages.time(since)))) }
        m += EntryJSON.optional([("lease_held_until", s.leaseHeldUntil), ("authorization_pending_since", s.pendingSince)])
        return .object(m)
    }
}
