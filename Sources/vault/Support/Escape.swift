/// Text that someone else wrote (a sender's label, `from`, note; a request's label), made safe to
/// show on a terminal: control characters could move the cursor, rewrite earlier lines or change
/// the terminal's settings, and bidirectional overrides could make text read differently from
/// what it is. Each is shown as a visible escape instead.
enum Escape {
    /// `text` with every control character (Cc) and bidirectional control shown escaped; a
    /// backslash is doubled so that an escape cannot be forged.
    static func forTerminal(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x5c: out += "\\\\"
            case 0x0a: out += "\\n"
            case 0x09: out += "\\t"
            case 0x0d: out += "\\r"
            case 0x00...0x1f, 0x7f...0x9f, 0x200e, 0x200f, 0x202a...0x202e, 0x2066...0x2069:
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Public input quoted for a message: escaped, in single quotes.
    static func quoted(_ text: String) -> String { "'" + forTerminal(text) + "'" }
}
