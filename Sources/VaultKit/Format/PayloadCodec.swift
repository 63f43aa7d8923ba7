/// Reads and writes the payload JSON of FORMAT.md §5, strictly, in secret memory.
public enum PayloadCodec {
    static let topKeys: Set<String> = ["v", "type", "id", "recipient", "created", "expires", "label", "from",
                                       "note", "request", "credentials"]
    static let exactKeys: Set<String> = ["client_id", "client_secret", "webhook_secret", "region",
                                         "redirect_uri", "app_name", "division"]

    /// Reads and validates a decrypted payload. Secret values go from `plaintext` straight to
    /// their own `SecretBytes`; nothing else of the plaintext is copied.
    /// - Throws: `PayloadError` naming the first key that breaks a rule (or the JSON error).
    public static func decode(_ plaintext: SecretBytes) throws(PayloadError) -> Payload {
        let result = plaintext.withUnsafeBytes { source in
            Result { () throws(PayloadError) -> Payload in
                var reader = JSONReader(source)
                let document: JSONValue
                do throws(JSONError) { document = try reader.parseDocument() } catch { throw .json(error) }
                guard case .object(let members) = document else {
                    throw .field(key: "(top level)", rule: "must be a JSON object")
                }
                return try PayloadDecoder(reader: reader).payload(members)
            }
        }
        return try result.get()
    }

    /// Writes `payload` as compact JSON into secret memory, keys in the order of §5. Validates
    /// first: a sealer never seals what an opener would refuse.
    /// - Throws: `PayloadError.field` for a broken rule, `.tooLarge` over 16384 bytes.
    public static func encode(_ payload: Payload) throws(PayloadError) -> SecretBytes {
        try PayloadRules.validate(payload)
        let w: SecureWriter
        do { w = try SecureWriter(capacity: SealedBlob.maximumPayload) } catch { throw .outOfMemory }
        w.raw("{\"v\":\(Payload.version),\"type\":")
        w.string(payload.type.rawValue)
        for (key, value) in [("id", payload.id), ("recipient", payload.recipient.canonical),
                             ("created", payload.created.text), ("expires", payload.expires.text),
                             ("label", payload.label), ("from", payload.from), ("note", payload.note),
                             ("request", payload.request)] {
            guard let value else { continue }
            w.raw(",\"\(key)\":")
            w.string(value)
        }
        w.raw(",\"credentials\":{")
        switch payload.credentials {
        case .exactOnline(let c):
            w.raw("\"client_id\":")
            w.string(PayloadRules.normalizedClientID(c.clientID) ?? c.clientID)
            w.raw(",\"client_secret\":")
            w.secret(c.clientSecret)
            if let s = c.webhookSecret { w.raw(",\"webhook_secret\":"); w.secret(s) }
            if let r = c.region { w.raw(",\"region\":"); w.string(r.rawValue) }
            if let u = c.redirectURI { w.raw(",\"redirect_uri\":"); w.string(u) }
            if let a = c.appName { w.raw(",\"app_name\":"); w.string(a) }
            if let d = c.division { w.raw(",\"division\":\(d)") }
        case .generic(let fields):
            for (i, f) in fields.enumerated() {
                w.raw(i == 0 ? "" : ",")
                w.string(f.name)
                w.raw(":")
                w.secret(f.value)
            }
        }
        w.raw("}}")
        guard w.size <= SealedBlob.maximumPayload else { throw .tooLarge(size: w.size) }
        do { return try w.finish() } catch { throw .outOfMemory }
    }
}

/// Turns a parsed JSON object into a `Payload`, rule by rule.
private struct PayloadDecoder {
    let reader: JSONReader

    func fail(_ key: String, _ rule: String) -> PayloadError { .field(key: key, rule: rule) }

    func members(_ members: [(key: String, value: JSONValue)], allowed: Set<String>, path: String) throws(PayloadError) -> [String: JSONValue] {
        var map: [String: JSONValue] = [:]
        for (key, value) in members {
            let name = path.isEmpty ? key : "\(path).\(key)"
            guard allowed.contains(key) else { throw fail(name, "is not a known key") }
            if case .null = value { throw fail(name, "must not be null (optional keys are omitted)") }
            map[key] = value
        }
        return map
    }

    func string(_ map: [String: JSONValue], _ key: String, path: String = "") throws(PayloadError) -> String? {
        let name = path.isEmpty ? key : "\(path).\(key)"
        guard let value = map[key] else { return nil }
        guard case .string(let s) = value else { throw fail(name, "must be a string, not \(value.kind)") }
        return reader.decode(s)
    }

    func required(_ map: [String: JSONValue], _ key: String, path: String = "") throws(PayloadError) -> String {
        guard let s = try string(map, key, path: path) else {
            throw fail(path.isEmpty ? key : "\(path).\(key)", "is required")
        }
        return s
    }

    func secret(_ value: JSONValue, _ name: String) throws(PayloadError) -> SecretBytes {
        guard case .string(let s) = value else { throw fail(name, "must be a string, not \(value.kind)") }
        do { return try reader.decodeSecret(s) } catch { throw .outOfMemory }
    }

    func integer(_ value: JSONValue, _ name: String, _ range: ClosedRange<Int>) throws(PayloadError) -> Int {
        guard case .number(let text, let isInteger) = value else { throw fail(name, "must be an integer, not \(value.kind)") }
        guard isInteger else { throw fail(name, "must be an integer (no fraction or exponent)") }
        guard let n = Int(text), range.contains(n) else {
            throw fail(name, "must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }

    func check(_ key: String, _ rule: String?) throws(PayloadError) {
        if let rule { throw fail(key, rule) }
    }

    func time(_ map: [String: JSONValue], _ key: String) throws(PayloadError) -> UTCTime {
        guard let t = UTCTime(exact: try required(map, key)) else {
            throw fail(key, "must be a UTC time written exactly YYYY-MM-DDTHH:MM:SSZ")
        }
        return t
    }

    func payload(_ top: [(key: String, value: JSONValue)]) throws(PayloadError) -> Payload {
        let map = try members(top, allowed: PayloadCodec.topKeys, path: "")
        guard let v = map["v"] else { throw fail("v", "is required") }
        guard try integer(v, "v", Int.min...Int.max) == Payload.version else {
            throw fail("v", "must be 1 (this program reads payload version 1)")
        }
        let typeText = try required(map, "type")
        guard let type = CredentialType(rawValue: typeText) else { throw fail("type", "must be exact-online or generic") }
        let id = try required(map, "id")
        try check("id", PayloadRules.code(id))
        guard let recipient = try? Fingerprint(canonical: try required(map, "recipient")) else {
            throw fail("recipient", "must be a canonical fingerprint (SHA256: and 64 lower-case hex digits)")
        }
        let created = try time(map, "created")
        let expires = try time(map, "expires")
        try check("expires", expires > created ? nil : "must be later than created")
        let label = try required(map, "label")
        try check("label", PayloadRules.label(label))
        let from = try string(map, "from")
        if let from { try check("from", PayloadRules.from(from)) }
        let note = try string(map, "note")
        if let note { try check("note", PayloadRules.note(note)) }
        let request = try string(map, "request")
        if let request { try check("request", PayloadRules.code(request)) }
        guard let credentialValue = map["credentials"] else { throw fail("credentials", "is required") }
        guard case .object(let credentialMembers) = credentialValue else {
            throw fail("credentials", "must be an object, not \(credentialValue.kind)")
        }
        let credentials = type == .exactOnline ? try exactOnline(credentialMembers) : try generic(credentialMembers)
        return Payload(id: id, recipient: recipient, created: created, expires: expires, label: label,
                       from: from, note: note, request: request, credentials: credentials)
    }

    func exactOnline(_ members: [(key: String, value: JSONValue)]) throws(PayloadError) -> Credentials {
        let p = "credentials"
        let map = try self.members(members, allowed: PayloadCodec.exactKeys, path: p)
        guard let clientID = PayloadRules.normalizedClientID(try required(map, "client_id", path: p)) else {
            throw fail("\(p).client_id", "must be a GUID (8-4-4-4-12 hex digits, optionally in braces)")
        }
        guard let secretValue = map["client_secret"] else { throw fail("\(p).client_secret", "is required") }
        let clientSecret = try secret(secretValue, "\(p).client_secret")
        try check("\(p).client_secret", PayloadRules.exactSecret(clientSecret))
        var webhookSecret: SecretBytes?
        if let value = map["webhook_secret"] {
            let w = try secret(value, "\(p).webhook_secret")
            try check("\(p).webhook_secret", PayloadRules.exactSecret(w))
            try check("\(p).webhook_secret", w.constantTimeEquals(clientSecret) ? "must differ from client_secret" : nil)
            webhookSecret = w
        }
        var region: Region?
        if let r = try string(map, "region", path: p) {
            guard let known = Region(rawValue: r) else { throw fail("\(p).region", "must be one of nl be de uk us es fr") }
            region = known
        }
        let redirectURI = try string(map, "redirect_uri", path: p)
        if let redirectURI { try check("\(p).redirect_uri", PayloadRules.redirectURI(redirectURI)) }
        let appName = try string(map, "app_name", path: p)
        if let appName { try check("\(p).app_name", PayloadRules.appName(appName)) }
        let division = try map["division"].map { (v) throws(PayloadError) in
            try integer(v, "\(p).division", 1...PayloadRules.divisionMaximum)
        }
        return .exactOnline(ExactOnlineCredentials(clientID: clientID, clientSecret: clientSecret, webhookSecret: webhookSecret,
                                                   region: region, redirectURI: redirectURI, appName: appName, division: division))
    }

    func generic(_ members: [(key: String, value: JSONValue)]) throws(PayloadError) -> Credentials {
        guard (1...PayloadRules.genericMaximumFields).contains(members.count) else {
            throw fail("credentials", "must have 1 to \(PayloadRules.genericMaximumFields) entries")
        }
        var fields: [CredentialField] = []
        for (key, value) in members {
            let name = "credentials.\(key)"
            try check(name, PayloadRules.genericName(key))
            if case .null = value { throw fail(name, "must not be null (optional keys are omitted)") }
            let v = try secret(value, name)
            try check(name, PayloadRules.genericValue(v))
            fields.append(CredentialField(name: key, value: v))
        }
        return .generic(fields)
    }
}

/// An append-only byte buffer in secret memory, of a fixed capacity. Writes past the capacity
/// are counted but dropped, so the caller can report the size it would have had.
final class SecureWriter {
    private let buffer: SecretBytes
    private(set) var size = 0

    init(capacity: Int) throws(SodiumError) { buffer = try SecretBytes(count: capacity) }

    func byte(_ b: UInt8) {
        if size < buffer.count { buffer.withUnsafeMutableBytes { $0[size] = b } }
        size += 1
    }

    func raw(_ s: String) { for b in s.utf8 { byte(b) } }

    /// A JSON string of public text.
    func string(_ s: String) {
        byte(0x22)
        for b in s.utf8 { escaped(b) }
        byte(0x22)
    }

    /// A JSON string of a secret value, copied byte by byte from secret memory.
    func secret(_ s: SecretBytes) {
        byte(0x22)
        s.withUnsafeBytes { for b in $0 { escaped(b) } }
        byte(0x22)
    }

    private func escaped(_ b: UInt8) {
        switch b {
        case 0x22: byte(0x5c); byte(0x22)
        case 0x5c: byte(0x5c); byte(0x5c)
        case 0x0a: byte(0x5c); byte(UInt8(ascii: "n"))
        case 0x09: byte(0x5c); byte(UInt8(ascii: "t"))
        case 0x0d: byte(0x5c); byte(UInt8(ascii: "r"))
        case 0..<0x20:
            let hex = Array("0123456789abcdef".utf8)
            for c in "\\u00".utf8 { byte(c) }
            byte(hex[Int(b >> 4)]); byte(hex[Int(b & 15)])
        default: byte(b)
        }
    }

    /// The written bytes, in a secret buffer of their exact size.
    func finish() throws(SodiumError) -> SecretBytes {
        try buffer.slice(0, min(size, buffer.count))
    }
}
