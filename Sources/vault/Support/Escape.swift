/// Text that someone else wrote (a payload's key names, a sender's label, `from`, note; a
/// request's label; file names and arguments, which may come from such text in a script), made
/// safe to show on a terminal or in a log. Every such byte reaches standard error or standard
/// output through this one function (`JSONOut` asks `marks` too), never raw: the value `get` and
/// `export` print is the only exception, because it is the data asked for.
///
/// What is marked, and why:
/// - control characters (Cc: U+0000–U+001F, U+007F–U+009F): ESC and the C1 CSI/OSC start
///   sequences that move the cursor, erase or rewrite earlier lines, retitle the window or write
///   the clipboard (OSC 52); CR and LF, which forge a new `vault: …` line; BEL;
/// - format characters (Cf): the bidirectional controls (U+061C, U+200E, U+200F, U+202A–U+202E,
///   U+2066–U+2069), which make text read in another order than it is stored; the zero-width
///   characters (U+200B–U+200D, U+2060, U+FEFF), the soft hyphen U+00AD, the invisible
///   operators U+2061–U+2064, the tag characters U+E0001–U+E007F, and every other Cf: two
///   labels that differ only by one of them look the same;
/// - every other Default_Ignorable_Code_Point (variation selectors U+FE00–U+FE0F and
///   U+E0100–U+E01EF, Hangul fillers U+115F, U+1160, U+3164, U+FFA0, the combining grapheme
///   joiner U+034F, Mongolian free variation selectors, …), which a terminal draws as nothing;
/// - the line and paragraph separators U+2028 and U+2029 (Zl, Zp), which some terminals and log
///   viewers break lines at.
/// The sets are Unicode's own properties as the Swift runtime knows them, so they follow its
/// Unicode version. The price: an emoji sequence joined with U+200D or followed by U+FE0F shows
/// as its parts with visible escapes. Visible look-alikes (Cyrillic "а" for Latin "a") are not
/// marked: they are letters; the integrator's `--as LABEL` and the hand-off request are the
/// defence there (SECURITY.md).
enum Escape {
    /// Whether `scalar` is shown as an escape rather than as itself.
    static func marks(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if v >= 0x20 && v < 0x7f { return false }   // printable ASCII, the common case
        if v < 0x20 || (0x7f...0x9f).contains(v) { return true }
        let p = scalar.properties
        switch p.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator: return true
        default: return p.isDefaultIgnorableCodePoint
        }
    }

    /// `text` with every marked character shown as `\u{…}` (`\n`, `\t`, `\r` for those); a
    /// backslash is doubled so that an escape cannot be forged.
    static func forTerminal(_ text: String) -> String { escape(text, doublingBackslashes: true) }

    /// Public input quoted for a message: escaped, in single quotes.
    static func quoted(_ text: String) -> String { "'" + forTerminal(text) + "'" }

    /// A whole message line assembled from parts that were escaped already, checked once more
    /// on its way out: anything still marked is escaped, a backslash is left alone (it is an
    /// escape made by `forTerminal`). A part a caller forgot to escape thus still cannot move
    /// the cursor or forge a line; `Console` runs every message through it.
    static func line(_ text: String) -> String {
        text.unicodeScalars.contains(where: marks) ? escape(text, doublingBackslashes: false) : text
    }

    private static func escape(_ text: String, doublingBackslashes: Bool) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x5c: out += doublingBackslashes ? "\\\\" : "\\"
            case 0x0a: out += "\\n"
            case 0x09: out += "\\t"
            case 0x0d: out += "\\r"
            default:
                if marks(scalar) { out += "\\u{" + String(scalar.value, radix: 16) + "}" } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}
