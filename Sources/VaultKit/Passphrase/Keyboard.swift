#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A keyboard as a graph of neighbouring keys, for keyboard paths (`qwerty`, `1qaz`, `7896`).
/// Keys are placed by their physical position; two keys are neighbours when they touch.
struct Keyboard: Sendable {
    /// Each character's key: row, column (in quarter keys) and whether it is the shifted one.
    private let keys: [UInt8: (row: Int, x: Int, shifted: Bool)]
    /// Whether keys are staggered (a typewriter layout) or in a grid (a keypad).
    private let staggered: Bool
    /// log10 of the starting positions (characters) and the average number of neighbours.
    private let startingPositions: Double
    private let averageDegree: Double

    /// Rows of (unshifted, shifted) characters, each row's offset in quarter keys.
    private init(rows: [(String, String, Int)], staggered: Bool) {
        var keys: [UInt8: (Int, Int, Bool)] = [:]
        for (r, (plain, shifted, offset)) in rows.enumerated() {
            for (c, (p, s)) in zip(plain.utf8, shifted.utf8).enumerated() {
                keys[p] = (r, offset + 4 * c, false)
                if s != p { keys[s] = (r, offset + 4 * c, true) }
            }
        }
        self.keys = keys
        self.staggered = staggered
        let plainKeys = keys.filter { !$0.value.2 }
        startingPositions = Double(keys.count)
        var degrees = 0
        for (a, ka) in plainKeys {
            degrees += plainKeys.filter { b, kb in b != a && Self.touch(ka, kb, staggered: staggered) }.count
        }
        averageDegree = Double(degrees) / Double(max(plainKeys.count, 1))
    }

    /// US QWERTY, the layout most keyboards in the regions vault serves share for letters.
    static let qwerty = Keyboard(rows: [
        ("`1234567890-=", "~!@#$%^&*()_+", 0),
        ("qwertyuiop[]\\", "QWERTYUIOP{}|", 6),
        ("asdfghjkl;'", "ASDFGHJKL:\"", 7),
        ("zxcvbnm,./", "ZXCVBNM<>?", 9),
    ], staggered: true)

    /// A numeric keypad: 7 8 9 / 4 5 6 / 1 2 3 / 0.
    static let keypad = Keyboard(rows: [("/*-", "/*-", 4), ("789", "789", 0), ("456", "456", 0), ("123", "123", 0), ("0.", "0.", 0)],
                                 staggered: false)

    func key(_ c: UInt8) -> (row: Int, x: Int, shifted: Bool)? { keys[c].map { (row: $0.0, x: $0.1, shifted: $0.2) } }

    func isShifted(_ c: UInt8) -> Bool { keys[c]?.2 ?? false }

    private static func touch(_ a: (Int, Int, Bool), _ b: (Int, Int, Bool), staggered: Bool) -> Bool {
        let dr = abs(a.0 - b.0), dx = abs(a.1 - b.1)
        if dr == 0 { return dx == 4 }
        guard dr == 1 else { return false }
        // Staggered rows touch when less than a key apart; a grid also touches diagonally.
        return staggered ? dx < 4 : dx <= 4
    }

    /// The direction of the step from `a` to `b` (one number per neighbour position), or nil
    /// when they are not neighbours (the same key is not a step).
    func direction(from a: UInt8, to b: UInt8) -> Int? {
        guard let ka = keys[a], let kb = keys[b], Self.touch(ka, kb, staggered: staggered) else { return nil }
        return (kb.0 - ka.0 + 1) * 100 + (kb.1 - ka.1 + 8)
    }

    /// zxcvbn's estimate for a path of `length` keys with `turns` changes of direction and
    /// `shifted` shifted keys: the paths up to that length and those turns, from every start.
    func log10Guesses(length: Int, turns: Int, shifted: Int) -> Double {
        var guesses = 0.0
        for i in 2...max(2, length) {
            for j in 1...max(1, min(turns, i - 1)) {
                guesses += binomial(i - 1, j - 1) * startingPositions * pow(averageDegree, Double(j))
            }
        }
        let unshifted = length - shifted
        if shifted > 0 {
            if unshifted == 0 { guesses *= 2 } else {
                guesses *= (1...min(shifted, unshifted)).reduce(0.0) { $0 + binomial(shifted + unshifted, $1) }
            }
        }
        return log10(max(guesses, 1))
    }

    private func binomial(_ n: Int, _ k: Int) -> Double {
        guard k >= 0, k <= n else { return 0 }
        var r = 1.0
        for i in 0..<k { r = r * Double(n - i) / Double(i + 1) }
        return r
    }
}
