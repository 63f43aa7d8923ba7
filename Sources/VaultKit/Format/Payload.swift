/// The kind of credentials a payload carries (FORMAT.md §5).
public enum CredentialType: String, CaseIterable, Sendable {
    /// An app of the Exact Online App Center (§5.1).
    case exactOnline = "exact-online"
    /// Any other credentials (§5.2).
    case generic
}

/// The Exact Online sites (§5.1 `region`).
public enum Region: String, CaseIterable, Sendable {
    case nl, be, de, uk, us, es, fr

    /// The site's address.
    public var site: String {
        switch self {
        case .uk: "https://start.exactonline.co.uk"
        case .us: "https://start.exactonline.com"
        default: "https://start.exactonline.\(rawValue)"
        }
    }
}

/// Credentials of an Exact Online app (§5.1). The secrets live in `SecretBytes`.
public struct ExactOnlineCredentials {
    /// The GUID, lower case without braces (the stored form).
    public var clientID: String
    /// 1..255 printable ASCII characters.
    public var clientSecret: SecretBytes
    /// Same rule as the client secret, and not equal to it.
    public var webhookSecret: SecretBytes?
    /// Omitted means `nl`.
    public var region: Region?
    /// Kept byte for byte.
    public var redirectURI: String?
    /// 1..100 characters, no control characters.
    public var appName: String?
    /// The Exact administration number, 1..2147483647.
    public var division: Int?

    /// Credentials with the required fields.
    public init(clientID: String, clientSecret: SecretBytes, webhookSecret: SecretBytes? = nil,
                region: Region? = nil, redirectURI: String? = nil, appName: String? = nil, division: Int? = nil) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.webhookSecret = webhookSecret
        self.region = region
        self.redirectURI = redirectURI
        self.appName = appName
        self.division = division
    }
}

/// One credential field: a name and its value in secret memory. A generic payload's fields
/// (§5.2: the name `[a-z][a-z0-9_]{0,63}`, the value 1..4096 characters, no control characters
/// except LF and tab) and a keystore entry's fields (every value, `client_id` included, so that
/// no credential value ever needs a Swift `String`) are both lists of these.
public struct CredentialField {
    /// The field name (`client_id`, `client_secret`, …, or a generic entry's key).
    public var name: String
    /// The value, in secret memory.
    public var value: SecretBytes

    /// A field.
    public init(name: String, value: SecretBytes) {
        self.name = name
        self.value = value
    }
}

/// The credentials of a payload, by type.
public enum Credentials {
    /// §5.1.
    case exactOnline(ExactOnlineCredentials)
    /// §5.2, in the order written.
    case generic([CredentialField])

    /// The type these credentials belong to.
    public var type: CredentialType {
        switch self {
        case .exactOnline: .exactOnline
        case .generic: .generic
        }
    }
}

/// The decrypted contents of a sealed blob (FORMAT.md §5), validated.
public struct Payload {
    /// The only payload version.
    public static let version = 1
    /// 32 lower-case hex digits, random per blob.
    public var id: String
    /// The key the blob was sealed to.
    public var recipient: Fingerprint
    /// When it was sealed.
    public var created: UTCTime
    /// When it stops being accepted (at or past this time).
    public var expires: UTCTime
    /// The name the sender proposes for the entry.
    public var label: String
    /// Who claims to send it: unauthenticated, shown, never trusted.
    public var from: String?
    /// A note for the integrator.
    public var note: String?
    /// The code of the hand-off request this answers.
    public var request: String?
    /// The credentials.
    public var credentials: Credentials

    /// The payload's type.
    public var type: CredentialType { credentials.type }

    /// A payload; call `PayloadRules.validate` (the sealer does) before trusting it.
    public init(id: String, recipient: Fingerprint, created: UTCTime, expires: UTCTime, label: String,
                from: String? = nil, note: String? = nil, request: String? = nil, credentials: Credentials) {
        self.id = id
        self.recipient = recipient
        self.created = created
        self.expires = expires
        self.label = label
        self.from = from
        self.note = note
        self.request = request
        self.credentials = credentials
    }
}

/// Why a payload was refused: the key (a dotted path) and the rule it breaks, or a JSON error.
/// Never carries a value of the payload.
public enum PayloadError: Error, Equatable, Sendable {
    /// Not a strict JSON text.
    case json(JSONError)
    /// `key` breaks `rule`. The key path is the sender's text as found (an unknown key may
    /// hold any character, ESC included): it is data, not terminal text; whoever shows it
    /// escapes it (the CLI's `Escape`).
    case field(key: String, rule: String)
    /// The encoded payload is over the limit (a sealer refuses it); carries its size.
    case tooLarge(size: Int)
    /// Secret memory could not be allocated.
    case outOfMemory

    /// The key this error names, if it names one.
    public var key: String? {
        switch self {
        case .field(let key, _): key
        case .json(.rule(let key, _)): key
        default: nil
        }
    }
}
