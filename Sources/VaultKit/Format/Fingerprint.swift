/// Why a typed fingerprint was not read (FORMAT.md §2).
public enum FingerprintError: Error, Equatable, Sendable {
    /// Not `SHA256:` + 64 hex digits with the allowed separators.
    case malformed
    /// Looks like OpenSSH's `SHA256:` + base64 fingerprint: a different kind of fingerprint.
    case openSSHForm
}

/// The fingerprint of a recipient key: SHA-256 over its 32 raw bytes (FORMAT.md §2).
/// The digest is computed by the Sodium layer; this type only reads and writes its text forms.
public struct Fingerprint: Hashable, Sendable, CustomStringConvertible {
    /// The digest size.
    public static let byteCount = 32
    /// The prefix of every text form.
    public static let prefix = "SHA256:"
    /// The 32 digest bytes.
    public let digest: [UInt8]

    /// Wraps a digest.
    public init(digest: [UInt8]) {
        precondition(digest.count == Fingerprint.byteCount, "a fingerprint digest is 32 bytes")
        self.digest = digest
    }

    /// `SHA256:` and 64 lower-case hex digits: what programs print, on its own line.
    public var canonical: String { Fingerprint.prefix + Hex.encode(digest) }

    /// 16 groups of 4 upper-case hex digits, for reading aloud.
    public var grouped: String {
        let hex = Array(Hex.encode(digest).uppercased())
        return stride(from: 0, to: hex.count, by: 4).map { String(hex[$0..<$0 + 4]) }.joined(separator: " ")
    }

    /// The canonical form.
    public var description: String { canonical }

    /// Reads exactly the canonical form (the payload's `recipient`, the request's `Fingerprint:`).
    /// - Throws: `FingerprintError.malformed` for anything else.
    public init(canonical text: String) throws(FingerprintError) {
        guard text.hasPrefix(Fingerprint.prefix), let digest = Hex.decodeLower(String(text.dropFirst(7))),
              digest.count == Fingerprint.byteCount else { throw .malformed }
        self.digest = digest
    }

    /// Reads what a person typed or pasted (`--expect`): an optional `SHA256:` in any case, then
    /// 64 hex digits in any case with ASCII spaces, tabs, hyphens or colons between them.
    /// - Throws: `.openSSHForm` for `SHA256:` + base64 (OpenSSH); `.malformed` otherwise.
    public init(typed text: String) throws(FingerprintError) {
        var body = Substring(text)
        if body.count >= 7, body.prefix(7).uppercased() == Fingerprint.prefix.uppercased() { body = body.dropFirst(7) }
        // Separators go only *between* digits: the first and last characters are hex digits.
        let separators: Set<Character> = [" ", "\t", "-", ":"]
        guard let first = body.first, let last = body.last, first.isHexDigit, last.isHexDigit,
              body.allSatisfy({ ($0.isASCII && $0.isHexDigit) || separators.contains($0) }) else {
            throw Fingerprint.classify(text)
        }
        let digits = String(body.filter { !separators.contains($0) })
        guard digits.count == 64, let digest = Hex.decode(digits) else { throw Fingerprint.classify(text) }
        self.digest = digest
    }

    /// OpenSSH prints `SHA256:` and 43 characters of unpadded base64.
    private static func classify(_ text: String) -> FingerprintError {
        let body = text.drop { $0 == " " }
        guard body.hasPrefix("SHA256:") else { return .malformed }
        let rest = body.dropFirst(7)
        let base64 = rest.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "/") }
        return base64 && rest.count == 43 ? .openSSHForm : .malformed
    }
}

/// Lower-case hexadecimal.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Lower-case hex of `bytes`.
    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hex in either case; nil for an odd length or a non-hex character.
    public static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = value(chars[i]), let lo = value(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    /// Decodes lower-case hex only.
    public static func decodeLower(_ text: String) -> [UInt8]? {
        guard text.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else { return nil }
        return decode(text)
    }

    /// True for exactly `count` lower-case hex digits (ids, request codes).
    public static func isLowerHex(_ text: String, count: Int) -> Bool {
        text.utf8.count == count && decodeLower(text) != nil
    }

    private static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x61 + 10
        case 0x41...0x46: c - 0x41 + 10
        default: nil
        }
    }
}
