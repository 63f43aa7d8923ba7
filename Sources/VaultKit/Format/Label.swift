/// Label forms (CLI.md, "Labels"). A label is stored as the sender or integrator wrote it, in
/// NFC. Two labels are the same label when their comparison keys are equal: so a label that
/// differs only by a zero-width space, a soft hyphen or a compatibility form (a full-width
/// letter, a ligature) clashes with the one already stored instead of being stored beside it
/// and listing the same (issue 8 item 11). Comparison stays case-sensitive.
///
/// Unicode 17.0 throughout, the Swift 6.3 standard library's: its NFC and its
/// Default_Ignorable_Code_Point property, and the compatibility decompositions generated from
/// the same version (CompatibilityDecompositions.swift, scripts/unicode/gen-compat.py). No
/// Foundation: loading it (and ICU) cost every vault process milliseconds of start-up, and its
/// NFC was wrong for decomposed Hangul LV + T and for astral characters followed by a
/// combining mark (docs/PERFORMANCE.md, "Start-up").
public enum Label {
    /// The stored form: Unicode NFC.
    public static func normalized(_ label: String) -> String {
        isASCII(label) ? label : nfc(label)
    }

    /// The comparison form: every default-ignorable code point (Unicode's
    /// Default_Ignorable_Code_Point property: zero-width spaces and joiners, soft hyphen,
    /// variation selectors, bidi controls, …) removed, then NFKC, then default-ignorable code
    /// points removed again (in Unicode 17.0 only default-ignorable scalars, removed by the
    /// first pass, decompose to one; the second pass keeps the function idempotent whatever a
    /// later Unicode version does). The
    /// keystore's lookup key of a label is computed from this form (docs/KEYSTORE.md §2.4),
    /// so another implementation must compute exactly this, in Unicode 17.0.
    public static func comparisonKey(_ label: String) -> String {
        // ASCII has no default-ignorable code point and no decomposition: it is its own key.
        isASCII(label) ? label : stripIgnorable(nfkc(stripIgnorable(label)))
    }

    /// NFC, by the standard library (the normalization its String comparison uses), with the
    /// three starters whose canonical decomposition begins with a non-starter (U+0F73, U+0F75,
    /// U+0F81) decomposed first: the standard library does not move their first mark before a
    /// mark of a higher class in front of them (U+0301 U+0F75 stays 0301 0F71 0F74 where
    /// UAX #15 gives 0F71 0F74 0301). They are composition exclusions, so NFC is unchanged.
    static func nfc(_ s: String) -> String { standardNFC(substituted(s, canonicalIndex)) }

    /// NFKC: NFC of the text with every scalar replaced by its full compatibility
    /// decomposition. That is NFKC (UAX #15: NFKC composes NFKD; the canonical decomposition
    /// and ordering NFC does first complete the NFKD of the text).
    static func nfkc(_ s: String) -> String { standardNFC(substituted(s, compatibilityIndex)) }

    private static func standardNFC(_ s: String) -> String { String(decoding: s._nfcCodeUnits, as: UTF8.self) }

    /// `s` with every scalar that `index` lists replaced by its decomposition.
    private static func substituted(_ s: String, _ index: [UInt64]) -> String {
        guard s.unicodeScalars.contains(where: { decomposition($0, index) != nil }) else { return s }
        var scalars = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            guard let d = decomposition(u, index) else { scalars.append(u); continue }
            for v in d { if let x = Unicode.Scalar(v) { scalars.append(x) } }
        }
        return String(scalars)
    }

    /// The decomposition `index` (a generated table) gives `u`, by binary search, or nil.
    static func decomposition(_ u: Unicode.Scalar, _ index: [UInt64]) -> ArraySlice<UInt32>? {
        let key = UInt64(u.value)
        var lo = 0, hi = index.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if index[mid] >> 32 < key { lo = mid + 1 } else { hi = mid }
        }
        guard lo < index.count, index[lo] >> 32 == key else { return nil }
        let start = Int(truncatingIfNeeded: index[lo] >> 8 & 0xFF_FFFF), count = Int(truncatingIfNeeded: index[lo] & 0xFF)
        return decompositionScalars[start ..< start + count]
    }

    static func stripIgnorable(_ s: String) -> String {
        var scalars = String.UnicodeScalarView()
        for u in s.unicodeScalars where !u.properties.isDefaultIgnorableCodePoint { scalars.append(u) }
        return String(scalars)
    }

    private static func isASCII(_ s: String) -> Bool { s.utf8.allSatisfy { $0 < 0x80 } }
}
