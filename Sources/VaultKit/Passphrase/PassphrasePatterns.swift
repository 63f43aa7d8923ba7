#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds every pattern of `PassphraseStrength` in a passphrase: brute force over every span,
/// repeats, sequences, keyboard paths and dates. Guesses follow zxcvbn's published estimates
/// (no code of it is used): a pattern is cheaper than brute force when an attacker who tries
/// such patterns first would reach it sooner.
struct MatchFinder {
    let text: Characters
    let referenceYear: Int
    /// Estimates of substrings (start, length) for the bases of repeats.
    private var memo: [Int: Double] = [:]

    /// Guesses below which zxcvbn does not rate a single pattern: 10 for one character, 50 for more.
    static func floor(_ length: Int) -> Double { length == 1 ? 1 : log10(50) }

    init(text: Characters, referenceYear: Int) {
        self.text = text
        self.referenceYear = referenceYear
    }

    mutating func all() -> [Match] {
        var out = bruteForce()
        out += repeats()
        out += sequences()
        out += keyboard(Keyboard.qwerty) + keyboard(Keyboard.keypad)
        out += dates()
        out += commonWords()
        return out
    }

    /// Every span at 10 guesses per character.
    func bruteForce() -> [Match] {
        var out: [Match] = []
        for i in 0..<text.count {
            for j in i..<text.count {
                out.append(Match(start: i, end: j, log10: max(Double(j - i + 1), Self.floor(j - i + 1) + 0.01), kind: .short))
            }
        }
        return out
    }

    /// A group of `p` characters repeated `k` ≥ 2 times: the group's own estimate × k.
    mutating func repeats() -> [Match] {
        var out: [Match] = []
        let n = text.count
        for i in 0..<n {
            var p = 1
            while i + 2 * p <= n {
                var k = 1
                while i + (k + 1) * p <= n && (0..<p).allSatisfy({ text.same(i + $0, i + k * p + $0) }) { k += 1 }
                if k >= 2 {
                    let base = estimate(start: i, length: p)
                    out.append(Match(start: i, end: i + k * p - 1, log10: max(base + log10(Double(k)), Self.floor(k * p)),
                                     kind: .repeated))
                }
                p += 1
            }
        }
        return out
    }

    /// The estimate of a substring on its own (for a repeat's group); long groups count as
    /// brute force, which keeps this quadratic.
    private mutating func estimate(start: Int, length: Int) -> Double {
        let key = start * 1024 + length
        if let v = memo[key] { return v }
        var v = Double(length)
        if length <= 12 {
            let sub = Characters(UnsafeRawBufferPointer(rebasing: text.bytes[text.starts[start]..<text.starts[start + length]]),
                                 limit: length)
            let finder = MatchFinder(text: sub, referenceYear: referenceYear)
            var matches = finder.bruteForce() + finder.sequences() + finder.keyboard(Keyboard.qwerty) + finder.keyboard(Keyboard.keypad)
            matches += finder.dates()
            v = Cover.cheapest(length, matches: matches).log10
        }
        memo[key] = v
        return v
    }

    /// Runs of three or more letters of one case, or digits, with a constant step of 1 to 5.
    func sequences() -> [Match] {
        var out: [Match] = []
        let n = text.count
        var i = 0
        while i + 2 < n {
            guard let a = text.ascii(i), let b = text.ascii(i + 1), let cls = Self.sequenceClass(a), Self.sequenceClass(b) == cls else { i += 1; continue }
            let step = Int(b) - Int(a)
            guard step != 0, abs(step) <= 5 else { i += 1; continue }
            var j = i + 1
            while j + 1 < n, let c = text.ascii(j + 1), Self.sequenceClass(c) == cls, Int(c) - Int(text.ascii(j)!) == step { j += 1 }
            if j - i + 1 >= 3 {
                let first = a
                var base: Double = "aAzZ019".utf8.contains(first) ? 4 : (cls == 2 ? 10 : 26)
                if step < 0 { base *= 2 }
                out.append(Match(start: i, end: j, log10: max(log10(base * Double(j - i + 1)), Self.floor(j - i + 1)),
                                 kind: .sequence))
                i = j
            } else {
                i += 1
            }
        }
        return out
    }

    /// 0 lower case, 1 upper case, 2 digits.
    static func sequenceClass(_ c: UInt8) -> Int? {
        switch c {
        case 0x61...0x7a: 0
        case 0x41...0x5a: 1
        case 0x30...0x39: 2
        default: nil
        }
    }

    /// Paths of three or more neighbouring keys on `board`.
    func keyboard(_ board: Keyboard) -> [Match] {
        var out: [Match] = []
        let n = text.count
        var i = 0
        while i + 2 < n {
            guard let first = text.ascii(i), board.key(first) != nil else { i += 1; continue }
            var turns = 0, shifted = board.isShifted(first) ? 1 : 0
            var lastDirection: Int?
            var j = i
            while j + 1 < n, let a = text.ascii(j), let b = text.ascii(j + 1), let direction = board.direction(from: a, to: b) {
                if direction != lastDirection { turns += 1; lastDirection = direction }
                if board.isShifted(b) { shifted += 1 }
                j += 1
            }
            if j - i + 1 >= 3 {
                out.append(Match(start: i, end: j, log10: max(board.log10Guesses(length: j - i + 1, turns: turns, shifted: shifted),
                                                              Self.floor(j - i + 1)), kind: .keyboard))
                i = j
            } else {
                i += 1
            }
        }
        return out
    }

    /// Years 1900–2099, and dates of day, month and year in any order, with or without one
    /// kind of separator: 4 to 10 characters of digits (and separators) read as a date.
    func dates() -> [Match] {
        var out: [Match] = []
        let n = text.count
        for i in 0..<n {
            for length in 4...10 where i + length <= n {
                guard let value = dateGuesses(i, length) else { continue }
                out.append(Match(start: i, end: i + length - 1, log10: max(log10(value), Self.floor(length)), kind: .date))
            }
        }
        return out
    }

    /// The guesses of characters i..<i+length as a year or date, or nil when they are neither.
    /// Reads the characters in place: no copy of the passphrase is made.
    private func dateGuesses(_ i: Int, _ length: Int) -> Double? {
        for k in i..<(i + length) where text.ascii(k) == nil { return nil }
        func c(_ k: Int) -> UInt8 { text.ascii(i + k)! }
        func isDigit(_ k: Int) -> Bool { c(k) >= 0x30 && c(k) <= 0x39 }
        func number(_ r: Range<Int>) -> Int { r.reduce(0) { $0 * 10 + Int(c($1) - 0x30) } }
        func yearSpace(_ y: Int) -> Double { max(Double(abs(y - referenceYear)), 20) }
        if (0..<length).allSatisfy(isDigit) {
            if length == 4, (1900...2099).contains(number(0..<4)) { return yearSpace(number(0..<4)) }
            guard length <= 8 else { return nil }
            // Every split into three numbers.
            var best: Double?
            for a in 1..<length {
                for b in (a + 1)..<length {
                    if let y = dateYear(number(0..<a), number(a..<b), number(b..<length), digits: [a, b - a, length - b]) {
                        let g = yearSpace(y) * 365
                        best = min(best ?? g, g)
                    }
                }
            }
            return best
        }
        // With separators: N sep N sep N, the same separator twice.
        let separators = Array(" /\\_.-,".utf8)
        let seps = (0..<length).filter { !isDigit($0) }
        guard seps.count == 2, separators.contains(c(seps[0])), c(seps[0]) == c(seps[1]),
              seps[0] > 0, seps[1] > seps[0] + 1, seps[1] < length - 1 else { return nil }
        let parts = [0..<seps[0], (seps[0] + 1)..<seps[1], (seps[1] + 1)..<length]
        guard parts.allSatisfy({ $0.count <= 4 }),
              let y = dateYear(number(parts[0]), number(parts[1]), number(parts[2]), digits: parts.map(\.count)) else { return nil }
        return yearSpace(y) * 365 * 4
    }

    /// The year of three numbers read as a date (day, month and year in one of the usual
    /// orders), or nil when they cannot be one.
    private func dateYear(_ a: Int, _ b: Int, _ c: Int, digits: [Int]) -> Int? {
        func year(_ v: Int, _ d: Int) -> Int? {
            if d == 4 { return (1000...2050).contains(v) ? v : nil }
            if d == 2 || d == 1 { return v > 50 ? 1900 + v : 2000 + v }
            return nil
        }
        func dayMonth(_ x: Int, _ y: Int) -> Bool { (1...31).contains(x) && (1...12).contains(y) || (1...12).contains(x) && (1...31).contains(y) }
        if digits[2] == 4 || digits[2] == 2, dayMonth(a, b), digits[0] <= 2, digits[1] <= 2, let y = year(c, digits[2]) { return y }
        if digits[0] == 4 || digits[0] == 2, dayMonth(b, c), digits[1] <= 2, digits[2] <= 2, let y = year(a, digits[0]) { return y }
        return nil
    }
}
