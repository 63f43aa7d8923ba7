/// Record types of format 2 (docs/KEYSTORE.md §2.5).
public enum RecordType: UInt8, Sendable, CaseIterable {
    /// An X25519 identity: secret key, created, state (`current`, `active`, `retired`).
    case identity = 1
    /// One version of an entry; a later one with the same label supersedes it (history).
    case entry = 2
    /// An entry removed, with its history, token state and lease; its ledger ids stay.
    case removal = 3
    /// A blob id once stored, and the label it was stored under. Never dropped.
    case ledger = 4
    /// An entry's OAuth token state.
    case tokenState = 5
    /// An entry's token lease: holder and expiry (a release is a lease that expired at once).
    case tokenLease = 6
    /// A hand-off request (issue 13).
    case request = 7
    /// An audit record (issue 13): never superseded, never dropped.
    case audit = 8
    /// A setting: name and value.
    case setting = 9
    /// An index snapshot: not encrypted, authenticated through the state (§2.7).
    case index = 10
}

/// The clear header of a frame: length 4 · type 1 · flags 1 · sequence 8 · lookup key 16 ·
/// nonce 24. Every field is range-checked when parsed.
struct FrameHeader {
    static let byteCount = 54
    static let lookupKeyByteCount = 16
    static let nonceByteCount = 24
    /// Header and an AEAD tag: the smallest sealed record.
    static let minFrameByteCount = byteCount + 16
    /// No sealed record is larger (a damaged length can never ask for more memory).
    static let maxFrameByteCount = 1 << 20
    /// An index snapshot may be larger: 40 bytes per live record.
    static let maxIndexFrameByteCount = 256 << 20

    /// Parses the frame header at `offset` of `b`, checking its length against `available`
    /// (the bytes the frame may take). Flags must be 0 and the sequence below 2^63.
    /// - Throws: `.damaged` naming the position.
    static func parse(_ b: UnsafeRawBufferPointer, at offset: Int, position: Int, available: Int) throws(KeystoreError) -> FrameRef {
        guard available >= byteCount, b.count - offset >= byteCount else { throw .damaged(detail: "frame at byte \(position) is cut short") }
        let length = Int(readBE32(b, offset))
        guard let type = RecordType(rawValue: b[offset + 4]) else {
            throw .damaged(detail: "frame at byte \(position) has unknown type \(b[offset + 4])")
        }
        let range = type == .index ? (byteCount + IndexSnapshot.headerByteCount)...maxIndexFrameByteCount
                                   : minFrameByteCount...maxFrameByteCount
        guard range.contains(length) else { throw .damaged(detail: "frame at byte \(position): length out of range") }
        guard length <= available else { throw .damaged(detail: "frame at byte \(position) is cut short") }
        guard b[offset + 5] == 0 else { throw .damaged(detail: "frame at byte \(position): flags not zero") }
        let sequence = readBE64(b, offset + 6)
        guard sequence > 0, sequence < Limits.maxSequence else { throw .damaged(detail: "frame at byte \(position): sequence out of range") }
        return FrameRef(position: position, length: length, type: type, sequence: sequence,
                        key: LookupKey(high: readBE64(b, offset + 14), low: readBE64(b, offset + 22)))
    }
}

/// Where a frame is and what its clear header says: what indexes and lookups hold.
struct FrameRef: Equatable {
    var position: Int
    var length: Int
    var type: RecordType
    var sequence: UInt64
    var key: LookupKey
}

/// A 16-byte lookup key as two words: hashed and compared without touching the heap.
struct LookupKey: Hashable, Comparable {
    let high: UInt64
    let low: UInt64

    static let zero = LookupKey(high: 0, low: 0)

    init(high: UInt64, low: UInt64) { self.high = high; self.low = low }

    init(_ bytes: [UInt8]) {
        precondition(bytes.count == FrameHeader.lookupKeyByteCount, "lookup key size")
        high = readBE64(bytes, 0)
        low = readBE64(bytes, 8)
    }

    var bytes: [UInt8] { be64(high) + be64(low) }

    static func < (a: LookupKey, b: LookupKey) -> Bool { a.high != b.high ? a.high < b.high : a.low < b.low }
}

/// Sealing and opening records (AEAD: XChaCha20-Poly1305 under the record key).
enum SealedFrame {
    /// Binds a record to its keystore, type, flags, sequence number and lookup key.
    static func associatedData(keystoreID: [UInt8], type: RecordType, sequence: UInt64, key: LookupKey) -> [UInt8] {
        Array("vault-ks record v2".utf8) + keystoreID + [type.rawValue, 0] + be64(sequence) + key.bytes
    }

    /// The frame of a record: header, then ciphertext and tag.
    static func seal(_ plaintext: SecretBytes, type: RecordType, sequence: UInt64, key: LookupKey, keystoreID: [UInt8],
                     recordKey: SecretBytes) throws(KeystoreError) -> [UInt8] {
        let length = FrameHeader.byteCount + plaintext.count + XChaCha20Poly1305.tagByteCount
        guard length <= FrameHeader.maxFrameByteCount else { throw .invalidEntry(detail: "the record is larger than 1 MiB") }
        let nonce = Random.bytes(FrameHeader.nonceByteCount)
        let ad = associatedData(keystoreID: keystoreID, type: type, sequence: sequence, key: key)
        do {
            let c = try XChaCha20Poly1305.seal(plaintext, associatedData: ad, nonce: nonce, key: recordKey)
            var out = be32(UInt32(length)) + [type.rawValue, 0] + be64(sequence) + key.bytes + nonce
            out += c
            return out
        } catch { throw .sodium(error) }
    }

    /// Opens the frame `bytes`, read for `ref`: its clear header must say what `ref` says (an
    /// index row or a scanned header), then the AEAD authenticates it with that header as AD.
    /// - Throws: `.damaged` naming the record.
    static func open(_ bytes: [UInt8], ref: FrameRef, keystoreID: [UInt8], recordKey: SecretBytes) throws(KeystoreError) -> SecretBytes {
        let found = try bytes.withBytes { (b) throws(KeystoreError) -> FrameRef in
            try FrameHeader.parse(b, at: 0, position: ref.position, available: bytes.count)
        }
        guard found == ref, bytes.count == ref.length, ref.type != .index else {
            throw .damaged(detail: "record \(ref.sequence) at byte \(ref.position) is not the record the index names")
        }
        let nonce = Array(bytes[30..<54])
        let ad = associatedData(keystoreID: keystoreID, type: ref.type, sequence: ref.sequence, key: ref.key)
        do {
            return try XChaCha20Poly1305.open(Array(bytes[54...]), associatedData: ad, nonce: nonce, key: recordKey)
        } catch {
            guard error == .authenticationFailed else { throw .sodium(error) }
            throw .damaged(detail: "record \(ref.sequence) at byte \(ref.position) does not authenticate")
        }
    }
}
