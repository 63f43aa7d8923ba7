/// The plaintext of a record: a list of fields, each `tag (1 byte) · length (4 bytes, big
/// endian) · value`. Written into and read from `SecretBytes`, so secret values go from secret
/// memory to secret memory without a Swift `String` or `[UInt8]` copy.
struct RecordWriter {
    private enum Value { case text([UInt8]), secret(SecretBytes) }
    private var fields: [(UInt8, Value)] = []

    mutating func add(_ tag: RecordTag, _ text: String) { fields.append((tag.rawValue, .text(Array(text.utf8)))) }
    mutating func add(_ tag: RecordTag, bytes: [UInt8]) { fields.append((tag.rawValue, .text(bytes))) }
    mutating func add(_ tag: RecordTag, secret: SecretBytes) { fields.append((tag.rawValue, .secret(secret))) }
    mutating func addIfPresent(_ tag: RecordTag, _ text: String?) { if let text { add(tag, text) } }

    /// The encoded record, in secret memory.
    /// - Throws: `KeystoreError.sodium(.outOfMemory)`.
    func encoded() throws(KeystoreError) -> SecretBytes {
        let total = fields.reduce(0) { sum, f in
            switch f.1 {
            case .text(let b): sum + 5 + b.count
            case .secret(let s): sum + 5 + s.count
            }
        }
        let out: SecretBytes
        do { out = try SecretBytes(count: total) } catch { throw .sodium(error) }
        out.withUnsafeMutableBytes { dst in
            var o = 0
            for (tag, value) in fields {
                let length: Int
                switch value {
                case .text(let b): length = b.count
                case .secret(let s): length = s.count
                }
                dst[o] = tag
                for (i, byte) in be32(UInt32(length)).enumerated() { dst[o + 1 + i] = byte }
                o += 5
                switch value {
                case .text(let b):
                    b.withUnsafeBytes { if let base = $0.baseAddress { (dst.baseAddress! + o).copyMemory(from: base, byteCount: length) } }
                case .secret(let s):
                    s.withUnsafeBytes { if let base = $0.baseAddress, length > 0 { (dst.baseAddress! + o).copyMemory(from: base, byteCount: length) } }
                }
                o += length
            }
        }
        return out
    }
}

/// Reads the fields of a decrypted record. Public values become Swift strings; values marked
/// secret are sliced straight into new `SecretBytes`.
struct RecordReader {
    struct Field { let tag: UInt8; let offset: Int; let length: Int }
    let plaintext: SecretBytes
    let fields: [Field]

    /// - Throws: `.damaged` when a field runs past the end (the record authenticated, so this is
    ///   a writer's bug or a newer layout, never read as data).
    init(_ plaintext: SecretBytes) throws(KeystoreError) {
        self.plaintext = plaintext
        var fields: [Field] = []
        let ok = plaintext.withUnsafeBytes { b -> Bool in
            var o = 0
            while o < b.count {
                guard b.count - o >= 5 else { return false }
                let length = Int(readBE32(b, o + 1))
                guard length <= b.count - o - 5 else { return false }
                fields.append(Field(tag: b[o], offset: o + 5, length: length))
                o += 5 + length
            }
            return true
        }
        guard ok else { throw .damaged(detail: "record fields run past the record") }
        self.fields = fields
    }

    func all(_ tag: RecordTag) -> [Field] { fields.filter { $0.tag == tag.rawValue } }

    func text(_ f: Field) throws(KeystoreError) -> String {
        let bytes = plaintext.withUnsafeBytes { Array($0[f.offset..<(f.offset + f.length)]) }
        guard let s = String(validating: bytes, as: UTF8.self) else { throw .damaged(detail: "record text is not UTF-8") }
        return s
    }

    func optionalText(_ tag: RecordTag) throws(KeystoreError) -> String? {
        guard let f = fields.first(where: { $0.tag == tag.rawValue }) else { return nil }
        return try text(f)
    }

    func requiredText(_ tag: RecordTag) throws(KeystoreError) -> String {
        guard let s = try optionalText(tag) else { throw .damaged(detail: "record lacks field \(tag)") }
        return s
    }

    func secret(_ f: Field) throws(KeystoreError) -> SecretBytes {
        do { return try plaintext.slice(f.offset, f.length) } catch { throw .sodium(error) }
    }

    func requiredSecret(_ tag: RecordTag) throws(KeystoreError) -> SecretBytes {
        guard let f = fields.first(where: { $0.tag == tag.rawValue }) else { throw .damaged(detail: "record lacks field \(tag)") }
        return try secret(f)
    }
}

/// Field tags of record plaintexts (docs/KEYSTORE.md, "Record contents").
enum RecordTag: UInt8, CustomStringConvertible {
    case label = 0x01, type = 0x02, fieldName = 0x03, fieldValue = 0x04
    case from = 0x05, note = 0x06, blobID = 0x07, request = 0x08
    case created = 0x09, expires = 0x0a, opened = 0x0b
    case secretKey = 0x10, state = 0x11, stateChanged = 0x12
    case refreshToken = 0x20, accessToken = 0x21, accessExpires = 0x22, refreshedAt = 0x23, refreshIssuedAt = 0x24
    case holder = 0x28, leaseExpires = 0x29, leasePhase = 0x2a
    case name = 0x30, value = 0x31
    case stored = 0x38
    case requestState = 0x40, answeredBy = 0x41, requestChanged = 0x42
    case auditNumber = 0x50, auditPrevious = 0x51, auditTime = 0x52, auditOperation = 0x53

    var description: String { "0x" + String(rawValue, radix: 16) }
}
