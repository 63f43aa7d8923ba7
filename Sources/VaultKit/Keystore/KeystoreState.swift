/// A state slot (docs/KEYSTORE.md §2.3): the committed state of the log, MAC'd with the state
/// key. Two slots alternate; writing one is the commit. The state with the highest counter
/// whose MAC verifies is current, so a torn write of one slot falls back to the other.
struct KeystoreState: Equatable {
    static let byteCount = 256
    static let macOffset = 224
    static let digestByteCount = 32

    /// > 0; 0 marks an empty slot. Odd counters go to slot A, even ones to slot B.
    var counter: UInt64
    /// Position just after the last committed frame.
    var logEnd: Int
    /// The last sequence number in the log.
    var lastSequence: UInt64
    /// Frames in the log (every type, index frames included).
    var recordCount: Int
    /// Position of the current index snapshot frame; 0 for none.
    var indexPosition: Int
    /// BLAKE2b-32 of the index frame's header and the snapshot's header and fence.
    var indexDigest: [UInt8]
    /// Audit records in the log, and the hash of the newest (issue 13; zero until then).
    var auditCount: UInt64
    var auditHead: [UInt8]
    /// Bytes a compaction would drop.
    var deadBytes: Int
    /// The chain over the headers of the frames after the index (the tail): every clear field
    /// the reader acts on is authenticated without decrypting (docs/KEYSTORE.md §2.6).
    var tailDigest: [UInt8]

    static let zeroDigest = [UInt8](repeating: 0, count: digestByteCount)

    /// The slot a state with `counter` is written to: A (0) for odd, B (1) for even counters.
    static func slot(for counter: UInt64) -> Int { Int((counter + 1) % 2) }

    func body() -> [UInt8] {
        var out = be64(counter) + be64(UInt64(logEnd)) + be64(lastSequence) + be64(UInt64(recordCount))
        out += be64(UInt64(indexPosition)) + indexDigest + be64(auditCount) + auditHead + be64(UInt64(deadBytes))
        out += tailDigest
        out += [UInt8](repeating: 0, count: Self.macOffset - out.count)
        return out
    }

    static func macInput(_ body: [UInt8], keystoreID: [UInt8], generation: [UInt8]) -> [UInt8] {
        Array("vault-ks state v2".utf8) + keystoreID + generation + body
    }

    func encoded(key: SecretBytes, keystoreID: [UInt8], generation: [UInt8]) throws(KeystoreError) -> [UInt8] {
        let b = body()
        return b + (try MasterKeys.mac(Self.macInput(b, keystoreID: keystoreID, generation: generation), key: key))
    }

    /// Parses a slot; nil for an empty slot (all zero) or one whose MAC does not verify (a torn
    /// write, or a state made under another master key or generation).
    /// - Throws: `.damaged` for a slot that authenticates but holds a value out of range.
    static func parse(_ b: [UInt8], key: SecretBytes, keystoreID: [UInt8], generation: [UInt8],
                      logStart: Int) throws(KeystoreError) -> KeystoreState? {
        guard b.count == byteCount, b.contains(where: { $0 != 0 }) else { return nil }
        let body = Array(b[0..<macOffset])
        guard try MasterKeys.mac(macInput(body, keystoreID: keystoreID, generation: generation), key: key) == Array(b[macOffset...]) else {
            return nil
        }
        var r = ByteReader(body, what: "state")
        let counter = try r.u64()
        let end = try r.int("log end", max: Limits.maxPosition)
        let last = try r.u64()
        let count = try r.int("record count", max: Limits.maxPosition)
        let index = try r.int("index position", max: Limits.maxPosition)
        let digest = try r.take(digestByteCount)
        let audit = try r.u64()
        let head = try r.take(digestByteCount)
        let dead = try r.int("dead bytes", max: Limits.maxPosition)
        let tail = try r.take(digestByteCount)
        try r.zeros(r.remaining, "reserved bytes")
        guard counter > 0, counter < Limits.maxSequence, last < Limits.maxSequence, audit < Limits.maxSequence else {
            throw .damaged(detail: "state: counter or sequence out of range")
        }
        guard end >= logStart, dead <= end - logStart, count <= (end - logStart) / FrameHeader.minFrameByteCount else {
            throw .damaged(detail: "state: log end, record count or dead bytes out of range")
        }
        guard index == 0 || (index >= logStart && index < end) else { throw .damaged(detail: "state: index position out of range") }
        return KeystoreState(counter: counter, logEnd: end, lastSequence: last, recordCount: count, indexPosition: index,
                             indexDigest: digest, auditCount: audit, auditHead: head, deadBytes: dead, tailDigest: tail)
    }

    /// The state of an empty log.
    static func initial(logStart: Int) -> KeystoreState {
        KeystoreState(counter: 1, logEnd: logStart, lastSequence: 0, recordCount: 0, indexPosition: 0, indexDigest: zeroDigest,
                      auditCount: 0, auditHead: zeroDigest, deadBytes: 0, tailDigest: zeroDigest)
    }
}
