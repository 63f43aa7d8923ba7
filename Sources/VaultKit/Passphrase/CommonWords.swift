#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The words attackers try first: the most used passwords of the public breach lists, and the
/// words people build passphrases from (seasons, months, days, places, the product's own
/// names), in English and Dutch. Short on purpose: it catches `password`, `Summer2024` and
/// `Welkom01`, which brute-force counting alone rated at 10^8 guesses; it is no dictionary, and a
/// passphrase of unrelated common words is still strong by its length (SECURITY.md).
enum CommonWords {
    /// Lower case, ASCII, 4 letters or more; most tried first, as attackers order them.
    static let list: [[UInt8]] = [
        "password", "passwort", "wachtwoord", "motdepasse", "contrasena", "letmein", "welcome",
        "welkom", "admin", "administrator", "login", "master", "secret", "geheim", "trustno",
        "iloveyou", "monkey", "dragon", "football", "baseball", "soccer", "voetbal", "hockey",
        "sunshine", "princess", "shadow", "superman", "batman", "starwars", "pokemon", "michael",
        "jennifer", "jordan", "hunter", "ranger", "buster", "thomas", "robert", "daniel", "jessica",
        "charlie", "andrew", "matthew", "joshua", "ashley", "amanda", "summer", "winter", "spring",
        "autumn", "zomer", "lente", "herfst", "freedom", "whatever", "computer", "internet",
        "access", "changeme", "change", "default", "guest", "test", "testing", "hello", "hallo",
        "flower", "cookie", "chocolate", "cheese", "coffee", "banana", "orange", "apple", "purple",
        "yellow", "silver", "golden", "diamond", "pepper", "ginger", "maggie", "bailey", "tigger",
        "lovely", "angel", "friends", "family", "london", "paris", "amsterdam", "rotterdam",
        "utrecht", "berlin", "madrid", "company", "business", "office", "exactonline", "exact",
        "vault", "keystore", "credentials", "integrator", "customer", "payroll", "january",
        "february", "march", "april", "june", "july", "august", "september", "october",
        "november", "december", "januari", "februari", "maart", "juni", "juli", "augustus",
        "oktober", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
        "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag", "love",
        "liefde", "money", "mother", "father", "lucky", "happy", "nothing", "pass", "qwerty",
        "azerty", "abc123",
    ].map { Array($0.utf8) }

    /// A character as it is compared: lower case, with the usual substitutions undone
    /// (`p@ssw0rd`, `$ecret`, `l3tm31n`), so that they are no cheaper to guess than the word.
    static func folded(_ c: UInt8) -> UInt8 {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): c + 0x20
        case UInt8(ascii: "@"), UInt8(ascii: "4"): UInt8(ascii: "a")
        case UInt8(ascii: "0"): UInt8(ascii: "o")
        case UInt8(ascii: "1"), UInt8(ascii: "!"): UInt8(ascii: "i")
        case UInt8(ascii: "3"): UInt8(ascii: "e")
        case UInt8(ascii: "$"), UInt8(ascii: "5"): UInt8(ascii: "s")
        case UInt8(ascii: "7"): UInt8(ascii: "t")
        default: c
        }
    }
}

extension MatchFinder {
    /// Every occurrence of a common word, compared in place character by character (no copy of
    /// the passphrase is made): guesses are the word's rank in the list, doubled when its case
    /// or a substitution differs from the plain word (zxcvbn's variations, roughly).
    func commonWords() -> [Match] {
        var out: [Match] = []
        let n = text.count
        for (rank, word) in CommonWords.list.enumerated() where word.count <= n {
            for i in 0...(n - word.count) {
                var plain = true, found = true
                for (k, w) in word.enumerated() {
                    guard let c = text.ascii(i + k) else { found = false; break }
                    // "1" folds to "i" for l33t; a word's own "l" also matches it.
                    let f = CommonWords.folded(c)
                    guard f == w || (c == UInt8(ascii: "1") && w == UInt8(ascii: "l")) else { found = false; break }
                    if c != w { plain = false }
                }
                guard found else { continue }
                let guesses = Double(rank + 1) * (plain ? 1 : 2)
                out.append(Match(start: i, end: i + word.count - 1, log10: max(log10(guesses), Self.floor(word.count)), kind: .common))
            }
        }
        return out
    }
}
