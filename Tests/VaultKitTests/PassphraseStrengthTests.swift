import XCTest
@testable import VaultKit

/// The dictionary-free passphrase estimate: the trivially weak are weak, for the right reason,
/// and long or varied passphrases are not.
final class PassphraseStrengthTests: XCTestCase {
    func estimate(_ s: String) -> PassphraseStrength {
        Array(s.utf8).withUnsafeBytes { PassphraseStrength.estimate($0, referenceYear: 2026) }
    }

    func testTriviallyWeakPassphrasesAreWeakAndSayWhy() {
        let cases: [(String, PassphraseStrength.Weakness)] = [
            ("a", .short), ("x7#", .short), ("Zq8!kP2", .short),
            ("aaaaaaaaaaaaaaaa", .repeated), ("abcabcabcabcabc", .repeated), ("passpasspasspass", .repeated),
            ("abcdefghijklmn", .sequence), ("9876543210", .sequence), ("ACEGIKMOQS", .sequence),
            ("qwertyuiop", .keyboard), ("zxcvbnm,./", .keyboard), ("1qazxsw2", .keyboard), ("QWERTYUIOP", .keyboard),
            ("asdfghjkl;", .keyboard), ("78963214", .keyboard),
            ("19870514", .date), ("14-05-1987", .date), ("1987/5/14", .date), ("2024", .date),
        ]
        for (p, why) in cases {
            let e = estimate(p)
            XCTAssertTrue(e.isWeak, "\(p): \(e)")
            XCTAssertTrue(e.weaknesses.contains(why), "\(p): \(e.weaknesses), expected \(why)")
        }
        XCTAssertEqual(estimate("a").score, 0)
        XCTAssertEqual(estimate("").score, 0)
    }

    /// Brute-force counting alone rated these at 10^8 guesses or more, and they passed: they are
    /// the first an attacker tries (`CommonWords`), with capitals, substitutions and a year.
    func testCommonPasswordsAreWeakWhateverTheirCapitalsAndSubstitutions() {
        for p in ["password", "Password", "P@ssw0rd!", "Summer2024", "Welkom01", "letmein123", "hunter2",
                  "Exact2026!", "wachtwoord", "Amsterdam1", "l3tm31n!"] {
            let e = estimate(p)
            XCTAssertTrue(e.isWeak, "\(p): \(e)")
            XCTAssertTrue(e.weaknesses.contains(.common), "\(p): \(e.weaknesses)")
        }
        // A capital or a substitution is a variation an attacker tries too, not free strength.
        XCTAssertLessThan(estimate("P@ssw0rd").log10Guesses, 2)
        XCTAssertLessThanOrEqual(estimate("password").log10Guesses, estimate("P@ssw0rd").log10Guesses)
        // Several common words, unrelated and long enough, are still a strong passphrase.
        XCTAssertFalse(estimate("summer coffee banana friday").isWeak)
    }

    func testVariedOrLongPassphrasesAreNotWeak() {
        for p in ["correct horse battery staple", "a passphrase for the matrix", "kT9#xQ2!mZ", "tr0ub4dor and three",
                  "new correct horse battery staple", "Wh00kS3cretX-plus", "gëheim wachtwoord van Jan", "0r4nge-K4t-B1ke"] {
            let e = estimate(p)
            XCTAssertFalse(e.isWeak, "\(p): \(e)")
        }
        XCTAssertEqual(estimate("correct horse battery staple").score, 4)
    }

    func testPatternsMakeAPassphraseWeakerThanBruteForce() {
        XCTAssertLessThan(estimate("qwertyuiopas").log10Guesses, estimate("qkeyoirmzpxa").log10Guesses)
        XCTAssertLessThan(estimate("abcdefghijkl").log10Guesses, estimate("akdhfjslrmwb").log10Guesses)
        XCTAssertLessThan(estimate("200001019999").log10Guesses, 12)
        // A longer version of the same pattern is still weak: repeats count the group once.
        XCTAssertTrue(estimate(String(repeating: "ab", count: 500)).isWeak)
    }

    func testOnlyTheFirstCharactersAreAnalysedAndItStaysFast() {
        let long = String(repeating: "x", count: 4096)
        let e = estimate(long)
        XCTAssertEqual(e.characters, PassphraseStrength.analysedCharacters)
        XCTAssertTrue(e.isWeak)
        var random = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!@#$%^&*()-_=+ ")
        let noise = String((0..<4096).map { _ in alphabet.randomElement(using: &random)! })
        XCTAssertFalse(estimate(noise).isWeak)
    }

    func testMultiByteCharactersAreOneCharacterEach() {
        XCTAssertEqual(estimate("éééééééééééé").characters, 12)
        XCTAssertTrue(estimate("éééééééééééé").weaknesses.contains(.repeated))
    }
}
