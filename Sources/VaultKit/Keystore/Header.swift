/// The format-2 header (docs/KEYSTORE.md §2.1): magic, version, length, keystore id,
/// generation, the unlock slots, a MAC under the header key (checked right after unlock) and a
/// SHA-256 checksum (checked before any KDF runs, so damage is told apart from a wrong secret).
struct KeystoreHeader: Equatable {
    static let magic: [UInt8] = Array("vault-ks".utf8)
    /// The format this code writes; version 1 is read only to migrate it.
    static let version: UInt16 = 2
    static let idByteCount = 16
    static let generationByteCount = 16
    /// magic 8 · version 2 · length 4 · id 16 · generation 16 · slot count 1.
    static let fixedByteCount = 8 + 2 + 4 + idByteCount + generationByteCount + 1
    static let macByteCount = 32
    static let checksumByteCount = 32
    static let maxSlots = 16
    /// No header is longer (a damaged length can never ask for more).
    static let maxByteCount = 64 * 1024
    static var minByteCount: Int { fixedByteCount + UnlockSlot.byteCount(nameLength: 1) + macByteCount + checksumByteCount }

    var keystoreID: [UInt8]
    /// Random, new with every rewrite: positions and states of one file are never applied to another.
    var generation: [UInt8]
    var slots: [UnlockSlot]

    var byteCount: Int {
        Self.fixedByteCount + slots.reduce(0) { $0 + $1.byteCount } + Self.macByteCount + Self.checksumByteCount
    }

    /// Where the log's first frame goes: after the header and the two state slots.
    var logStart: Int { byteCount + 2 * KeystoreState.byteCount }

    /// Every byte up to the MAC: what the MAC covers.
    func macInput() -> [UInt8] {
        var out = Self.magic
        out += be16(Self.version)
        out += be32(UInt32(byteCount))
        out += keystoreID + generation
        out.append(UInt8(slots.count))
        for s in slots { out += s.encoded() }
        return out
    }

    /// The header's bytes, its MAC computed with `headerKey`.
    func encoded(headerKey: SecretBytes) throws(KeystoreError) -> [UInt8] {
        var out = macInput()
        out += try MasterKeys.mac(out, key: headerKey)
        out += SHA256.hash(out)
        return out
    }

    /// Checks the header MAC of `bytes` (a parsed header's exact bytes) with `headerKey`.
    /// - Throws: `.damaged` when it does not match: the header was altered by someone without
    ///   the master key (a slot removed, renamed or added), or belongs to another copy.
    static func checkMAC(_ bytes: [UInt8], headerKey: SecretBytes) throws(KeystoreError) {
        let end = bytes.count - checksumByteCount - macByteCount
        guard end > 0 else { throw .damaged(detail: "header too short") }
        let mac = try MasterKeys.mac(Array(bytes[0..<end]), key: headerKey)
        guard mac == Array(bytes[end..<(end + macByteCount)]) else {
            throw .damaged(detail: "the header's MAC does not match (the header was altered)")
        }
    }

    /// The format version of a file from its first bytes, checked in this order: empty, magic,
    /// version. A version above 2 is refused before anything else is read.
    /// - Throws: `.emptyFile`, `.notAKeystore`, `.truncated`, `.newerVersion`, `.damaged` (version 0).
    static func version(of b: [UInt8], path: String) throws(KeystoreError) -> Int {
        guard !b.isEmpty else { throw .emptyFile(path: path) }
        guard b.count >= magic.count, Array(b[0..<magic.count]) == magic else {
            // A prefix of the magic is a keystore truncated inside its first bytes.
            if b.count < magic.count, Array(magic[0..<b.count]) == b { throw .truncated(path: path) }
            throw .notAKeystore(path: path)
        }
        guard b.count >= 10 else { throw .truncated(path: path) }
        let v = Int(readBE16(b, 8))
        guard v <= Int(version) else { throw .newerVersion(found: v, supported: Int(version)) }
        guard v >= 1 else { throw .damaged(detail: "header version 0") }
        return v
    }

    /// The header length its slot count and name lengths give, if the bytes reach that far.
    static func structuralLength(_ b: [UInt8]) -> Int? {
        guard b.count > fixedByteCount else { return nil }
        var o = fixedByteCount
        for _ in 0..<Int(b[fixedByteCount - 1]) {
            guard b.count > o + 2 else { return nil }
            o += UnlockSlot.byteCount(nameLength: Int(b[o + 2]))
        }
        return o + macByteCount + checksumByteCount
    }

    /// Parses and checks a format-2 header from the start of `bytes`. Every length and count is
    /// range-checked; the checksum is verified before any value is used. No KDF runs here.
    /// - Throws: `.emptyFile`, `.notAKeystore`, `.truncated`, `.newerVersion`, `.damaged`.
    static func parse(_ b: [UInt8], path: String) throws(KeystoreError) -> (header: KeystoreHeader, bytes: [UInt8]) {
        guard try version(of: b, path: path) == Int(version) else { throw .damaged(detail: "not a format-2 header") }
        guard b.count >= 14 else { throw .truncated(path: path) }
        let length = Int(readBE32(b, 10))
        guard (minByteCount...maxByteCount).contains(length) else { throw .damaged(detail: "header length out of range") }
        if b.count < length {
            // The length is redundant with the slots' own lengths: a damaged length field is
            // damage, only a header whose slots run past the end is cut short.
            if let walked = structuralLength(b), walked != length { throw .damaged(detail: "header length does not match its slots") }
            throw .truncated(path: path)
        }
        let bytes = Array(b[0..<length])
        let body = length - checksumByteCount
        guard SHA256.hash(Array(bytes[0..<body])) == Array(bytes[body..<length]) else {
            throw .damaged(detail: "header checksum does not match")
        }
        var r = ByteReader(Array(bytes[0..<(body - macByteCount)]), at: 14, what: "header")
        let id = try r.take(idByteCount)
        let generation = try r.take(generationByteCount)
        let count = Int(try r.u8())
        guard (1...maxSlots).contains(count) else { throw .damaged(detail: "header: unlock slot count out of range") }
        var slots: [UnlockSlot] = []
        for _ in 0..<count { slots.append(try UnlockSlot.parse(&r)) }
        guard r.remaining == 0 else { throw .damaged(detail: "header: bytes after the last unlock slot") }
        guard Set(slots.map(\.name)).count == slots.count else { throw .damaged(detail: "header: two unlock slots share a name") }
        return (KeystoreHeader(keystoreID: id, generation: generation, slots: slots), bytes)
    }
}
