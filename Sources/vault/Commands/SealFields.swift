import VaultKit

/// The credentials fields of `seal` as they are gathered: from `--input`, then the options,
/// then the terminal. A field may come from one place only.
enum CredentialsInput {
    /// The fields gathered so far; secrets in secret memory.
    struct Fields {
        let type: CredentialType
        var clientID: String?
        var clientSecret: SecretBytes?
        var webhookSecret: SecretBytes?
        var region: Region?
        var redirectURI: String?
        var appName: String?
        var division: Int?
        /// `--type generic`: every field, in the order written.
        var generic: [CredentialField] = []
        /// The secrets typed at the terminal (their unusual forms were settled there).
        var askedAtTerminal: Set<String> = []

        init(type: CredentialType) { self.type = type }

        /// Adds the options' values; a field also given by `--input` is a usage mistake.
        mutating func merge(_ o: SealOptions) throws {
            func take<T>(_ field: inout T?, _ value: T?, _ key: String, _ option: String) throws {
                guard let value else { return }
                if field != nil {
                    throw CLIFailure.usage("'\(key)' is given both by \(option) and in --input", hints: ["give each field in one place only"])
                }
                field = value
            }
            try take(&clientID, o.clientID, "client_id", "--client-id")
            try take(&region, o.region, "region", "--region")
            try take(&redirectURI, o.redirectURI, "redirect_uri", "--redirect-uri")
            try take(&appName, o.appName, "app_name", "--app-name")
            try take(&division, o.division, "division", "--division")
        }

        /// The credentials, or a failure naming the option that supplies a missing field.
        func credentials(missing: (String, String) -> CLIFailure) throws -> Credentials {
            switch type {
            case .generic:
                return .generic(generic)
            case .exactOnline:
                guard let clientID else { throw missing("the client ID", "--client-id GUID (or client_id in --input FILE)") }
                guard let clientSecret else { throw missing("the client secret", "client_secret in --input FILE (never on the command line)") }
                return .exactOnline(ExactOnlineCredentials(clientID: clientID, clientSecret: clientSecret, webhookSecret: webhookSecret,
                                                           region: region, redirectURI: redirectURI, appName: appName, division: division))
            }
        }

        /// Exact secrets have been 12 to 16 letters and digits; anything else is accepted, with
        /// a warning, because that form is observed, not documented (FORMAT.md §5.1).
        func warnUnusualSecrets() {
            for (key, name, secret) in [("client_secret", "client secret", clientSecret), ("webhook_secret", "webhook secret", webhookSecret)] {
                guard let secret, !askedAtTerminal.contains(key), !PayloadRules.looksLikeExactSecret(secret) else { continue }
                Console.warning("the \(name) does not look like an Exact Online secret (12 to 16 letters and digits)")
                Console.hint("check that you copied all of it, and nothing more")
            }
        }
    }

    /// Reads `--input`: one strict JSON object of the credentials fields (FORMAT.md §5.1/§5.2),
    /// straight into secret memory; secret values never become a `String`.
    /// - Throws: `CLIFailure` (status 1) naming the key and the rule; never a value.
    static func read(_ path: String, type: CredentialType) throws -> Fields {
        let source = try InputFile.readSecret(path, option: "--input", privacy: .callerWarns,
                                              pasteHint: "Paste the credentials JSON (it is not shown), then press Enter and Ctrl-D:")
        let name = "--input \(InputFile.display(path))"
        // A blob, a .pub or a keystore given by mistake is named as such, not as bad JSON.
        let kind = source.withUnsafeBytes { FileKind.of($0) }
        if kind != .json && kind != .text {
            throw FileKind.mismatch(name, is: kind, wanted: "a JSON object of the credentials",
                                    hints: [#"for example {"client_id": "…", "client_secret": "…"}"#])
        }
        InputFile.warnIfReadableByOthers(path, option: "--input")
        do {
            return try source.withUnsafeBytes { bytes throws -> Fields in
                var reader = JSONReader(bytes)
                let document = try reader.parseDocument()
                guard case .object(let members) = document else {
                    throw PayloadError.field(key: "(top level)", rule: "must be a JSON object of the credentials fields")
                }
                return type == .generic ? try generic(members, reader) : try exact(members, reader)
            }
        } catch {
            throw Messages.failure(name, error)
        }
    }

    private static func fail(_ key: String, _ rule: String) -> PayloadError { .field(key: key, rule: rule) }

    private static func exact(_ members: [(key: String, value: JSONValue)], _ reader: JSONReader) throws -> Fields {
        var f = Fields(type: .exactOnline)
        func string(_ key: String, _ value: JSONValue) throws -> String {
            guard case .string(let s) = value else { throw fail(key, "must be a string, not \(value.kind)") }
            return reader.decode(s)
        }
        func secret(_ key: String, _ value: JSONValue) throws -> SecretBytes {
            guard case .string(let s) = value else { throw fail(key, "must be a string, not \(value.kind)") }
            let v = try reader.decodeSecret(s)
            if let rule = PayloadRules.exactSecret(v) { throw fail(key, rule) }
            return v
        }
        for (key, value) in members {
            switch key {
            case "client_id":
                guard let id = PayloadRules.normalizedClientID(try string(key, value)) else {
                    throw fail(key, "must be a GUID (8-4-4-4-12 hex digits)")
                }
                f.clientID = id
            case "client_secret": f.clientSecret = try secret(key, value)
            case "webhook_secret": f.webhookSecret = try secret(key, value)
            case "region":
                guard let r = Region(rawValue: try string(key, value)) else { throw fail(key, "must be one of nl be de uk us es fr") }
                f.region = r
            case "redirect_uri":
                let v = try string(key, value)
                if let rule = PayloadRules.redirectURI(v) { throw fail(key, rule) }
                f.redirectURI = v
            case "app_name":
                let v = try string(key, value)
                if let rule = PayloadRules.appName(v) { throw fail(key, rule) }
                f.appName = v
            case "division":
                guard case .number(let text, true) = value, let n = Int(text), (1...PayloadRules.divisionMaximum).contains(n) else {
                    throw fail(key, "must be an integer from 1 to \(PayloadRules.divisionMaximum)")
                }
                f.division = n
            default:
                throw fail(key, "is not a field of exact-online credentials (client_id, client_secret, webhook_secret, region, redirect_uri, app_name, division)")
            }
        }
        if let w = f.webhookSecret, let c = f.clientSecret, w.constantTimeEquals(c) {
            throw fail("webhook_secret", "must differ from client_secret")
        }
        return f
    }

    private static func generic(_ members: [(key: String, value: JSONValue)], _ reader: JSONReader) throws -> Fields {
        var f = Fields(type: .generic)
        guard (1...PayloadRules.genericMaximumFields).contains(members.count) else {
            throw fail("(top level)", "must have 1 to \(PayloadRules.genericMaximumFields) fields")
        }
        for (key, value) in members {
            if let rule = PayloadRules.genericName(key) { throw fail(key, rule) }
            guard case .string(let s) = value else { throw fail(key, "must be a string, not \(value.kind)") }
            let v = try reader.decodeSecret(s)
            if let rule = PayloadRules.genericValue(v) { throw fail(key, rule) }
            f.generic.append(CredentialField(name: key, value: v))
        }
        return f
    }
}
