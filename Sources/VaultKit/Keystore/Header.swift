/// The keystore header (docs/KEYSTORE.md, "Header"): magic, version, keystore id, key slots,
/// and a SHA-256 checksum that is verified before any KDF runs.
struct KeystoreHeader: Equatable {
    /// `vault-ks` in ASCII.
    static let magic: [UInt8] = Array("vault-ks".utf8)
    /// The one format version this code reads and writes.
    static let version: UInt16 = 1
    static let idByteCount = 16
    static let saltByteCount = 16
    static let nonceByteCount = 24
    static let wrappedKeyByteCount = 32 + 16
    static let slotByteCount = 2 + saltByteCount + nonceByteCount + wrappedKeyByteCount
    static let generationByteCount = 16
    /// Fixed part: magic 8, version 2, header length 2, id 16, generation 16, slot count 1.
    static let fixedByteCount = 8 + 2 + 2 + idByteCount + generationByteCount + 1
    static let checksumByteCount = 32
    /// At most one passphrase slot and one key-file slot.
    static let maxSlots = 2
    static let maxByteCount = fixedByteCount + maxSlots * slotByteCount + checksumByteCount

    enum SlotKind: UInt8 { case passphrase = 1, keyFile = 2 }

    struct Slot: Equatable {
        var kind: SlotKind
        /// Only for passphrase slots; key-file slots store 0 and an all-zero salt.
        var profile: KDFProfile?
        var salt: [UInt8]
        var nonce: [UInt8]
        var wrappedKey: [UInt8]
    }

    var keystoreID: [UInt8]
    /// Random, new each time the file is rewritten (compaction, passphrase change): a reader's
    /// position in one file is never applied to another, even one that reuses its inode.
    var generation: [UInt8] = Random.bytes(generationByteCount)
    var slots: [Slot]

    var byteCount: Int { Self.fixedByteCount + slots.count * Self.slotByteCount + Self.checksumByteCount }

    static func profileCode(_ p: KDFProfile?) -> UInt8 {
        switch p {
        case nil: 0
        case .interactive: 1
        case .moderate: 2
        case .sensitive: 3
        }
    }

    /// The associated data that binds a wrapped master key to everything in the header that
    /// decides how it is unwrapped: unwrapping authenticates those bytes.
    func wrapAssociatedData(kind: SlotKind, profile: KDFProfile?, salt: [UInt8]) -> [UInt8] {
        var ad = Self.magic
        ad += be16(Self.version)
        ad += keystoreID
        ad += [kind.rawValue, Self.profileCode(profile)]
        ad += salt
        return ad
    }

    func encoded() -> [UInt8] {
        var out = Self.magic
        out += be16(Self.version)
        out += be16(UInt16(byteCount))
        out += keystoreID
        out += generation
        out.append(UInt8(slots.count))
        for s in slots {
            out += [s.kind.rawValue, Self.profileCode(s.profile)]
            out += s.salt + s.nonce + s.wrappedKey
        }
        out += SHA256.hash(out)
        return out
    }

    /// Parses and checks a header from the start of `bytes` (the file, or at least its header).
    /// Order: empty, magic, version, length, checksum, then values. No KDF runs here.
    /// - Throws: `.emptyFile`, `.notAKeystore`, `.truncated`, `.newerVersion`, `.damaged`.
    static func parse(_ bytes: ArraySlice<UInt8>, path: String) throws(KeystoreError) -> KeystoreHeader {
        guard !bytes.isEmpty else { throw .emptyFile(path: path) }
        let b = Array(bytes.prefix(maxByteCount))
        guard b.count >= magic.count, Array(b[0..<magic.count]) == magic else {
            // A prefix of the magic is a keystore truncated inside its first bytes.
            if b.count < magic.count, Array(magic[0..<b.count]) == b { throw .truncated(path: path) }
            throw .notAKeystore(path: path)
        }
        guard b.count >= fixedByteCount else { throw .truncated(path: path) }
        let version = readBE16(b, 8)
        guard version <= Self.version else { throw .newerVersion(found: Int(version), supported: Int(Self.version)) }
        let length = Int(readBE16(b, 10))
        let count = Int(b[fixedByteCount - 1])
        guard version == Self.version else { throw .damaged(detail: "header version 0") }
        guard (1...maxSlots).contains(count),
              length == fixedByteCount + count * slotByteCount + checksumByteCount else {
            throw .damaged(detail: "header length or key slot count out of range")
        }
        guard b.count >= length else { throw .truncated(path: path) }
        guard SHA256.hash(Array(b[0..<(length - checksumByteCount)])) == Array(b[(length - checksumByteCount)..<length]) else {
            throw .damaged(detail: "header checksum does not match")
        }
        var slots: [Slot] = []
        var o = fixedByteCount
        for _ in 0..<count {
            guard let kind = SlotKind(rawValue: b[o]) else { throw .damaged(detail: "unknown key slot kind") }
            let profile: KDFProfile?
            switch (kind, b[o + 1]) {
            case (.keyFile, 0): profile = nil
            case (.passphrase, 1): profile = .interactive
            case (.passphrase, 2): profile = .moderate
            case (.passphrase, 3): profile = .sensitive
            // Only the three named limits exist: a header can never ask for another cost.
            default: throw .damaged(detail: "unknown KDF profile")
            }
            o += 2
            let salt = Array(b[o..<(o + saltByteCount)]); o += saltByteCount
            let nonce = Array(b[o..<(o + nonceByteCount)]); o += nonceByteCount
            let wrapped = Array(b[o..<(o + wrappedKeyByteCount)]); o += wrappedKeyByteCount
            slots.append(Slot(kind: kind, profile: profile, salt: salt, nonce: nonce, wrappedKey: wrapped))
        }
        guard Set(slots.map(\.kind.rawValue)).count == slots.count else { throw .damaged(detail: "duplicate key slot") }
        return KeystoreHeader(keystoreID: Array(b[12..<28]), generation: Array(b[28..<44]), slots: slots)
    }
}

func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }
func be32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (24 - 8 * UInt32($0))) & 0xff) } }
func be64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8((v >> (56 - 8 * UInt64($0))) & 0xff) } }
func readBE16(_ b: [UInt8], _ o: Int) -> UInt16 { UInt16(b[o]) << 8 | UInt16(b[o + 1]) }
func readBE32<C: RandomAccessCollection>(_ b: C, _ o: C.Index) -> UInt32 where C.Element == UInt8 {
    var v: UInt32 = 0
    var i = o
    for _ in 0..<4 { v = v << 8 | UInt32(b[i]); i = b.index(after: i) }
    return v
}
func readBE64<C: RandomAccessCollection>(_ b: C, _ o: C.Index) -> UInt64 where C.Element == UInt8 {
    var v: UInt64 = 0
    var i = o
    for _ in 0..<8 { v = v << 8 | UInt64(b[i]); i = b.index(after: i) }
    return v
}
