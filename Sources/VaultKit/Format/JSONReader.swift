/// A string value of a parsed JSON text: where it lies in the source, still escaped. It is
/// decoded only when asked, to a `String` for public fields or to `SecretBytes` for secrets.
public struct JSONString: Sendable {
    /// Byte range of the contents, without the quotes.
    let range: Range<Int>
    /// Whether the contents hold any escape.
    let hasEscapes: Bool
}

/// A JSON value whose strings still point into the source buffer.
public indirect enum JSONValue: Sendable {
    /// An object; keys in order, no duplicates.
    case object([(key: String, value: JSONValue)])
    /// An array.
    case array([JSONValue])
    /// A string, not yet decoded.
    case string(JSONString)
    /// A number: its source text and whether it is written as an integer (no fraction, no exponent).
    case number(text: String, isInteger: Bool)
    /// `true` or `false`.
    case bool(Bool)
    /// `null`.
    case null

    /// A word for messages: "an object", "a string", …
    public var kind: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }
}

/// Why a JSON text was refused. Never carries a value from the text, only keys and positions.
public enum JSONError: Error, Equatable, Sendable {
    /// Not JSON at all, or broken syntax at a byte offset.
    case syntax(String, offset: Int)
    /// A valid-looking text that breaks a strictness rule, at a key path. The path is made of
    /// the text's own keys, raw: whoever shows it escapes it.
    case rule(key: String, String)
}

/// A strict RFC 8259 reader: one value, no byte-order mark, valid UTF-8, no duplicate keys, no
/// lone surrogates, bounded nesting. Works on a borrowed buffer so that the decrypted payload is
/// never copied into a `String` as a whole.
public struct JSONReader {
    /// Deepest nesting accepted.
    public static let maximumDepth = 16
    let source: UnsafeRawBufferPointer
    private var position = 0
    private var path: [String] = []

    /// A reader over `source`, which must outlive it.
    public init(_ source: UnsafeRawBufferPointer) { self.source = source }

    /// Parses the whole source as exactly one JSON value.
    /// - Throws: `JSONError`.
    public mutating func parseDocument() throws(JSONError) -> JSONValue {
        if source.starts(with: [0xef, 0xbb, 0xbf]) { throw .syntax("starts with a byte-order mark", offset: 0) }
        skipWhiteSpace()
        let value = try parseValue(depth: 0)
        skipWhiteSpace()
        guard position == source.count else { throw .syntax("text after the JSON value", offset: position) }
        return value
    }

    private var keyPath: String { path.isEmpty ? "(top level)" : path.joined(separator: ".") }

    /// Parses the whole source as one JSON object and gives each member with the byte range of
    /// its value's text exactly as written (for a signature over a member's raw text, such as
    /// an Exact Online webhook's `Content`). Same strictness as `parseDocument`.
    /// - Throws: `JSONError`; `.rule` at the top level when the document is not an object.
    public mutating func parseObjectMembers() throws(JSONError) -> [(key: String, value: JSONValue, text: Range<Int>)] {
        if source.starts(with: [0xef, 0xbb, 0xbf]) { throw .syntax("starts with a byte-order mark", offset: 0) }
        skipWhiteSpace()
        guard peek() == UInt8(ascii: "{") else { throw .rule(key: keyPath, "is not a JSON object") }
        position += 1
        var members: [(key: String, value: JSONValue, text: Range<Int>)] = []
        skipWhiteSpace()
        if peek() == UInt8(ascii: "}") {
            position += 1
        } else {
            while true {
                skipWhiteSpace()
                guard peek() == UInt8(ascii: "\"") else { throw .syntax("expected a key", offset: position) }
                let key = decode(try parseString())
                if members.contains(where: { $0.key.unicodeScalars.elementsEqual(key.unicodeScalars) }) {
                    throw .rule(key: key, "duplicate key")
                }
                skipWhiteSpace()
                try expect(UInt8(ascii: ":"), "':'")
                skipWhiteSpace()
                path.append(key)
                let start = position
                let value = try parseValue(depth: 1)
                path.removeLast()
                members.append((key, value, start..<position))
                skipWhiteSpace()
                if peek() == UInt8(ascii: ",") { position += 1; continue }
                try expect(UInt8(ascii: "}"), "',' or '}'")
                break
            }
        }
        skipWhiteSpace()
        guard position == source.count else { throw .syntax("text after the JSON value", offset: position) }
        return members
    }


    private mutating func skipWhiteSpace() {
        while position < source.count, TextLines.isWhiteSpace(source[position]) { position += 1 }
    }

    private func peek() -> UInt8? { position < source.count ? source[position] : nil }

    private mutating func expect(_ c: UInt8, _ what: String) throws(JSONError) {
        guard peek() == c else { throw .syntax("expected \(what)", offset: position) }
        position += 1
    }

    private mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        guard depth <= JSONReader.maximumDepth else { throw .rule(key: keyPath, "nested too deeply") }
        switch peek() {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case let c? where c == UInt8(ascii: "-") || (c >= 0x30 && c <= 0x39): return try parseNumber()
        case nil: throw .syntax("unexpected end of text", offset: position)
        default: throw .syntax("unexpected character", offset: position)
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONError) {
        let bytes = UnsafeRawBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard position + bytes.count <= source.count,
              source[position..<(position + bytes.count)].elementsEqual(bytes) else {
            throw .syntax("unexpected character", offset: position)
        }
        position += bytes.count
    }

    private mutating func parseObject(depth: Int) throws(JSONError) -> JSONValue {
        position += 1
        var members: [(key: String, value: JSONValue)] = []
        skipWhiteSpace()
        if peek() == UInt8(ascii: "}") { position += 1; return .object(members) }
        while true {
            skipWhiteSpace()
            guard peek() == UInt8(ascii: "\"") else { throw .syntax("expected a key", offset: position) }
            let keyString = try parseString()
            let key = String(decoding: decodeBytes(keyString), as: UTF8.self)
            // Keys are compared code point by code point, not by Swift's canonical equivalence.
            if members.contains(where: { $0.key.unicodeScalars.elementsEqual(key.unicodeScalars) }) {
                path.append(key)
                throw .rule(key: keyPath, "duplicate key")
            }
            skipWhiteSpace()
            try expect(UInt8(ascii: ":"), "':'")
            skipWhiteSpace()
            path.append(key)
            let value = try parseValue(depth: depth + 1)
            path.removeLast()
            members.append((key, value))
            skipWhiteSpace()
            if peek() == UInt8(ascii: ",") { position += 1; continue }
            try expect(UInt8(ascii: "}"), "',' or '}'")
            return .object(members)
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONError) -> JSONValue {
        position += 1
        var items: [JSONValue] = []
        skipWhiteSpace()
        if peek() == UInt8(ascii: "]") { position += 1; return .array(items) }
        while true {
            skipWhiteSpace()
            path.append("[\(items.count)]")
            items.append(try parseValue(depth: depth + 1))
            path.removeLast()
            skipWhiteSpace()
            if peek() == UInt8(ascii: ",") { position += 1; continue }
            try expect(UInt8(ascii: "]"), "',' or ']'")
            return .array(items)
        }
    }

    private mutating func parseNumber() throws(JSONError) -> JSONValue {
        let start = position
        var isInteger = true
        if peek() == UInt8(ascii: "-") { position += 1 }
        func digits() -> Int {
            let from = position
            while let c = peek(), c >= 0x30, c <= 0x39 { position += 1 }
            return position - from
        }
        if peek() == UInt8(ascii: "0") {
            position += 1
        } else {
            guard digits() > 0 else { throw .syntax("invalid number", offset: start) }
        }
        if peek() == UInt8(ascii: ".") {
            position += 1
            isInteger = false
            guard digits() > 0 else { throw .syntax("invalid number", offset: start) }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            position += 1
            isInteger = false
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard digits() > 0 else { throw .syntax("invalid number", offset: start) }
        }
        return .number(text: String(decoding: source[start..<position], as: UTF8.self), isInteger: isInteger)
    }

    /// Scans a string, checking UTF-8, control characters, escapes and surrogate pairs.
    private mutating func parseString() throws(JSONError) -> JSONString {
        position += 1
        let start = position
        var hasEscapes = false
        while true {
            guard let c = peek() else { throw .syntax("unterminated string", offset: start - 1) }
            switch c {
            case UInt8(ascii: "\""):
                position += 1
                return JSONString(range: start..<(position - 1), hasEscapes: hasEscapes)
            case UInt8(ascii: "\\"):
                hasEscapes = true
                try scanEscape()
            case 0..<0x20:
                throw .rule(key: keyPath, "control character not escaped in a string")
            case 0x80...:
                guard let n = UTF8Scan.sequenceLength(source, at: position) else {
                    throw .rule(key: keyPath, "invalid UTF-8")
                }
                position += n
            default:
                position += 1
            }
        }
    }

    private mutating func scanEscape() throws(JSONError) {
        position += 1
        guard let c = peek() else { throw .syntax("unterminated escape", offset: position) }
        position += 1
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
             UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return
        case UInt8(ascii: "u"):
            let unit = try hex4()
            if (0xdc00...0xdfff).contains(unit) { throw .rule(key: keyPath, "lone surrogate in a string") }
            if (0xd800...0xdbff).contains(unit) {
                guard position + 1 < source.count, source[position] == UInt8(ascii: "\\"),
                      source[position + 1] == UInt8(ascii: "u") else {
                    throw .rule(key: keyPath, "lone surrogate in a string")
                }
                position += 2
                guard (0xdc00...0xdfff).contains(try hex4()) else {
                    throw .rule(key: keyPath, "lone surrogate in a string")
                }
            }
        default:
            throw .syntax("invalid escape", offset: position - 2)
        }
    }

    private mutating func hex4() throws(JSONError) -> UInt32 {
        guard position + 4 <= source.count else { throw .syntax("invalid \\u escape", offset: position) }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = source[position]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            default: throw .syntax("invalid \\u escape", offset: position)
            }
            v = v << 4 | d
            position += 1
        }
        return v
    }

    /// The number of UTF-8 bytes `string` decodes to.
    public func decodedCount(_ string: JSONString) -> Int {
        var n = 0
        JSONUnescape.run(source, string) { _ in n += 1 }
        return n
    }

    /// Decodes a (public) string's UTF-8 bytes.
    public func decodeBytes(_ string: JSONString) -> [UInt8] {
        if !string.hasEscapes { return Array(source[string.range]) }
        var out: [UInt8] = []
        JSONUnescape.run(source, string) { out.append($0) }
        return out
    }

    /// Decodes a (public) string. `parseString` has checked the bytes as strict UTF-8 and every
    /// escape as a whole scalar, so the decoding replaces nothing.
    public func decode(_ string: JSONString) -> String {
        String(decoding: decodeBytes(string), as: UTF8.self)
    }

    /// Decodes a string straight into secret memory.
    /// - Throws: `SodiumError.outOfMemory`.
    public func decodeSecret(_ string: JSONString) throws(SodiumError) -> SecretBytes {
        let secret = try SecretBytes(count: decodedCount(string))
        secret.withUnsafeMutableBytes { out in
            var i = 0
            JSONUnescape.run(source, string) { out[i] = $0; i += 1 }
        }
        return secret
    }
}

/// Unescaping of a string that `JSONReader` has already validated.
enum JSONUnescape {
    static func run(_ source: UnsafeRawBufferPointer, _ string: JSONString, _ emit: (UInt8) -> Void) {
        var i = string.range.lowerBound
        let end = string.range.upperBound
        func hex4(_ at: Int) -> UInt32 {
            var v: UInt32 = 0
            for k in 0..<4 {
                let c = source[at + k]
                v = v << 4 | UInt32(c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10)
            }
            return v
        }
        while i < end {
            let c = source[i]
            guard c == UInt8(ascii: "\\") else { emit(c); i += 1; continue }
            let e = source[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): emit(0x08)
            case UInt8(ascii: "f"): emit(0x0c)
            case UInt8(ascii: "n"): emit(0x0a)
            case UInt8(ascii: "r"): emit(0x0d)
            case UInt8(ascii: "t"): emit(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(i)
                i += 4
                if (0xd800...0xdbff).contains(scalar) {
                    scalar = 0x10000 + (scalar - 0xd800) << 10 + (hex4(i + 2) - 0xdc00)
                    i += 6
                }
                UTF8Scan.encode(scalar, emit)
            default: emit(e)
            }
        }
    }
}

/// Strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF.
public enum UTF8Scan {
    /// The length of the valid sequence starting at `i`, or nil.
    public static func sequenceLength(_ s: UnsafeRawBufferPointer, at i: Int) -> Int? {
        let b0 = s[i]
        func cont(_ k: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xbf) -> Bool {
            i + k < s.count && s[i + k] >= low && s[i + k] <= high
        }
        switch b0 {
        case 0x00...0x7f: return 1
        case 0xc2...0xdf: return cont(1) ? 2 : nil
        case 0xe0: return cont(1, 0xa0) && cont(2) ? 3 : nil
        case 0xe1...0xec, 0xee...0xef: return cont(1) && cont(2) ? 3 : nil
        case 0xed: return cont(1, 0x80, 0x9f) && cont(2) ? 3 : nil
        case 0xf0: return cont(1, 0x90) && cont(2) && cont(3) ? 4 : nil
        case 0xf1...0xf3: return cont(1) && cont(2) && cont(3) ? 4 : nil
        case 0xf4: return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : nil
        default: return nil
        }
    }

    /// Writes the UTF-8 bytes of a scalar.
    static func encode(_ v: UInt32, _ emit: (UInt8) -> Void) {
        switch v {
        case 0..<0x80: emit(UInt8(v))
        case 0x80..<0x800: emit(UInt8(0xc0 | v >> 6)); emit(UInt8(0x80 | v & 0x3f))
        case 0x800..<0x10000:
            emit(UInt8(0xe0 | v >> 12)); emit(UInt8(0x80 | v >> 6 & 0x3f)); emit(UInt8(0x80 | v & 0x3f))
        default:
            emit(UInt8(0xf0 | v >> 18)); emit(UInt8(0x80 | v >> 12 & 0x3f))
            emit(UInt8(0x80 | v >> 6 & 0x3f)); emit(UInt8(0x80 | v & 0x3f))
        }
    }
}
