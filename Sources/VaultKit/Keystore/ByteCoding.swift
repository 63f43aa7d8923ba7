/// Big-endian integers, and a reader that range-checks every read: a damaged or hostile file
/// gives `KeystoreError.damaged`, never a trap (an out-of-range index or an overflow).
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

/// Reads fields in order from a byte array. Every read checks that the bytes are there; every
/// integer that becomes a count, length or position goes through `int(_:max:)`, which refuses
/// a value above its named limit (so no later arithmetic can overflow).
struct ByteReader {
    let bytes: [UInt8]
    private(set) var offset: Int
    /// What the bytes are, for messages ("header", "state slot A", …).
    let what: String

    init(_ bytes: [UInt8], at offset: Int = 0, what: String) {
        self.bytes = bytes
        self.offset = offset
        self.what = what
    }

    var remaining: Int { bytes.count - offset }

    mutating func take(_ n: Int) throws(KeystoreError) -> [UInt8] {
        guard n >= 0, n <= remaining else { throw .damaged(detail: "\(what) ends early") }
        defer { offset += n }
        return Array(bytes[offset..<(offset + n)])
    }

    mutating func u8() throws(KeystoreError) -> UInt8 { try take(1)[0] }
    mutating func u32() throws(KeystoreError) -> UInt32 { readBE32(try take(4), 0) }
    mutating func u64() throws(KeystoreError) -> UInt64 { readBE64(try take(8), 0) }

    /// An 8-byte integer that must lie in `0...max`, as an `Int`.
    mutating func int(_ field: String, max: Int) throws(KeystoreError) -> Int {
        let v = try u64()
        guard v <= UInt64(max) else { throw .damaged(detail: "\(what): \(field) out of range") }
        return Int(v)
    }

    /// `n` bytes that must all be zero (reserved space).
    mutating func zeros(_ n: Int, _ field: String) throws(KeystoreError) {
        guard try take(n).allSatisfy({ $0 == 0 }) else { throw .damaged(detail: "\(what): \(field) is not zero") }
    }
}

/// Limits shared by every part of the format: one named value each.
enum Limits {
    /// Positions and lengths in a keystore never exceed this (2^62): sums of two stay in `Int`.
    static let maxPosition = 1 << 62
    /// Sequence numbers stay below 2^63, so `sequence + 1` never overflows.
    static let maxSequence: UInt64 = 1 << 63
}

extension Array where Element == UInt8 {
    /// `withUnsafeBytes` for a body with a typed error (the standard one rethrows untyped).
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(KeystoreError) -> R) throws(KeystoreError) -> R {
        let out: Result<R, KeystoreError> = withUnsafeBytes { b in
            do throws(KeystoreError) { return .success(try body(b)) } catch { return .failure(error) }
        }
        return try out.get()
    }
}
