/// The field rules of FORMAT.md §5, in one place, shared by the reader and the sealer (and the
/// command line, which checks each value as it is typed). Each returns nil when the value is
/// fine, or the rule it breaks.
public enum PayloadRules {
    /// Longest label / from (characters).
    public static let labelMaximum = 200
    /// Longest note (characters).
    public static let noteMaximum = 2000
    /// Longest app name (characters).
    public static let appNameMaximum = 100
    /// Longest Exact secret (characters).
    public static let secretMaximum = 255
    /// Longest redirect URI (characters).
    public static let redirectURIMaximum = 2000
    /// Largest division number.
    public static let divisionMaximum = 2_147_483_647
    /// Most generic fields.
    public static let genericMaximumFields = 32
    /// Longest generic value (characters).
    public static let genericValueMaximum = 4096
    /// Length of ids and request codes (hex digits).
    public static let codeLength = 32

    /// A Unicode control character (general category Cc).
    public static func isControl(_ v: UInt32) -> Bool { v < 0x20 || (0x7f...0x9f).contains(v) }

    /// Text of 1..`maximum` characters with no control character except those in `allowing`.
    public static func text(_ s: String, maximum: Int, allowing: Set<UInt32> = []) -> String? {
        let scalars = s.unicodeScalars
        guard !scalars.isEmpty else { return "must not be empty" }
        guard scalars.count <= maximum else { return "must be at most \(maximum) characters" }
        guard !scalars.contains(where: { isControl($0.value) && !allowing.contains($0.value) }) else {
            return allowing.isEmpty ? "must not contain control characters"
                                    : "must not contain control characters other than LF and tab"
        }
        return nil
    }

    /// §5 `label` (and the request text's label).
    public static func label(_ s: String) -> String? { text(s, maximum: labelMaximum) }
    /// §5 `from`.
    public static func from(_ s: String) -> String? { text(s, maximum: labelMaximum) }
    /// §5 `note`: LF and tab allowed.
    public static func note(_ s: String) -> String? { text(s, maximum: noteMaximum, allowing: [0x0a, 0x09]) }
    /// §5.1 `app_name`.
    public static func appName(_ s: String) -> String? { text(s, maximum: appNameMaximum) }

    /// §5 `id` and `request`: 32 lower-case hex digits.
    public static func code(_ s: String) -> String? {
        Hex.isLowerHex(s, count: codeLength) ? nil : "must be 32 lower-case hex digits"
    }

    /// §5.1 `client_id`: the stored form (lower case, no braces), or nil if it is not a GUID.
    public static func normalizedClientID(_ s: String) -> String? {
        // Over UTF-8 bytes (on every blob opened; Characters cost more than the rest of the
        // check): a valid id is ASCII, so a byte test is exact.
        var bytes = ArraySlice(s.utf8)
        if bytes.first == 0x7b || bytes.last == 0x7d {
            guard bytes.count >= 2, bytes.first == 0x7b, bytes.last == 0x7d else { return nil }
            bytes = bytes.dropFirst().dropLast()
        }
        guard bytes.count == 36 else { return nil }
        var lower: [UInt8] = []
        lower.reserveCapacity(36)
        for (i, b) in bytes.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                guard b == 0x2d else { return nil }
            } else {
                guard isHexDigit(b) else { return nil }
            }
            lower.append((0x41...0x46).contains(b) ? b + 0x20 : b)
        }
        return String(decoding: lower, as: UTF8.self)
    }

    private static func isHexDigit(_ c: UInt8) -> Bool {
        (0x30...0x39).contains(c) || (0x61...0x66).contains(c) || (0x41...0x46).contains(c)
    }

    /// §5.1 `client_secret` / `webhook_secret`: 1..255 printable ASCII, checked in place.
    public static func exactSecret(_ secret: SecretBytes) -> String? {
        secret.withUnsafeBytes { b in
            guard b.count >= 1 else { return "must not be empty" }
            guard b.count <= secretMaximum else { return "must be at most \(secretMaximum) characters" }
            guard b.allSatisfy({ $0 >= 0x21 && $0 <= 0x7e }) else {
                return "must be printable ASCII without spaces (U+0021..U+007E)"
            }
            return nil
        }
    }

    /// The observed form of Exact secrets, 12 to 16 ASCII letters and digits: anything else is
    /// accepted with a warning to the person sealing.
    public static func looksLikeExactSecret(_ secret: SecretBytes) -> Bool {
        secret.withUnsafeBytes { b in
            (12...16).contains(b.count) && b.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7a) }
        }
    }

    /// §5.1 `redirect_uri`.
    public static func redirectURI(_ s: String) -> String? {
        let b = Array(s.utf8)
        guard !b.isEmpty else { return "must not be empty" }
        guard b.count <= redirectURIMaximum else { return "must be at most \(redirectURIMaximum) characters" }
        guard b.allSatisfy({ $0 >= 0x21 && $0 <= 0x7e }) else {
            return "must be printable ASCII without white space"
        }
        if b.starts(with: Array("https://".utf8)) && b.count > 8 { return nil }
        for host in ["http://localhost", "http://127.0.0.1", "http://[::1]"] {
            let h = Array(host.utf8)
            if b.starts(with: h) && (b.count == h.count || b[h.count] == UInt8(ascii: "/") || b[h.count] == UInt8(ascii: ":")) {
                return nil
            }
        }
        return "must start with https:// (plain http only to localhost, 127.0.0.1 or [::1])"
    }

    /// §5.2 key name: `[a-z][a-z0-9_]{0,63}`.
    public static func genericName(_ s: String) -> String? {
        let b = Array(s.utf8)
        guard let first = b.first, (0x61...0x7a).contains(first), b.count <= 64,
              b.allSatisfy({ (0x61...0x7a).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5f }) else {
            return "must match [a-z][a-z0-9_]{0,63}"
        }
        return nil
    }

    /// §5.2 value: 1..4096 characters, no control characters except LF and tab; checked in place.
    public static func genericValue(_ secret: SecretBytes) -> String? {
        secret.withUnsafeBytes { b in
            var characters = 0, i = 0
            while i < b.count {
                guard let n = UTF8Scan.sequenceLength(b, at: i) else { return "must be UTF-8" }
                let c0 = b[i]
                // Cc: U+0000–U+001F and U+007F (one byte), U+0080–U+009F (C2 80–C2 9F).
                if n == 1, (c0 < 0x20 && c0 != 0x0a && c0 != 0x09) || c0 == 0x7f { return "must not contain control characters other than LF and tab" }
                if n == 2, c0 == 0xc2, b[i + 1] <= 0x9f { return "must not contain control characters other than LF and tab" }
                characters += 1
                i += n
            }
            guard characters >= 1 else { return "must not be empty" }
            guard characters <= genericValueMaximum else { return "must be at most \(genericValueMaximum) characters" }
            return nil
        }
    }

    /// Every rule of §5 over a whole payload, as a sealer checks before sealing.
    /// - Throws: `PayloadError.field` naming the first key that breaks a rule.
    public static func validate(_ p: Payload) throws(PayloadError) {
        func check(_ key: String, _ rule: String?) throws(PayloadError) {
            if let rule { throw .field(key: key, rule: rule) }
        }
        try check("id", code(p.id))
        try check("expires", p.expires > p.created ? nil : "must be later than created")
        try check("label", label(p.label))
        if let v = p.from { try check("from", from(v)) }
        if let v = p.note { try check("note", note(v)) }
        if let v = p.request { try check("request", code(v)) }
        switch p.credentials {
        case .exactOnline(let c):
            try check("credentials.client_id", normalizedClientID(c.clientID) == nil ? "must be a GUID (8-4-4-4-12 hex digits)" : nil)
            try check("credentials.client_secret", exactSecret(c.clientSecret))
            if let w = c.webhookSecret {
                try check("credentials.webhook_secret", exactSecret(w))
                try check("credentials.webhook_secret", w.constantTimeEquals(c.clientSecret) ? "must differ from client_secret" : nil)
            }
            if let v = c.redirectURI { try check("credentials.redirect_uri", redirectURI(v)) }
            if let v = c.appName { try check("credentials.app_name", appName(v)) }
            if let v = c.division { try check("credentials.division", (1...divisionMaximum).contains(v) ? nil : "must be an integer from 1 to \(divisionMaximum)") }
        case .generic(let fields):
            try check("credentials", (1...genericMaximumFields).contains(fields.count) ? nil : "must have 1 to \(genericMaximumFields) entries")
            var seen: Set<String> = []
            for f in fields {
                try check("credentials.\(f.name)", genericName(f.name))
                try check("credentials.\(f.name)", seen.insert(f.name).inserted ? nil : "duplicate key")
                try check("credentials.\(f.name)", genericValue(f.value))
            }
        }
    }
}
