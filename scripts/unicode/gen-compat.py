#!/usr/bin/env python3
"""Generate vault's Unicode compatibility-decomposition table and its normalization vectors.

    python3 -m venv /tmp/ud && /tmp/ud/bin/pip install unicodedata2==17.0.1
    /tmp/ud/bin/python scripts/unicode/gen-compat.py          # rewrite both files
    /tmp/ud/bin/python scripts/unicode/gen-compat.py --check  # fail if either file is stale

Writes
- Sources/VaultKit/Format/CompatibilityDecompositions.swift: for every scalar whose full
  compatibility decomposition differs from its full canonical one, that full compatibility
  decomposition, computed here by applying the Decomposition_Mapping field of UnicodeData.txt
  (both kinds, recursively). Label.nfkc replaces each such scalar by it and lets the Swift
  standard library's NFC (String._nfcCodeUnits) do the rest: NFC of the full compatibility
  decomposition is NFKC (UAX #15: NFKC = compose(NFKD), and NFD of an NFKD string is itself).
  Also the three starters whose canonical decomposition begins with a non-starter (U+0F73,
  U+0F75, U+0F81), which the standard library's NFC leaves in the wrong order after a mark of a
  higher class; Label.nfc and Label.nfkc decompose them first.
- Tests/VaultKitTests/Vectors/unicode/normalization.txt: NFC and NFKC by Python's own
  normalizer (unicodedata2.normalize, not the table above) for every scalar alone and in nine
  two- and three-scalar patterns, listed only where the result is not the obvious one, and for
  random strings; LabelNormalizationTests compares vault's functions with every line.

The Unicode version must be the Swift standard library's (Swift 6.3: Unicode 17.0, the newest
`Unicode.Scalar.Properties.age`), so that the table and the standard library's NFC agree.
"""
import random
import sys
from pathlib import Path

import unicodedata2 as ud

UNICODE_VERSION = "17.0.0"
ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "Sources/VaultKit/Format/CompatibilityDecompositions.swift"
VECTORS = ROOT / "Tests/VaultKitTests/Vectors/unicode/normalization.txt"

if ud.unidata_version != UNICODE_VERSION:
    sys.exit(f"gen-compat.py: unicodedata2 has Unicode {ud.unidata_version}, want {UNICODE_VERSION} "
             f"(pip install unicodedata2==17.0.1)")


def scalars():
    for c in range(0x110000):
        if not 0xD800 <= c <= 0xDFFF:
            yield c


def mapping(c):
    """(is_compatibility, [scalars]) from the Decomposition_Mapping field, or None."""
    field = ud.decomposition(chr(c))
    if not field:
        return None
    parts = field.split()
    compat = parts[0].startswith("<")
    return compat, [int(p, 16) for p in (parts[1:] if compat else parts)]


def full(c, compat):
    """The full canonical (compat False) or compatibility (True) decomposition of c, unordered."""
    if 0xAC00 <= c <= 0xD7A3:  # Hangul syllables decompose by algorithm: canonical, never compat
        s = c - 0xAC00
        l, v, t = 0x1100 + s // 588, 0x1161 + (s % 588) // 28, 0x11A7 + s % 28
        return [l, v] + ([t] if t != 0x11A7 else [])
    m = mapping(c)
    if m is None or (m[0] and not compat):
        return [c]
    return [x for p in m[1] for x in full(p, compat)]


def ordered(seq):
    """Canonical ordering (a stable sort of each run of non-starters by combining class)."""
    out, run = [], []
    for c in seq + [None]:
        if c is not None and ud.combining(chr(c)):
            run.append(c)
            continue
        out += sorted(run, key=lambda x: ud.combining(chr(x)))
        run = []
        if c is not None:
            out.append(c)
    return out


def table():
    """(compatibility rows, canonical rows): (scalar, its full decomposition in canonical order)."""
    compat, canonical = [], []
    for c in scalars():
        kd, d = full(c, True), full(c, False)
        # A starter whose canonical decomposition begins with a non-starter (U+0F73, U+0F75,
        # U+0F81): the standard library's NFC does not move that non-starter before the marks
        # in front of it (0301 0F75 stays 0301 0F71 0F74, where UAX #15 gives 0F71 0F74 0301),
        # so vault decomposes these before it does. They are composition exclusions: their NFC
        # is their decomposition anyway.
        early = ud.combining(chr(c)) == 0 and ud.combining(chr(d[0])) != 0
        if kd == d and not early:
            continue
        # The table is derived from the raw mapping field; Python's normalizer is a cross-check.
        assert "".join(map(chr, ordered(kd))) == ud.normalize("NFKD", chr(c)), hex(c)
        compat.append((c, ordered(kd)))
        if early:
            assert "".join(map(chr, ordered(d))) == ud.normalize("NFC", chr(c)), hex(c)
            canonical.append((c, ordered(d)))
    return compat, canonical


def swift_table(compat, canonical):
    data, where = [], {}
    for c, d in compat + canonical:
        if tuple(d) not in where:
            assert len(d) < 256 and len(data) < 1 << 24
            where[tuple(d)] = len(data)
            data += d

    def index(rows):
        return [c << 32 | where[tuple(d)] << 8 | len(d) for c, d in rows]

    def lines(values, width, per_line):
        for i in range(0, len(values), per_line):
            yield "        " + " ".join(f"0x{v:0{width}X}," for v in values[i:i + per_line])

    return "\n".join([
        f"// Generated by scripts/unicode/gen-compat.py from the Unicode Character Database {UNICODE_VERSION}",
        "// (Python's unicodedata2 17.0.1): do not edit. Unicode 17.0 is the Swift 6.3 standard library's.",
        "",
        "extension Label {",
        "    /// What `Label.nfkc` hands the standard library's NFC in place of a scalar: every scalar",
        "    /// whose full compatibility decomposition differs from its full canonical one, and those of",
        f"    /// `canonicalIndex` ({len(compat)} scalars), with its full compatibility decomposition.",
        "    /// Sorted; each is `scalar << 32 | start << 8 | count`, where",
        "    /// `decompositionScalars[start ..< start + count]` is the decomposition (Decomposition_Mapping",
        "    /// applied recursively, both kinds, in canonical order).",
        "    static let compatibilityIndex: [UInt64] = [",
        *lines(index(compat), 16, 4),
        "    ]",
        "",
        "    /// What `Label.nfc` hands the standard library's NFC in place of a scalar: the starters",
        "    /// whose canonical decomposition begins with a non-starter, which the standard library",
        "    /// does not reorder (scripts/unicode/gen-compat.py), with that decomposition. Same layout.",
        "    static let canonicalIndex: [UInt64] = [",
        *lines(index(canonical), 16, 4),
        "    ]",
        "",
        "    /// The decompositions both indexes point into.",
        "    static let decompositionScalars: [UInt32] = [",
        *lines(data, 5, 8),
        "    ]",
        "}",
        "",
    ])


def hexes(s):
    return " ".join(f"{ord(ch):04X}" for ch in s)


# Patterns around every scalar X: composition with a following mark (the astral-base case
# Foundation got wrong), two marks in canonical order after it, Hangul LV + T (the other
# Foundation bug), kana voicing (also after a half-width kana's compatibility mapping), and X
# as the second scalar after a Latin base, a Hangul L, a Hangul LV syllable and the mark of the
# highest combining class (X's marks, also those of its decomposition, go before it).
PATTERNS = ["X", "X 0301", "X 0323 0301", "X 11A8", "X 3099", "0041 X", "1100 X", "AC00 X", "0345 X"]

# Random strings are drawn from these ranges: every kind of scalar normalization treats
# differently, plus plain text, unassigned code points and private use.
POOLS = [
    (0x20, 0x7E), (0xA0, 0x24F), (0x1E00, 0x1FFF), (0x0300, 0x036F), (0x0340, 0x0345),
    (0x0591, 0x05C7), (0x064B, 0x065F), (0x0958, 0x095F), (0x093C, 0x094D), (0x0F71, 0x0F84),
    (0x1DC0, 0x1DFF), (0x20D0, 0x20F0), (0x302A, 0x302F), (0x3099, 0x309A), (0x3040, 0x30FF),
    (0xFF61, 0xFF9F), (0xAC00, 0xD7A3), (0x1100, 0x1112), (0x1161, 0x1175), (0x11A8, 0x11C2),
    (0x1113, 0x11FF), (0xA960, 0xA97C), (0xD7B0, 0xD7FB), (0x3131, 0x318E), (0xFFA0, 0xFFDC),
    (0xFB00, 0xFB4F), (0x2460, 0x24FF), (0xFF01, 0xFF5E), (0x2070, 0x209F), (0x3300, 0x33FF),
    (0x2150, 0x218F), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF), (0x2000, 0x206F), (0x2100, 0x214F),
    (0xF900, 0xFAFF), (0x2F800, 0x2FA1D), (0x4E00, 0x4E40), (0x10000, 0x1004F), (0x1D400, 0x1D7FF),
    (0x1F100, 0x1F2FF), (0x11099, 0x110BA), (0x11100, 0x11134), (0x1D15E, 0x1D172), (0x1E8D0, 0x1E8D6),
    (0x105C0, 0x105F3), (0x11380, 0x113D3), (0x16100, 0x16139), (0x16D40, 0x16D79), (0x00AD, 0x00AD),
    (0x034F, 0x034F), (0x180B, 0x180F), (0xFE00, 0xFE0F), (0xE0000, 0xE007F), (0x115F, 0x1160),
    (0xE000, 0xE010), (0x0378, 0x0379), (0xE0080, 0xE00FF), (0xFDD0, 0xFDEF), (0x10FFF0, 0x10FFFF),
]


def random_strings(n, seed):
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        s = []
        for _ in range(rng.randint(1, 10)):
            lo, hi = rng.choice(POOLS)
            s.append(chr(rng.randint(lo, hi)))
        out.append("".join(s))
    return out


def vectors():
    yield f"# Generated by scripts/unicode/gen-compat.py with Python's unicodedata2 17.0.1 (Unicode {UNICODE_VERSION}): do not edit."
    yield "# NFC and NFKC by unicodedata2.normalize. A section [P] covers the pattern P with X replaced by"
    yield "# every scalar (surrogates excepted); only lines whose NFC or NFKC differs from the pattern with X"
    yield "# replaced by NFC(X) or NFKC(X) are listed: X ; NFC ; NFKC. [random] lines: input ; NFC ; NFKC."
    single = {}
    for pattern in PATTERNS:
        yield f"[{pattern}]"
        for c in scalars():
            x = chr(c)
            text = pattern.replace("X", f"{c:04X}")
            s = "".join(chr(int(h, 16)) for h in text.split())
            nfc, nfkc = ud.normalize("NFC", s), ud.normalize("NFKC", s)
            if pattern == "X":
                single[c] = (nfc, nfkc)
                if nfc != x or nfkc != x:
                    yield f"{c:04X};{hexes(nfc)};{hexes(nfkc)}"
                continue
            before, after = pattern.split("X")
            wrap = lambda y: "".join(chr(int(h, 16)) for h in before.split()) + y + "".join(chr(int(h, 16)) for h in after.split())
            if nfc != wrap(single[c][0]) or nfkc != wrap(single[c][1]):
                yield f"{c:04X};{hexes(nfc)};{hexes(nfkc)}"
    yield "[random]"
    for s in random_strings(3000, 17):
        yield f"{hexes(s)};{hexes(ud.normalize('NFC', s))};{hexes(ud.normalize('NFKC', s))}"


def main():
    outputs = {TABLE: swift_table(*table()), VECTORS: "\n".join(vectors()) + "\n"}
    if sys.argv[1:] == ["--check"]:
        stale = [str(p.relative_to(ROOT)) for p, text in outputs.items() if not p.exists() or p.read_text() != text]
        if stale:
            sys.exit("gen-compat.py: stale, run it again: " + ", ".join(stale))
        return
    for path, text in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)} ({len(text):,} bytes)")


if __name__ == "__main__":
    main()
