/// Why an audit export file was refused (`vault log --verify --against FILE`).
public enum AuditExportError: Error, Equatable, Sendable {
    /// Not JSON, or not strict JSON.
    case json(JSONError)
    /// A member is missing, of the wrong kind or malformed; `key` names it.
    case field(key: String, rule: String)
    /// A record's bytes do not decode.
    case record(number: Int, AuditRecordError)
    /// A record's readable members say something else than its bytes (the file was edited).
    case readable(number: Int, key: String)
}

/// One record of an export: its bytes (decoded) and the hash the export states for it.
public struct ExportedAuditRecord: Sendable, Equatable {
    /// The record.
    public let record: AuditRecord
    /// The hash the export states (a verifier recomputes it from the bytes).
    public let hash: [UInt8]

    /// A record with its hash.
    public init(record: AuditRecord, hash: [UInt8]) {
        self.record = record
        self.hash = hash
    }
}

/// An audit export (docs/AUDITOR.md, "The audit log"): a keystore's whole audit chain with its
/// head signed by the keystore's current identity, so that an auditor holding nothing but the
/// integrator's published recipient (or its fingerprint) can check it, and later check that the
/// keystore's log still extends it.
///
/// The file is one JSON object; every string is ASCII (anything else is written `\uXXXX`), so
/// that no byte of a label reaches an auditor's terminal raw. The members, in order: `format`
/// (`vault audit export v1`), `keystore_id` (32 hex digits), `recipient` (`vault1…`),
/// `fingerprint` (`SHA256:…`), `verifying_key` (64 hex digits: the identity's Ed25519 form),
/// `count`, `head` (64 hex digits), `time`, `signature` (128 hex digits), `records`: an array of
/// objects with `number`, `hash` (64 hex digits), `record` (base64 of the record's exact bytes)
/// and the same record readable: `time`, `operation`, and `label`, `blob_id`, `blob_sha256`,
/// `fingerprint`, `request`, `fields`, `subject`, `detail` where it has them.
public struct AuditExport: Sendable, Equatable {
    /// The `format` member.
    public static let formatName = "vault audit export v1"
    /// What the signature's message starts with: it signs nothing else the key could be asked to.
    public static let signatureDomain = Array("vault audit head v1".utf8)

    /// The keystore's id (16 bytes).
    public let keystoreID: [UInt8]
    /// The identity that signed, as a recipient key (32 bytes).
    public let recipient: [UInt8]
    /// The fingerprint the export states for it (a verifier recomputes it).
    public let fingerprint: Fingerprint
    /// The identity's Edwards form, the key the signature checks under (`IdentitySignature`).
    public let verifyingKey: [UInt8]
    /// Records in the chain.
    public let count: UInt64
    /// The hash of the newest record (32 zero bytes for an empty log).
    public let head: [UInt8]
    /// When the export was made (RFC 3339 UTC).
    public let time: String
    /// The signature of `signedMessage`.
    public let signature: [UInt8]
    /// Every record, oldest first.
    public let records: [ExportedAuditRecord]

    /// An export.
    public init(keystoreID: [UInt8], recipient: [UInt8], fingerprint: Fingerprint, verifyingKey: [UInt8], count: UInt64,
                head: [UInt8], time: String, signature: [UInt8], records: [ExportedAuditRecord]) {
        self.keystoreID = keystoreID; self.recipient = recipient; self.fingerprint = fingerprint
        self.verifyingKey = verifyingKey; self.count = count; self.head = head; self.time = time
        self.signature = signature; self.records = records
    }

    /// The signed message: ASCII `vault audit head v1` ‖ keystore id (16) ‖ count (8,
    /// big-endian) ‖ head (32) ‖ time (the 20 ASCII bytes `YYYY-MM-DDTHH:MM:SSZ`).
    public static func signedMessage(keystoreID: [UInt8], count: UInt64, head: [UInt8], time: String) -> [UInt8] {
        signatureDomain + keystoreID + be64(count) + head + Array(time.utf8)
    }

    /// This export's signed message.
    public var signedMessage: [UInt8] { Self.signedMessage(keystoreID: keystoreID, count: count, head: head, time: time) }

    // MARK: Writing

    /// The export file's text.
    public func text() -> String {
        var out = "{\n"
        out += "  \"format\": \(Self.quote(Self.formatName)),\n"
        out += "  \"keystore_id\": \"\(Hex.encode(keystoreID))\",\n"
        out += "  \"recipient\": \"\(KeyText.recipient(recipient))\",\n"
        out += "  \"fingerprint\": \"\(fingerprint.canonical)\",\n"
        out += "  \"verifying_key\": \"\(Hex.encode(verifyingKey))\",\n"
        out += "  \"count\": \(count),\n"
        out += "  \"head\": \"\(Hex.encode(head))\",\n"
        out += "  \"time\": \(Self.quote(time)),\n"
        out += "  \"signature\": \"\(Hex.encode(signature))\",\n"
        out += "  \"records\": ["
        for (i, e) in records.enumerated() {
            let r = e.record
            var members: [(String, String)] = [("number", String(r.number)), ("hash", "\"\(Hex.encode(e.hash))\""),
                                               ("record", "\"\(Base64.encode(r.bytes))\""), ("time", Self.quote(r.time)),
                                               ("operation", Self.quote(r.operation))]
            for (key, value) in Self.optionalMembers(r) { members.append((key, Self.quote(value))) }
            if !r.fields.isEmpty { members.append(("fields", "[" + r.fields.map(Self.quote).joined(separator: ", ") + "]")) }
            out += (i == 0 ? "\n    {" : ",\n    {") + members.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
        }
        out += records.isEmpty ? "]\n}\n" : "\n  ]\n}\n"
        return out
    }

    /// The readable members a record has, as text.
    static func optionalMembers(_ r: AuditRecord) -> [(String, String)] {
        [("label", r.label), ("blob_id", r.blobID), ("blob_sha256", r.blobSHA256.map(Hex.encode)), ("fingerprint", r.fingerprint),
         ("request", r.request), ("subject", r.subject), ("detail", r.detail)].compactMap { k, v in v.map { (k, $0) } }
    }

    /// A JSON string of ASCII only: every other character, and every control, as `\uXXXX`.
    static func quote(_ s: String) -> String {
        var out = "\""
        for unit in s.utf16 {
            switch unit {
            case 0x22: out += "\\\""
            case 0x5c: out += "\\\\"
            case 0x20..<0x7f: out.unicodeScalars.append(Unicode.Scalar(UInt8(unit)))
            default:
                let h = String(unit, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
            }
        }
        return out + "\""
    }

    // MARK: Reading

    /// Reads an export file. The signature and the chain are not checked here (that needs
    /// SHA-256 and libsodium: `Keystore.verifyAuditLog(against:)`); what is checked is the shape,
    /// and that each record's readable members say what its bytes say.
    /// - Throws: `AuditExportError`.
    public static func parse(_ bytes: [UInt8]) throws(AuditExportError) -> AuditExport {
        let result: Result<AuditExport, AuditExportError> = bytes.withUnsafeBytes { b in
            do throws(AuditExportError) { return .success(try parse(b)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    private static func parse(_ b: UnsafeRawBufferPointer) throws(AuditExportError) -> AuditExport {
        var reader = JSONReader(b)
        let doc: JSONValue
        do throws(JSONError) { doc = try reader.parseDocument() } catch { throw .json(error) }
        let top = try Members(doc, "(top level)", reader)
        guard try top.string("format") == formatName else { throw .field(key: "format", rule: "must be \"\(formatName)\"") }
        let recipientText = try top.string("recipient")
        let recipient: [UInt8]
        do throws(Bech32Error) { recipient = try KeyText.parseRecipient(recipientText) } catch {
            throw .field(key: "recipient", rule: "must be a vault1… recipient string")
        }
        let fingerprintText = try top.string("fingerprint")
        let fingerprint: Fingerprint
        do throws(FingerprintError) { fingerprint = try Fingerprint(canonical: fingerprintText) } catch {
            throw .field(key: "fingerprint", rule: "must be SHA256: and 64 lower-case hex digits")
        }
        let time = try top.string("time")
        guard UTCTime(exact: time) != nil else { throw .field(key: "time", rule: "must be YYYY-MM-DDTHH:MM:SSZ") }
        guard case .array(let items)? = top.value("records") else { throw .field(key: "records", rule: "must be an array") }
        var records: [ExportedAuditRecord] = []
        for (i, item) in items.enumerated() {
            let key = "records[\(i)]"
            let m = try Members(item, key, reader)
            guard let raw = Base64.decode(Array(try m.string("record").utf8)) else {
                throw .field(key: key + ".record", rule: "must be base64")
            }
            let record: AuditRecord
            do throws(AuditRecordError) { record = try AuditRecord(bytes: raw) } catch { throw .record(number: i + 1, error) }
            let hash = try m.hex("hash", count: 32)
            // The readable members are for people; the bytes are what the hash covers. A
            // file edited to read differently from its bytes is refused, not half-believed.
            guard try m.uint64("number") == record.number else { throw .readable(number: i + 1, key: "number") }
            let expected = [("time", record.time), ("operation", record.operation)] + optionalMembers(record)
            let readableKeys = ["time", "operation", "label", "blob_id", "blob_sha256", "fingerprint", "request", "subject", "detail"]
            for k in readableKeys {
                let stated = try m.optionalString(k)
                let actual = expected.first { $0.0 == k }?.1
                guard stated == actual else { throw .readable(number: i + 1, key: k) }
            }
            var fields: [String] = []
            if let f = m.value("fields") {
                guard case .array(let names) = f else { throw .field(key: key + ".fields", rule: "must be an array of strings") }
                for n in names {
                    guard case .string(let s) = n else { throw .field(key: key + ".fields", rule: "must be an array of strings") }
                    fields.append(reader.decode(s))
                }
            }
            guard fields == record.fields else { throw .readable(number: i + 1, key: "fields") }
            records.append(ExportedAuditRecord(record: record, hash: hash))
        }
        return AuditExport(keystoreID: try top.hex("keystore_id", count: 16), recipient: recipient, fingerprint: fingerprint,
                           verifyingKey: try top.hex("verifying_key", count: 32), count: try top.uint64("count"),
                           head: try top.hex("head", count: 32), time: time, signature: try top.hex("signature", count: 64),
                           records: records)
    }

    /// An object's members, looked up by key.
    private struct Members {
        let members: [(key: String, value: JSONValue)]
        let path: String
        let reader: JSONReader

        init(_ v: JSONValue, _ path: String, _ reader: JSONReader) throws(AuditExportError) {
            guard case .object(let m) = v else { throw .field(key: path, rule: "must be an object") }
            members = m
            self.path = path
            self.reader = reader
        }

        func value(_ key: String) -> JSONValue? { members.first { $0.key == key }?.value }

        private func name(_ key: String) -> String { path == "(top level)" ? key : path + "." + key }

        func optionalString(_ key: String) throws(AuditExportError) -> String? {
            guard let v = value(key) else { return nil }
            guard case .string(let s) = v else { throw .field(key: name(key), rule: "must be a string") }
            return reader.decode(s)
        }

        func string(_ key: String) throws(AuditExportError) -> String {
            guard let s = try optionalString(key) else { throw .field(key: name(key), rule: "is missing") }
            return s
        }

        func hex(_ key: String, count: Int) throws(AuditExportError) -> [UInt8] {
            let s = try string(key)
            guard Hex.isLowerHex(s, count: count * 2), let b = Hex.decodeLower(s) else {
                throw .field(key: name(key), rule: "must be \(count * 2) lower-case hex digits")
            }
            return b
        }

        func uint64(_ key: String) throws(AuditExportError) -> UInt64 {
            guard case .number(let text, true)? = value(key), let n = UInt64(text), n < 1 << 62 else {
                throw .field(key: name(key), rule: "must be a whole number")
            }
            return n
        }
    }
}
