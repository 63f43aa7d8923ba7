/// The `--json` outputs: written by hand so that key order is stable and as documented in
/// docs/JSON.md. Strings are escaped per RFC 8259, and every character `Escape` marks (controls,
/// bidirectional and zero-width characters, …) is written as a \u escape: the same string for a
/// program that parses it, and text a sender wrote never reaches a terminal raw through JSON.
indirect enum JSONOut {
    case string(String)
    case int(Int)
    case bool(Bool)
    case array([JSONOut])
    case object([(String, JSONOut)])

    /// The value pretty-printed with two-space indents, and a final LF.
    var text: String { render(0) + "\n" }

    private func render(_ depth: Int) -> String {
        let pad = String(repeating: "  ", count: depth + 1), end = String(repeating: "  ", count: depth)
        switch self {
        case .string(let s): return JSONOut.quote(s)
        case .int(let n): return String(n)
        case .bool(let b): return b ? "true" : "false"
        case .array(let items):
            if items.isEmpty { return "[]" }
            return "[\n" + items.map { pad + $0.render(depth + 1) }.joined(separator: ",\n") + "\n\(end)]"
        case .object(let members):
            if members.isEmpty { return "{}" }
            return "{\n" + members.map { pad + JSONOut.quote($0.0) + ": " + $0.1.render(depth + 1) }
                .joined(separator: ",\n") + "\n\(end)}"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar.value {
            case 0x22: out += "\\\""
            case 0x5c: out += "\\\\"
            case 0x0a: out += "\\n"
            case 0x09: out += "\\t"
            case 0x0d: out += "\\r"
            default:
                guard Escape.marks(scalar) else { out.unicodeScalars.append(scalar); continue }
                // Beyond U+FFFF (tag characters, variation selectors supplement): a surrogate pair.
                for unit in String(scalar).utf16 {
                    let hex = String(unit, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                }
            }
        }
        return out + "\""
    }
}
