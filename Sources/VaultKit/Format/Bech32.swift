/// The failure classes of reading a Bech32 key string, in the order FORMAT.md §1 checks them.
public enum Bech32Error: Error, Equatable, Sendable {
    /// A character outside printable ASCII, or after the last `1` outside the Bech32 alphabet.
    case character
    /// Upper and lower case mixed.
    case mixedCase
    /// No separator, too short a checksum, over 90 characters, or a checksum that fails.
    case checksum
    /// A valid Bech32 string with another human-readable part; carries the one found.
    case prefix(found: String)
    /// Data that is not exactly the expected number of bytes, or non-zero padding bits.
    case length

    /// The class name the vectors use.
    public var className: String {
        switch self {
        case .character: "character"
        case .mixedCase: "mixed_case"
        case .checksum: "checksum"
        case .prefix: "prefix"
        case .length: "length"
        }
    }
}

/// BIP 173 Bech32 (the original checksum constant 1, not Bech32m) over whole bytes.
///
/// Works on raw buffers and streams through the checksum, so that a secret key can be encoded
/// and decoded without a copy outside the caller's secret memory.
public enum Bech32 {
    /// The longest string BIP 173 allows.
    public static let maximumLength = 90
    /// Characters of the checksum.
    public static let checksumLength = 6
    static let alphabet = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)
    /// Value of each ASCII byte in the alphabet (either case), or -1.
    private static let values: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() {
            table[Int(c)] = Int8(i)
            if isLower(c) { table[Int(c - 32)] = Int8(i) }
        }
        return table
    }()

    private static func isLower(_ c: UInt8) -> Bool { c >= 0x61 && c <= 0x7a }
    private static func isUpper(_ c: UInt8) -> Bool { c >= 0x41 && c <= 0x5a }

    /// The BIP 173 checksum, fed one 5-bit value at a time.
    private struct Polymod {
        var value: UInt32 = 1
        mutating func feed(_ v: UInt8) {
            let top = value >> 25
            value = (value & 0x1ff_ffff) << 5 ^ UInt32(v)
            let generator: [UInt32] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3]
            for i in 0..<5 where (top >> UInt32(i)) & 1 == 1 { value ^= generator[i] }
        }
        mutating func feed(hrp: [UInt8]) {
            for c in hrp { feed(c >> 5) }
            feed(0)
            for c in hrp { feed(c & 31) }
        }
    }

    /// The encoded length of `byteCount` bytes under a human-readable part of `hrpLength`.
    public static func encodedLength(hrpLength: Int, byteCount: Int) -> Int {
        hrpLength + 1 + (byteCount * 8 + 4) / 5 + checksumLength
    }

    /// Encodes `bytes` under `hrp`, passing each output character to `emit`, in lower case or
    /// (for secret keys) upper case.
    public static func encode(hrp: String, bytes: UnsafeRawBufferPointer, uppercase: Bool = false,
                              emit: (UInt8) -> Void) {
        let h = Array(hrp.lowercased().utf8)
        var check = Polymod()
        check.feed(hrp: h)
        let caseOf: (UInt8) -> UInt8 = { uppercase && isLower($0) ? $0 - 32 : $0 }
        for c in h { emit(caseOf(c)) }
        emit(UInt8(ascii: "1"))
        var acc = 0, bits = 0
        func put(_ v: Int) {
            check.feed(UInt8(v))
            emit(caseOf(alphabet[v]))
        }
        for b in bytes {
            acc = (acc << 8 | Int(b)) & 0xfff
            bits += 8
            while bits >= 5 { bits -= 5; put((acc >> bits) & 31) }
        }
        if bits > 0 { put((acc << (5 - bits)) & 31) }
        acc = 0
        for _ in 0..<checksumLength { check.feed(0) }
        let mod = check.value ^ 1
        for i in 0..<checksumLength { emit(caseOf(alphabet[Int((mod >> UInt32(5 * (5 - i))) & 31)])) }
    }

    /// Encodes public bytes to a string.
    public static func encode(hrp: String, bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        bytes.withUnsafeBytes { encode(hrp: hrp, bytes: $0) { out.append($0) } }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes `text` to exactly `output.count` bytes under `hrp`, checking in the order of
    /// FORMAT.md §1 and reporting the first failure. Writes only into `output`.
    /// - Throws: `Bech32Error`.
    public static func decode(_ text: UnsafeRawBufferPointer, hrp: String,
                              into output: UnsafeMutableRawBufferPointer) throws(Bech32Error) {
        // 1. printable ASCII only; after the last `1`, the Bech32 alphabet only.
        guard text.allSatisfy({ $0 >= 0x21 && $0 <= 0x7e }) else { throw .character }
        let separator = text.lastIndex(of: UInt8(ascii: "1"))
        if let separator {
            for c in text[(separator + 1)...] where values[Int(c)] < 0 { throw .character }
        }
        // 2. a single case.
        guard !(text.contains(where: isLower) && text.contains(where: isUpper)) else { throw .mixedCase }
        // 3. structure and checksum, over the string's own human-readable part.
        guard let separator, text.count <= maximumLength,
              text.count - separator - 1 >= checksumLength else { throw .checksum }
        let ownHRP = text[..<separator].map { isUpper($0) ? $0 + 32 : $0 }
        var check = Polymod()
        check.feed(hrp: ownHRP)
        for c in text[(separator + 1)...] { check.feed(UInt8(values[Int(c)])) }
        guard check.value == 1 else { throw .checksum }
        // 4. the expected human-readable part.
        guard ownHRP == Array(hrp.lowercased().utf8) else {
            throw .prefix(found: String(decoding: ownHRP, as: UTF8.self))
        }
        // 5. exactly output.count bytes, zero padding bits, no whole padding group.
        let data = text[(separator + 1)..<(text.count - checksumLength)]
        guard data.count == (output.count * 8 + 4) / 5 else { throw .length }
        var acc = 0, bits = 0, n = 0
        for c in data {
            acc = (acc << 5 | Int(values[Int(c)])) & 0xfff
            bits += 5
            if bits >= 8 {
                bits -= 8
                output[n] = UInt8((acc >> bits) & 0xff)
                n += 1
            }
        }
        let padding = acc & ((1 << bits) - 1)
        acc = 0
        guard n == output.count, bits < 5, padding == 0 else {
            output.initializeMemory(as: UInt8.self, repeating: 0)
            throw .length
        }
    }

    /// Decodes a public string to exactly `byteCount` bytes.
    /// - Throws: `Bech32Error`.
    public static func decode(_ string: String, hrp: String, byteCount: Int) throws(Bech32Error) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: byteCount)
        let text = Array(string.utf8)
        let result = text.withUnsafeBytes { t in
            out.withUnsafeMutableBytes { o in
                Result { () throws(Bech32Error) in try decode(t, hrp: hrp, into: o) }
            }
        }
        try result.get()
        return out
    }
}

/// The text forms of keys (FORMAT.md §1, §3).
public enum KeyText {
    /// Human-readable part of a recipient string.
    public static let recipientHRP = "vault"
    /// Human-readable part of a secret-key string.
    public static let secretKeyHRP = "vault-secret-key-"
    /// Raw key size of both forms.
    public static let keyByteCount = 32
    /// Length of a recipient string (64).
    public static let recipientLength = Bech32.encodedLength(hrpLength: 5, byteCount: 32)
    /// Length of a secret-key string (76).
    public static let secretKeyLength = Bech32.encodedLength(hrpLength: 17, byteCount: 32)

    /// The recipient string of a 32-byte public key, lower case.
    public static func recipient(_ publicKey: [UInt8]) -> String {
        precondition(publicKey.count == keyByteCount, "a public key is 32 bytes")
        return Bech32.encode(hrp: recipientHRP, bytes: publicKey)
    }

    /// The 32 public-key bytes of a recipient string (either single case).
    /// - Throws: `Bech32Error` with the class of §1.
    public static func parseRecipient(_ text: String) throws(Bech32Error) -> [UInt8] {
        try Bech32.decode(text, hrp: recipientHRP, byteCount: keyByteCount)
    }
}
