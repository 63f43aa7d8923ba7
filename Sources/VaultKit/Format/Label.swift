import Foundation  // only for Unicode normalization (NFC, NFKC): no I/O

/// Label forms (CLI.md, "Labels"). A label is stored as the sender or integrator wrote it, in
/// NFC. Two labels are the same label when their comparison keys are equal: so a label that
/// differs only by a zero-width space, a soft hyphen or a compatibility form (a full-width
/// letter, a ligature) clashes with the one already stored instead of being stored beside it
/// and listing the same (issue 8 item 11). Comparison stays case-sensitive.
public enum Label {
    /// The stored form: Unicode NFC.
    public static func normalized(_ label: String) -> String { label.precomposedStringWithCanonicalMapping }

    /// The comparison form: every default-ignorable code point (Unicode's
    /// Default_Ignorable_Code_Point property: zero-width spaces and joiners, soft hyphen,
    /// variation selectors, bidi controls, …) removed, then NFKC, then default-ignorable code
    /// points removed again (NFKC can produce none today; the second pass keeps the function
    /// idempotent whatever a later Unicode version does). The keystore's lookup key of a label
    /// is computed from this form (docs/KEYSTORE.md §2.4).
    public static func comparisonKey(_ label: String) -> String {
        stripIgnorable(stripIgnorable(label).precomposedStringWithCompatibilityMapping)
    }

    static func stripIgnorable(_ s: String) -> String {
        var scalars = String.UnicodeScalarView()
        for u in s.unicodeScalars where !u.properties.isDefaultIgnorableCodePoint { scalars.append(u) }
        return String(scalars)
    }
}
