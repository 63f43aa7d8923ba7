#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A dictionary-free estimate of how many guesses an attacker needs for a passphrase, in the
/// manner of Dropbox's zxcvbn: the passphrase is covered by the cheapest sequence of patterns —
/// repeats, sequences, keyboard paths, dates and years, and otherwise brute force at 10 guesses
/// per character — and the guesses of the patterns are multiplied, with a penalty for using
/// many of them. Only a short list of the most common passwords and words is known
/// (`CommonWords`), no dictionary: the estimate is an upper bound that catches the trivially
/// weak (short, repeated, sequential, keyboard, date or common-word passphrases), not a proof
/// of strength.
///
/// Pure: no I/O, no libsodium (Foundation only for log10); it reads the bytes in place (pass a `SecretBytes`' buffer) and
/// keeps no copy of them, only positions and numbers. Used by `vault init` and `vault passwd`,
/// and meant for any other place a passphrase is chosen.
public struct PassphraseStrength: Sendable, Equatable {
    /// A pattern that made the passphrase easier to guess.
    public enum Weakness: Sendable, Equatable, Hashable {
        /// Too few characters for brute force alone to take long.
        case short
        /// A character or a group repeated (`aaaa`, `abcabc`).
        case repeated
        /// Characters in order (`abcd`, `9876`, `aceg`).
        case sequence
        /// Neighbouring keys (`qwerty`, `1qaz`, `7896`).
        case keyboard
        /// A date or a year (`1987`, `14-05-1987`, `19870514`).
        case date
        /// One of the passwords or words attackers try first (`password`, `Summer`, `welkom`),
        /// also with capitals or substitutions (`P@ssw0rd`).
        case common
    }

    /// log10 of the estimated number of guesses.
    public let log10Guesses: Double
    /// The number of characters (Unicode scalars) looked at.
    public let characters: Int
    /// The patterns in the cheapest cover, most guessable first, each once.
    public let weaknesses: [Weakness]

    /// zxcvbn's scale: 0 (< 10^3 guesses), 1 (< 10^6), 2 (< 10^8), 3 (< 10^10), 4.
    public var score: Int {
        switch log10Guesses {
        case ..<3: 0
        case ..<6: 1
        case ..<8: 2
        case ..<10: 3
        default: 4
        }
    }

    /// The least score accepted for a passphrase that protects a keystore: 10^8 guesses, which
    /// at Argon2id's `moderate` cost (about 0.7 s per guess on one core) is years of work.
    public static let minimumScore = 3

    /// Whether the passphrase is below `minimumScore`.
    public var isWeak: Bool { score < Self.minimumScore }

    /// Only the first characters are analysed: beyond them a passphrase is long enough, and the
    /// estimate of a prefix is never more than that of the whole (so this errs towards weak).
    public static let analysedCharacters = 100

    /// Estimates `passphrase`.
    /// - Parameter referenceYear: the current year, for how guessable a year or date is.
    public static func estimate(_ passphrase: UnsafeRawBufferPointer, referenceYear: Int) -> PassphraseStrength {
        let text = Characters(passphrase, limit: analysedCharacters)
        guard text.count > 0 else { return PassphraseStrength(log10Guesses: 0, characters: 0, weaknesses: [.short]) }
        var finder = MatchFinder(text: text, referenceYear: referenceYear)
        let best = Cover.cheapest(text.count, matches: finder.all())
        var weaknesses = best.kinds.filter { $0 != .short }
        if best.kinds.contains(.short) && best.log10 < 8 { weaknesses.append(.short) }
        var seen = Set<Weakness>()
        weaknesses = weaknesses.filter { seen.insert($0).inserted }
        return PassphraseStrength(log10Guesses: best.log10, characters: text.count, weaknesses: weaknesses)
    }

    /// Estimates a passphrase held in secret memory, read in place.
    public static func estimate(_ passphrase: SecretBytes, referenceYear: Int) -> PassphraseStrength {
        passphrase.withUnsafeBytes { estimate($0, referenceYear: referenceYear) }
    }
}

/// The passphrase as characters, over the caller's bytes: each character is a UTF-8 sequence,
/// known by its start offset. ASCII characters take part in the patterns; others only in repeats
/// and brute force.
struct Characters {
    let bytes: UnsafeRawBufferPointer
    /// Start offset of each character, and one past the last.
    private(set) var starts: [Int] = []

    init(_ bytes: UnsafeRawBufferPointer, limit: Int) {
        self.bytes = bytes
        var i = 0
        while i < bytes.count && starts.count < limit {
            starts.append(i)
            i += 1
            while i < bytes.count && bytes[i] & 0xc0 == 0x80 { i += 1 }
        }
        starts.append(i)
    }

    var count: Int { starts.count - 1 }

    /// The character at `i` when it is ASCII.
    func ascii(_ i: Int) -> UInt8? { starts[i + 1] - starts[i] == 1 && bytes[starts[i]] < 0x80 ? bytes[starts[i]] : nil }

    /// Whether characters `i` and `j` are the same.
    func same(_ i: Int, _ j: Int) -> Bool {
        let a = starts[i]..<starts[i + 1], b = starts[j]..<starts[j + 1]
        return a.count == b.count && zip(a, b).allSatisfy { bytes[$0] == bytes[$1] }
    }
}

/// One pattern found over characters `start...end`.
struct Match {
    let start: Int
    let end: Int
    let log10: Double
    let kind: PassphraseStrength.Weakness
    var length: Int { end - start + 1 }
}

/// The cheapest cover of the whole passphrase by non-overlapping matches (zxcvbn's "most
/// guessable match sequence"): for each end position and number of matches, the least product
/// of guesses; the total for l matches is l! × product + 10000^(l−1), so that gluing many small
/// patterns together does not look cheaper than it is.
enum Cover {
    static func cheapest(_ n: Int, matches: [Match]) -> (log10: Double, kinds: [PassphraseStrength.Weakness]) {
        var byEnd = [[Match]](repeating: [], count: n)
        for m in matches { byEnd[m.end].append(m) }
        // best[k][l]: least log10 product covering 0...k with l matches, and how (for the kinds).
        var best = [[Int: (product: Double, last: Match, previous: Int)]](repeating: [:], count: n)
        for k in 0..<n {
            for m in byEnd[k] {
                if m.start == 0 {
                    update(&best[k], l: 1, product: m.log10, last: m)
                } else {
                    for (l, entry) in best[m.start - 1] {
                        update(&best[k], l: l + 1, product: entry.product + m.log10, last: m)
                    }
                }
            }
        }
        var choice: (total: Double, l: Int) = (.infinity, 0)
        for (l, entry) in best[n - 1] {
            let total = log10Sum(logFactorial(l) + entry.product, 4 * Double(l - 1))
            if total < choice.total { choice = (total, l) }
        }
        var kinds: [PassphraseStrength.Weakness] = []
        var k = n - 1, l = choice.l
        while l > 0, let entry = best[k][l] {
            kinds.append(entry.last.kind)
            k = entry.last.start - 1
            l -= 1
        }
        // Most guessable first: patterns before plain brute force.
        return (choice.total, kinds.sorted { ($0 == .short ? 1 : 0) < ($1 == .short ? 1 : 0) })
    }

    private static func update(_ slot: inout [Int: (product: Double, last: Match, previous: Int)], l: Int, product: Double, last: Match) {
        if let old = slot[l], old.product <= product { return }
        slot[l] = (product, last, l - 1)
    }

    static func logFactorial(_ n: Int) -> Double { n < 2 ? 0 : (2...n).reduce(0.0) { $0 + log10(Double($1)) } }

    /// log10(10^a + 10^b).
    static func log10Sum(_ a: Double, _ b: Double) -> Double {
        let hi = max(a, b), lo = min(a, b)
        return hi + log10(1 + pow(10, lo - hi))
    }
}
