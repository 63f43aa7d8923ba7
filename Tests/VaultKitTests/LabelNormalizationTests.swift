import Foundation
import XCTest
@testable import VaultKit

/// Label.nfc, Label.nfkc and Label.comparisonKey against an independent implementation:
/// Python's unicodedata normalizer, through the vectors scripts/unicode/gen-compat.py wrote
/// with unicodedata2 17.0.1 (Tests/VaultKitTests/Vectors/unicode/normalization.txt: every
/// scalar, alone and in eight patterns, and random strings) and, live, this machine's python3
/// on random strings of the scalars its Unicode version has.
final class LabelNormalizationTests: XCTestCase {
    /// One section of the vector file: a pattern around X and the listed exceptions.
    struct Section {
        var pattern: [String]
        var lines: [UInt32: (nfc: String, nfkc: String)] = [:]
    }

    static func scalars(_ hex: Substring) -> String {
        var view = String.UnicodeScalarView()
        for h in hex.split(separator: " ") { view.append(Unicode.Scalar(UInt32(h, radix: 16)!)!) }
        return String(view)
    }

    static func hexes(_ s: String) -> String {
        s.unicodeScalars.map { String($0.value, radix: 16, uppercase: true).leftPadded(4) }.joined(separator: " ")
    }

    static func vectors() throws -> (sections: [Section], random: [(String, String, String)]) {
        let url = TestData.vectors.appendingPathComponent("unicode/normalization.txt")
        let text = try String(contentsOf: url, encoding: .utf8)
        var sections: [Section] = [], random: [(String, String, String)] = [], inRandom = false
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            if line.hasPrefix("[") {
                let name = line.dropFirst().dropLast()
                inRandom = name == "random"
                if !inRandom { sections.append(Section(pattern: name.split(separator: " ").map(String.init))) }
                continue
            }
            let parts = line.split(separator: ";", omittingEmptySubsequences: false)
            XCTAssertEqual(parts.count, 3, String(line))
            if inRandom {
                random.append((scalars(parts[0]), scalars(parts[1]), scalars(parts[2])))
            } else {
                sections[sections.count - 1].lines[UInt32(parts[0], radix: 16)!] = (scalars(parts[1]), scalars(parts[2]))
            }
        }
        return (sections, random)
    }

    /// Every scalar (surrogates excepted) alone, and every assigned one in each pattern: NFC and
    /// NFKC as Python's.
    func testEveryScalarInEveryPatternMatchesPython() throws {
        let (sections, _) = try Self.vectors()
        XCTAssertEqual(sections.map { $0.pattern.joined(separator: " ") },
                       ["X", "X 0301", "X 0323 0301", "X 11A8", "X 3099", "0041 X", "1100 X", "AC00 X", "0345 X"])
        let single = try XCTUnwrap(sections.first)
        var failures: [String] = []
        for section in sections {
            let parts = section.pattern.map { $0 == "X" ? nil : Self.scalars(Substring($0)) }
            for v in UInt32(0) ... 0x10FFFF {
                guard let u = Unicode.Scalar(v) else { continue }
                // A scalar no Unicode version has assigned yet is checked alone: in a pattern it
                // can only stay as it is, and there are 800,000 of them.
                if section.pattern != ["X"] && u.properties.age == nil { continue }
                let x = String(u)
                let s = parts.map { $0 ?? x }.joined()
                let alone = single.lines[v] ?? (x, x)
                let expected = section.lines[v] ?? (parts.map { $0 ?? alone.nfc }.joined(), parts.map { $0 ?? alone.nfkc }.joined())
                let nfc = Label.nfc(s), nfkc = Label.nfkc(s)
                // Scalar by scalar: String's == is canonical equivalence, which would call
                // 0345 0F71 0F74 and 0F71 0F74 0345 equal.
                if !nfc.unicodeScalars.elementsEqual(expected.nfc.unicodeScalars)
                    || !nfkc.unicodeScalars.elementsEqual(expected.nfkc.unicodeScalars), failures.count < 20 {
                    failures.append("[\(section.pattern.joined(separator: " "))] X=\(Self.hexes(x)): NFC \(Self.hexes(nfc)) (Python \(Self.hexes(expected.nfc))), NFKC \(Self.hexes(nfkc)) (Python \(Self.hexes(expected.nfkc)))")
                }
            }
        }
        XCTAssertEqual(failures, [])
    }

    /// The vector file's random strings (every kind of scalar, every Unicode age).
    func testRandomStringsMatchPython() throws {
        let (_, random) = try Self.vectors()
        XCTAssertEqual(random.count, 3000)
        for (s, nfc, nfkc) in random {
            XCTAssertEqual(Self.hexes(Label.nfc(s)), Self.hexes(nfc), Self.hexes(s))
            XCTAssertEqual(Self.hexes(Label.nfkc(s)), Self.hexes(nfkc), Self.hexes(s))
            XCTAssertEqual(Self.hexes(Label.normalized(s)), Self.hexes(nfc))
            let key = Label.comparisonKey(s)
            XCTAssertEqual(Self.hexes(Label.comparisonKey(key)), Self.hexes(key), "idempotent: \(Self.hexes(s))")
            XCTAssertFalse(key.unicodeScalars.contains { $0.properties.isDefaultIgnorableCodePoint }, Self.hexes(s))
        }
    }

    /// 20,000 more random strings, checked live by this machine's python3 (unicodedata2 when
    /// installed, else the standard unicodedata): only scalars its Unicode version has, or that
    /// no version has, since normalization is stable for assigned characters (UAX #15, §3).
    func testRandomStringsMatchThisMachinesPython() throws {
        let script = """
        import sys
        try:
            import unicodedata2 as ud
        except ImportError:
            import unicodedata as ud
        print(ud.unidata_version, flush=True)
        h = lambda s: " ".join("%04X" % ord(c) for c in s)
        for line in sys.stdin:
            s = "".join(chr(int(x, 16)) for x in line.split())
            print(h(ud.normalize("NFC", s)) + ";" + h(ud.normalize("NFKC", s)))
        """
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c", script]
        let input = Pipe(), output = Pipe()
        python.standardInput = input
        python.standardOutput = output
        do { try python.run() } catch { throw XCTSkip("no python3 on this machine: \(error)") }
        let reader = output.fileHandleForReading
        var pending = Data()
        func readLine() -> String? {
            while true {
                if let nl = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[pending.startIndex ..< nl], as: UTF8.self)
                    pending = Data(pending[(nl + 1)...])
                    return line
                }
                let chunk = reader.availableData
                if chunk.isEmpty { return nil }
                pending += chunk
            }
        }
        let version = try XCTUnwrap(readLine()).split(separator: ".").compactMap { Int($0) }
        let pythonVersion = (version[0], version.count > 1 ? version[1] : 0)
        var rng = SplitMix64(seed: 0x7661_756C_7400_0011)
        var strings: [String] = []
        while strings.count < 20_000 {
            var view = String.UnicodeScalarView()
            for _ in 0 ..< Int(rng.next() % 10) + 1 {
                let (lo, hi) = Self.pools[Int(rng.next() % UInt64(Self.pools.count))]
                guard let u = Unicode.Scalar(lo + UInt32(rng.next() % UInt64(hi - lo + 1))) else { continue }
                if let age = u.properties.age, (age.major, age.minor) > pythonVersion { continue }
                view.append(u)
            }
            if !view.isEmpty { strings.append(String(view)) }
        }
        // Written from another thread: python answers line by line, and a full pipe in either
        // direction would stop both.
        let writer = input.fileHandleForWriting
        let text = Data(strings.map { Self.hexes($0) + "\n" }.joined().utf8)
        let feeding = Thread { writer.write(text); try? writer.close() }
        feeding.start()
        var failures: [String] = []
        for s in strings {
            let line = try XCTUnwrap(readLine(), "python3 stopped")
            let want = line.split(separator: ";", omittingEmptySubsequences: false)
            let got = Self.hexes(Label.nfc(s)) + ";" + Self.hexes(Label.nfkc(s))
            if got != line, failures.count < 20 { failures.append("\(Self.hexes(s)): \(got), Python (\(version)) \(want.joined(separator: ";"))") }
        }
        python.waitUntilExit()
        XCTAssertEqual(python.terminationStatus, 0)
        XCTAssertEqual(failures, [])
    }

    /// The generated table: sorted, every value a scalar, none default-ignorable but what
    /// default-ignorable scalars decompose to (so the comparison form's second removal removes
    /// nothing in Unicode 17.0), and of the Unicode
    /// version of the standard library that supplies NFC and the ignorable property: when a
    /// toolchain moves to another version, this fails until the table is generated again for it.
    func testTheTableIsOfTheStandardLibrarysUnicodeVersion() {
        var newest = (0, 0)
        for v in UInt32(0) ... 0x10FFFF {
            guard let age = Unicode.Scalar(v)?.properties.age else { continue }
            if (age.major, age.minor) > newest { newest = (age.major, age.minor) }
        }
        XCTAssertTrue(newest == (17, 0), "the standard library has Unicode \(newest): run scripts/unicode/gen-compat.py for it")
        let keys = Label.compatibilityIndex.map { $0 >> 32 }
        XCTAssertEqual(keys, keys.sorted())
        XCTAssertEqual(Set(keys).count, keys.count)
        XCTAssertEqual(keys.count, 3852)
        XCTAssertEqual(Label.canonicalIndex.map { $0 >> 32 }, [0xF73, 0xF75, 0xF81])
        for v in Label.decompositionScalars { XCTAssertNotNil(Unicode.Scalar(v), String(v, radix: 16)) }
        // Only the Hangul fillers U+3164 and U+FFA0, default-ignorable themselves (so removed
        // before NFKC), decompose to one (U+1160).
        var ignorableFrom: [UInt32] = []
        for entry in Label.compatibilityIndex {
            let u = Unicode.Scalar(UInt32(entry >> 32))!
            let d = Label.decomposition(u, Label.compatibilityIndex)!
            if d.contains(where: { Unicode.Scalar($0)!.properties.isDefaultIgnorableCodePoint }) {
                XCTAssertTrue(u.properties.isDefaultIgnorableCodePoint, String(u.value, radix: 16))
                ignorableFrom.append(u.value)
            }
        }
        XCTAssertEqual(ignorableFrom, [0x3164, 0xFFA0])
        XCTAssertNil(Label.decomposition("A", Label.compatibilityIndex))
        XCTAssertEqual(Label.decomposition("\u{FB01}", Label.compatibilityIndex).map(Array.init), [0x66, 0x69])
        // Canonical, then compatibility: U+017F U+0307, then U+017F to s.
        XCTAssertEqual(Label.decomposition("\u{1E9B}", Label.compatibilityIndex).map(Array.init), [0x73, 0x307])
        XCTAssertNil(Label.decomposition("\u{FB01}", Label.canonicalIndex))
    }

    /// The comparison form on the cases a person meets.
    func testComparisonForms() {
        for (label, key) in [
            ("\u{FB01}le", "file"), ("\u{2460}", "1"), ("\u{FF21}\u{FF43}\u{FF4D}\u{FF45} BV", "Acme BV"),
            ("\u{338F}", "kg"), ("\u{00BD}", "1\u{2044}2"), ("Acme\u{00A0}BV", "Acme BV"),
            ("\u{1100}\u{1161}\u{11A8}", "\u{AC01}"),          // decomposed Hangul LV + T: one syllable
            ("\u{10045}\u{0300}", "\u{10045}\u{0300}"),         // an astral character keeps its mark
            ("\u{FF76}\u{FF9E}", "\u{30AC}"),                   // half-width ka and voiced mark: ga
            ("A\u{200B}c\u{00AD}m\u{FE0F}e\u{2060}", "Acme"),   // default-ignorable code points
            ("\u{1E9B}\u{0323}", "\u{1E69}"),                   // long s with dot above and below
            ("\u{0F40}\u{0301}\u{0F75}", "\u{0F40}\u{0F71}\u{0F74}\u{0301}"),  // a mark of class 230 goes after U+0F75's
        ] {
            XCTAssertEqual(Self.hexes(Label.comparisonKey(label)), Self.hexes(key), Self.hexes(label))
        }
        XCTAssertEqual(Self.hexes(Label.normalized("\u{1100}\u{1161}\u{11A8}")), "AC01")
        XCTAssertEqual(Self.hexes(Label.normalized("\u{10045}\u{0300}")), "10045 0300")
        XCTAssertEqual(Self.hexes(Label.normalized("\u{FB01}")), "FB01")  // the stored form keeps the ligature
        XCTAssertEqual(Self.hexes(Label.normalized("\u{0301}\u{0F75}")), "0F71 0F74 0301")
    }

    /// The ranges both this test and scripts/unicode/gen-compat.py draw random strings from.
    static let pools: [(UInt32, UInt32)] = [
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
}

/// A small seeded generator: the same strings on every run.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
