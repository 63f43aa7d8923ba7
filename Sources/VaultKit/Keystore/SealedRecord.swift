/// Record types of format version 1 (docs/KEYSTORE.md, "Record types").
public enum RecordType: UInt8, Sendable, CaseIterable {
    /// The X25519 identity: secret key, created, state.
    case identity = 1
    /// One version of an entry; a later one with the same label supersedes it (history).
    case entry = 2
    /// An entry removed: its versions are dropped at the next compaction; its ledger ids stay.
    case removal = 3
    /// A blob id once stored, and the label it was stored under. Never pruned.
    case ledger = 4
    /// An entry's OAuth token state: refresh token, access token, its expiry.
    case tokenState = 5
    /// An entry's token lease: holder and expiry (a release is a lease that expired at once).
    case tokenLease = 6
    /// A hand-off request (FORMAT.md §7). Defined for a later issue; not written yet.
    case request = 7
    /// An audit record. Defined for a later issue; not written yet.
    case audit = 8
    /// A setting: name and value.
    case setting = 9
}

/// One sealed record as stored: everything a storage back end keeps, none of it secret.
/// `lookupKey` is a blinded (keyed BLAKE2b) label or blob id, so records can be found without
/// decrypting them; all header fields are bound into the AEAD's associated data.
public struct SealedRecord: Sendable, Equatable {
    /// Frame: length 4 · type 1 · flags 1 · sequence 8 · lookup key 16 · nonce 24 · ciphertext.
    static let headerByteCount = 4 + 1 + 1 + 8 + 16 + 24
    /// No record is larger than this (a damaged length can never ask for more memory).
    static let maxFrameByteCount = 1 << 20
    static let lookupKeyByteCount = 16
    /// Flag bit 0: this record ends a transaction. Records after the last such record are the
    /// remains of an interrupted write and are ignored.
    static let commitFlag: UInt8 = 1

    /// The record's type code (kept raw so an unknown code is reported, not misread).
    public var type: UInt8
    /// Flags; bit 0 ends a transaction.
    public var flags: UInt8
    /// Strictly increasing within a keystore: the record's id.
    public var sequence: UInt64
    /// The blinded lookup key (16 bytes), all zero for records found by type alone.
    public var lookupKey: [UInt8]
    /// The 24-byte XChaCha20-Poly1305 nonce, random per record.
    public var nonce: [UInt8]
    /// Ciphertext and tag.
    public var ciphertext: [UInt8]

    /// Creates a record from its stored parts (for storage back ends).
    public init(type: UInt8, flags: UInt8, sequence: UInt64, lookupKey: [UInt8], nonce: [UInt8], ciphertext: [UInt8]) {
        self.type = type; self.flags = flags; self.sequence = sequence
        self.lookupKey = lookupKey; self.nonce = nonce; self.ciphertext = ciphertext
    }

    var commits: Bool { flags & Self.commitFlag != 0 }
    var frameByteCount: Int { Self.headerByteCount + ciphertext.count }

    /// Binds the record to its keystore, type, flags, id and lookup key.
    static func associatedData(keystoreID: [UInt8], type: UInt8, flags: UInt8, sequence: UInt64, lookupKey: [UInt8]) -> [UInt8] {
        Array("vault-ks record".utf8) + keystoreID + [type, flags] + be64(sequence) + lookupKey
    }

    static func seal(_ plaintext: SecretBytes, type: RecordType, flags: UInt8, sequence: UInt64, lookupKey: [UInt8],
                     keystoreID: [UInt8], key: SecretBytes) throws(KeystoreError) -> SealedRecord {
        let nonce = Random.bytes(XChaCha20Poly1305.nonceByteCount)
        let ad = associatedData(keystoreID: keystoreID, type: type.rawValue, flags: flags, sequence: sequence, lookupKey: lookupKey)
        do {
            let c = try XChaCha20Poly1305.seal(plaintext, associatedData: ad, nonce: nonce, key: key)
            return SealedRecord(type: type.rawValue, flags: flags, sequence: sequence, lookupKey: lookupKey, nonce: nonce, ciphertext: c)
        } catch { throw .sodium(error) }
    }

    func open(keystoreID: [UInt8], key: SecretBytes) throws(KeystoreError) -> SecretBytes {
        let ad = Self.associatedData(keystoreID: keystoreID, type: type, flags: flags, sequence: sequence, lookupKey: lookupKey)
        do { return try XChaCha20Poly1305.open(ciphertext, associatedData: ad, nonce: nonce, key: key) } catch {
            if error == .authenticationFailed { throw .damaged(detail: "record \(sequence) does not authenticate") }
            throw .sodium(error)
        }
    }

    func frame() -> [UInt8] {
        var out = be32(UInt32(frameByteCount))
        out.reserveCapacity(frameByteCount)
        out += [type, flags] + be64(sequence) + lookupKey + nonce
        out += ciphertext
        return out
    }

    enum ParseResult { case record(SealedRecord), incomplete, damaged(String) }

    /// Parses the frame at `offset` of `bytes`. An incomplete frame at the end is reported as such
    /// (the remains of an interrupted append); an impossible length or type as damage.
    static func parse(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> ParseResult {
        let left = bytes.count - offset
        guard left >= 4 else { return .incomplete }
        let length = Int(readBE32(bytes, offset))
        guard length >= headerByteCount + XChaCha20Poly1305.tagByteCount, length <= maxFrameByteCount else {
            return .damaged("record length out of range at byte \(offset)")
        }
        guard left >= length else { return .incomplete }
        let type = bytes[offset + 4]
        guard RecordType(rawValue: type) != nil else { return .damaged("unknown record type \(type) at byte \(offset)") }
        let flags = bytes[offset + 5]
        let seq = readBE64(bytes, offset + 6)
        let key = copy(bytes, offset + 14, lookupKeyByteCount)
        let nonce = copy(bytes, offset + 30, 24)
        let c = copy(bytes, offset + 54, length - headerByteCount)
        return .record(SealedRecord(type: type, flags: flags, sequence: seq, lookupKey: key, nonce: nonce, ciphertext: c))
    }

    /// `count` bytes from `offset`, copied in one go (a cold open copies every frame).
    private static func copy(_ bytes: UnsafeRawBufferPointer, _ offset: Int, _ count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)]))
            initialized = count
        }
    }

    /// Parses a log (the bytes after the header, or after a position): the committed records,
    /// and the length they take. An incomplete frame at the end, zero bytes after the last frame,
    /// and records after the last commit flag are the remains of an interrupted append: left out.
    /// - Throws: `KeystoreError.damaged` for an impossible frame length or type.
    static func parseLog(_ bytes: [UInt8]) throws(KeystoreError) -> (records: [SealedRecord], committedLength: Int) {
        var found: [SealedRecord] = []
        var committed = 0       // records up to here end a transaction
        var committedOffset = 0
        var offset = 0
        let outcome: String? = bytes.withUnsafeBytes { b in
            while offset < b.count {
                switch parse(b, at: offset) {
                case .incomplete: return nil
                case .damaged(let what):
                    // Zeros after the last frame are what a power loss can leave of an append whose
                    // data never reached the disk: an interrupted write, not damage.
                    if b[offset...].allSatisfy({ $0 == 0 }) { return nil }
                    return what
                case .record(let r):
                    found.append(r)
                    offset += r.frameByteCount
                    if r.commits { committed = found.count; committedOffset = offset }
                }
            }
            return nil
        }
        if let outcome { throw .damaged(detail: outcome) }
        found.removeLast(found.count - committed)
        return (found, committedOffset)
    }
}
