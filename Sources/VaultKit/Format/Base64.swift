/// Standard base64 with padding (RFC 4648 §4), read strictly: only canonical encodings decode.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let values: [Int8] = {
        var t = [Int8](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = Int8(i) }
        return t
    }()

    /// Encodes with `=` padding, no line breaks.
    public static func encode(_ bytes: [UInt8]) -> String { String(decoding: encodedBytes(bytes), as: UTF8.self) }

    /// The ASCII bytes of the encoding, with `=` padding, no line breaks.
    public static func encodedBytes(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let n = min(3, bytes.count - i)
            let b0 = Int(bytes[i]), b1 = n > 1 ? Int(bytes[i + 1]) : 0, b2 = n > 2 ? Int(bytes[i + 2]) : 0
            out.append(alphabet[b0 >> 2])
            out.append(alphabet[(b0 & 3) << 4 | b1 >> 4])
            out.append(n > 1 ? alphabet[(b1 & 15) << 2 | b2 >> 6] : UInt8(ascii: "="))
            out.append(n > 2 ? alphabet[b2 & 63] : UInt8(ascii: "="))
            i += 3
        }
        return out
    }

    /// Decodes canonical base64: a multiple of 4 characters of the standard alphabet, `=` only as
    /// the last one or two, and zero bits after the last whole byte. Nil otherwise.
    public static func decode(_ text: [UInt8]) -> [UInt8]? {
        guard text.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 4 * 3)
        var i = 0
        while i < text.count {
            let last = i + 4 == text.count
            let pad = last ? (text[i + 3] == UInt8(ascii: "=") ? (text[i + 2] == UInt8(ascii: "=") ? 2 : 1) : 0) : 0
            var quad = 0
            for j in 0..<(4 - pad) {
                let v = values[Int(text[i + j])]
                guard v >= 0 else { return nil }
                quad = quad << 6 | Int(v)
            }
            quad <<= 6 * pad
            out.append(UInt8(quad >> 16))
            if pad < 2 { out.append(UInt8(quad >> 8 & 0xff)) }
            if pad < 1 { out.append(UInt8(quad & 0xff)) }
            // Canonical: the bits a padded quantum does not carry are zero.
            if pad == 1, quad & 0xff != 0 { return nil }
            if pad == 2, quad & 0xffff != 0 { return nil }
            i += 4
        }
        return out
    }
}
