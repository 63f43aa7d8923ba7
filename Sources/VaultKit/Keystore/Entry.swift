/// One version of a stored entry: what a blob delivered, and when. Independent of the payload
/// parser: the hand-off layer fills it from a checked payload.
public struct KeystoreEntry {
    /// The label, stored in Unicode NFC; compared by `Label.comparisonKey` (NFKC, without
    /// default-ignorable code points), case-sensitively.
    public var label: String
    /// `exact-online` or `generic`.
    public var type: String
    /// The credential fields in their order.
    public var fields: [CredentialField]
    /// The sender's unauthenticated claim of who they are.
    public var from: String?
    /// The sender's note.
    public var note: String?
    /// The id of the blob that delivered this version: 32 lower-case hex digits.
    public var blobID: String
    /// The request code the blob answered, if any.
    public var request: String?
    /// When the blob was made (RFC 3339 UTC, `YYYY-MM-DDTHH:MM:SSZ`).
    public var created: String
    /// When the blob expired or expires.
    public var expires: String
    /// When the blob was opened into this keystore.
    public var opened: String
    /// Where the blob came from, for the audit record of its opening and the request check
    /// (not stored in the entry record); nil for an entry made by a program.
    public var origin: BlobOrigin?

    /// An entry.
    public init(label: String, type: String, fields: [CredentialField], from: String? = nil, note: String? = nil,
                blobID: String, request: String? = nil, created: String, expires: String, opened: String,
                origin: BlobOrigin? = nil) {
        self.label = label; self.type = type; self.fields = fields; self.from = from; self.note = note
        self.blobID = blobID; self.request = request; self.created = created; self.expires = expires; self.opened = opened
        self.origin = origin
    }

    /// The value of the field `name`, if the entry has it.
    public func field(_ name: String) -> SecretBytes? { fields.first { $0.name == name }?.value }

    /// Checks what the keystore relies on (the payload parser checks the rest).
    /// - Throws: `KeystoreError.invalidEntry`.
    func validate() throws(KeystoreError) {
        guard !label.isEmpty else { throw .invalidEntry(detail: "label is empty") }
        // A backstop only: the payload parser and the CLI apply FORMAT.md's exact label rule.
        guard label.utf8.count <= 4096, !label.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalidEntry(detail: "label has control characters or is too long")
        }
        guard ["exact-online", "generic"].contains(type) else { throw .invalidEntry(detail: "type is not exact-online or generic") }
        guard isBlobID(blobID) else { throw .invalidEntry(detail: "blob id is not 32 lower-case hex digits") }
        if let request, !isBlobID(request) { throw .invalidEntry(detail: "request code is not 32 lower-case hex digits") }
        for (name, t) in [("created", created), ("expires", expires), ("opened", opened)] where !Timestamp.isValid(t) {
            throw .invalidEntry(detail: "\(name) is not a YYYY-MM-DDTHH:MM:SSZ time")
        }
        var names = Set<String>()
        for f in fields {
            guard !f.name.isEmpty, names.insert(f.name).inserted else { throw .invalidEntry(detail: "field names must be distinct and not empty") }
        }
    }

    func encoded() throws(KeystoreError) -> SecretBytes {
        var w = RecordWriter()
        w.add(.label, Label.normalized(label))
        w.add(.type, type)
        for f in fields {
            w.add(.fieldName, f.name)
            w.add(.fieldValue, secret: f.value)
        }
        w.addIfPresent(.from, from)
        w.addIfPresent(.note, note)
        w.add(.blobID, blobID)
        w.addIfPresent(.request, request)
        w.add(.created, created)
        w.add(.expires, expires)
        w.add(.opened, opened)
        return try w.encoded()
    }

    init(decoding plaintext: SecretBytes) throws(KeystoreError) {
        let r = try RecordReader(plaintext)
        let names = r.all(.fieldName)
        let values = r.all(.fieldValue)
        guard names.count == values.count else { throw .damaged(detail: "entry field names and values do not pair") }
        var fields: [CredentialField] = []
        for (n, v) in zip(names, values) { fields.append(CredentialField(name: try r.text(n), value: try r.secret(v))) }
        self.init(label: try r.requiredText(.label), type: try r.requiredText(.type), fields: fields,
                  from: try r.optionalText(.from), note: try r.optionalText(.note), blobID: try r.requiredText(.blobID),
                  request: try r.optionalText(.request), created: try r.requiredText(.created),
                  expires: try r.requiredText(.expires), opened: try r.requiredText(.opened))
    }
}

/// The blob an entry came from, as its audit record names it.
public struct BlobOrigin: Sendable, Equatable {
    /// SHA-256 of the binary blob (FORMAT.md §3: the bytes the armor's base64 holds), so that an
    /// auditor can match a log record to the file a customer sent.
    public var sha256: [UInt8]
    /// The identity the blob was sealed to.
    public var fingerprint: Fingerprint
    /// The label the blob proposed (the entry's may be the integrator's own, `--as`): a
    /// hand-off request is answered by the label sealed in the blob.
    public var label: String

    /// An origin.
    public init(sha256: [UInt8], fingerprint: Fingerprint, label: String) {
        self.sha256 = sha256
        self.fingerprint = fingerprint
        self.label = label
    }
}

/// What `Keystore.list` gives for an entry: everything but the credential values. Listing never
/// holds secrets, so it needs no secret memory however many entries there are (each `SecretBytes`
/// is its own guarded mapping, and a process may only have so many).
public struct KeystoreEntrySummary: Sendable, Equatable {
    /// The label (NFC).
    public let label: String
    /// `exact-online` or `generic`.
    public let type: String
    /// The names of the credential fields, in order.
    public let fieldNames: [String]
    /// The sender's unauthenticated claim of who they are.
    public let from: String?
    /// The sender's note.
    public let note: String?
    /// The id of the blob that delivered the current version.
    public let blobID: String
    /// The request code the blob answered, if any.
    public let request: String?
    /// When the blob was made.
    public let created: String
    /// When the blob expired or expires.
    public let expires: String
    /// When the blob was opened into this keystore.
    public let opened: String
    /// How many versions are stored (1 + earlier versions kept by replace).
    public let versions: Int
    /// The values of the fields that are not secret (`client_id`, `region`, … of an Exact
    /// Online entry; none of a generic entry, whose values are all treated as secrets).
    public let publicFields: [String: String]

    /// Fields of an exact-online entry whose values are identifiers, not secrets (FORMAT.md §5.1).
    public static let publicExactOnlineFields: Set<String> = ["client_id", "region", "redirect_uri", "app_name", "division"]

    init(decoding plaintext: SecretBytes, versions: Int) throws(KeystoreError) {
        let r = try RecordReader(plaintext)
        var names: [String] = []
        for f in r.all(.fieldName) { names.append(try r.text(f)) }
        var publicFields: [String: String] = [:]
        if try r.requiredText(.type) == "exact-online" {
            for (name, value) in zip(names, r.all(.fieldValue)) where Self.publicExactOnlineFields.contains(name) {
                publicFields[name] = try r.text(value)
            }
        }
        self.publicFields = publicFields
        label = try r.requiredText(.label); type = try r.requiredText(.type); fieldNames = names
        from = try r.optionalText(.from); note = try r.optionalText(.note); blobID = try r.requiredText(.blobID)
        request = try r.optionalText(.request); created = try r.requiredText(.created)
        expires = try r.requiredText(.expires); opened = try r.requiredText(.opened)
        self.versions = versions
    }
}

func isBlobID(_ s: String) -> Bool {
    s.utf8.count == 32 && s.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
}

/// RFC 3339 UTC times in the one form the project uses: `YYYY-MM-DDTHH:MM:SSZ`.
public enum Timestamp {
    /// The time now, in that form.
    public static func now() -> String { UTCTime(seconds: Int64(FileIO.now())).text }

    /// `seconds` since the epoch, in that form.
    public static func string(fromEpochSeconds seconds: Int) -> String { UTCTime(seconds: Int64(seconds)).text }

    /// Whether `s` is exactly `YYYY-MM-DDTHH:MM:SSZ`, a real calendar date and time.
    public static func isValid(_ s: String) -> Bool { UTCTime(exact: s) != nil }
}
