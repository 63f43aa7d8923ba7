/// Why an audit record's bytes were refused (docs/KEYSTORE.md §2.8).
public enum AuditRecordError: Error, Equatable, Sendable {
    /// A field runs past the end, a required field is missing or repeated, or a value has the
    /// wrong size or is not UTF-8; `detail` names which.
    case malformed(String)
}

/// One record of a keystore's audit log (docs/KEYSTORE.md §2.8): what happened, when, to which
/// entry, and the hash of the record before it. It holds no secret: credential fields appear by
/// name only.
///
/// The bytes are the keystore's record format (fields `tag (1) ‖ length (4, big-endian) ‖
/// value`), in this order: `50` number (8 bytes), `51` previous hash (32), `52` time, `53`
/// operation, then those that apply: `01` label, `07` blob id, `55` blob SHA-256 (32), `56`
/// fingerprint, `08` request code, `57` field name (one per field), `54` subject, `58` detail.
/// A reader ignores tags it does not know; the record's hash covers its exact bytes.
public struct AuditRecord: Sendable, Equatable {
    /// 1, 2, 3, … in the order the records were written.
    public let number: UInt64
    /// The hash of record `number − 1` (32 zero bytes for record 1).
    public let previous: [UInt8]
    /// When (RFC 3339 UTC).
    public let time: String
    /// What (docs/KEYSTORE.md §2.8 lists the operations): `open`, `get`, `remove`, …
    public let operation: String
    /// The entry's label, where the operation concerns one.
    public let label: String?
    /// The blob id (opens).
    public let blobID: String?
    /// SHA-256 of the binary blob opened (FORMAT.md §3: the bytes the armor's base64 holds).
    public let blobSHA256: [UInt8]?
    /// The fingerprint of the identity concerned (the one a blob was sealed to, the new one).
    public let fingerprint: String?
    /// The hand-off request code concerned.
    public let request: String?
    /// Names of the credential fields read or stored, never their values.
    public let fields: [String]
    /// What else the operation names: a setting's or unlock method's name.
    public let subject: String?
    /// A short free text: an outcome, a setting's value, the label a blob proposed.
    public let detail: String?
    /// The exact bytes (what the record's hash covers).
    public let bytes: [UInt8]

    /// Tags of the fields (docs/KEYSTORE.md §2.5 and §2.8).
    enum Tag: UInt8 {
        case label = 0x01, blobID = 0x07, request = 0x08
        case number = 0x50, previous = 0x51, time = 0x52, operation = 0x53, subject = 0x54
        case blobSHA256 = 0x55, fingerprint = 0x56, field = 0x57, detail = 0x58
    }

    static let hashByteCount = 32

    /// Encodes a record.
    public init(number: UInt64, previous: [UInt8], time: String, operation: String, label: String? = nil,
                blobID: String? = nil, blobSHA256: [UInt8]? = nil, fingerprint: String? = nil, request: String? = nil,
                fields: [String] = [], subject: String? = nil, detail: String? = nil) {
        precondition(previous.count == Self.hashByteCount && blobSHA256.map { $0.count == Self.hashByteCount } ?? true,
                     "hashes are 32 bytes")
        var out: [UInt8] = []
        func add(_ tag: Tag, _ value: [UInt8]) { out += [tag.rawValue] + be32(UInt32(value.count)) + value }
        func add(_ tag: Tag, _ text: String?) { if let text { add(tag, Array(text.utf8)) } }
        add(.number, be64(number))
        add(.previous, previous)
        add(.time, time)
        add(.operation, operation)
        add(.label, label)
        add(.blobID, blobID)
        if let blobSHA256 { add(.blobSHA256, blobSHA256) }
        add(.fingerprint, fingerprint)
        add(.request, request)
        for f in fields { add(.field, f) }
        add(.subject, subject)
        add(.detail, detail)
        self.number = number; self.previous = previous; self.time = time; self.operation = operation
        self.label = label; self.blobID = blobID; self.blobSHA256 = blobSHA256; self.fingerprint = fingerprint
        self.request = request; self.fields = fields; self.subject = subject; self.detail = detail
        bytes = out
    }

    /// Decodes a record's bytes.
    /// - Throws: `AuditRecordError.malformed`.
    public init(bytes: [UInt8]) throws(AuditRecordError) {
        var seen: [UInt8: [UInt8]] = [:]
        var fields: [String] = []
        var o = 0
        while o < bytes.count {
            guard bytes.count - o >= 5 else { throw .malformed("a field runs past the record") }
            let length = Int(readBE32(bytes, o + 1))
            guard length <= bytes.count - o - 5 else { throw .malformed("a field runs past the record") }
            let tag = bytes[o]
            let value = Array(bytes[(o + 5)..<(o + 5 + length)])
            o += 5 + length
            guard Tag(rawValue: tag) != nil else { continue }   // a newer writer's field
            if tag == Tag.field.rawValue {
                fields.append(try Self.text(value, "field name"))
                continue
            }
            guard seen[tag] == nil else { throw .malformed("field 0x\(String(tag, radix: 16)) appears twice") }
            seen[tag] = value
        }
        func required(_ t: Tag, _ what: String) throws(AuditRecordError) -> [UInt8] {
            guard let v = seen[t.rawValue] else { throw .malformed("no \(what)") }
            return v
        }
        func optionalText(_ t: Tag, _ what: String) throws(AuditRecordError) -> String? {
            try seen[t.rawValue].map { (v) throws(AuditRecordError) in try Self.text(v, what) }
        }
        let n = try required(.number, "number")
        guard n.count == 8 else { throw .malformed("the number is not 8 bytes") }
        let previous = try required(.previous, "previous hash")
        guard previous.count == Self.hashByteCount else { throw .malformed("the previous hash is not 32 bytes") }
        let sha = seen[Tag.blobSHA256.rawValue]
        guard sha == nil || sha!.count == Self.hashByteCount else { throw .malformed("the blob SHA-256 is not 32 bytes") }
        number = readBE64(n, 0)
        guard number > 0 else { throw .malformed("the number is 0") }
        self.previous = previous
        time = try Self.text(try required(.time, "time"), "time")
        guard UTCTime(exact: time) != nil else { throw .malformed("the time is not YYYY-MM-DDTHH:MM:SSZ") }
        operation = try Self.text(try required(.operation, "operation"), "operation")
        label = try optionalText(.label, "label")
        blobID = try optionalText(.blobID, "blob id")
        blobSHA256 = sha
        fingerprint = try optionalText(.fingerprint, "fingerprint")
        request = try optionalText(.request, "request code")
        self.fields = fields
        subject = try optionalText(.subject, "subject")
        detail = try optionalText(.detail, "detail")
        self.bytes = bytes
    }

    private static func text(_ v: [UInt8], _ what: String) throws(AuditRecordError) -> String {
        guard let s = String(validating: v, as: UTF8.self) else { throw .malformed("the \(what) is not UTF-8") }
        return s
    }
}
