import VaultKit

/// The rule for a new passphrase, for every command that sets one (`init`, `passwd`, and any
/// later one): a passphrase VaultKit's `PassphraseStrength` rates trivially weak (fewer than
/// 10^8 estimated guesses) is refused unless `--allow-weak-passphrase`, saying why. The
/// keystore file is all an attacker needs to guess offline, so a weak passphrase is the weak
/// link however slow Argon2id is.
enum PassphrasePolicy {
    /// The option that accepts a weak passphrase anyway.
    static let allowOption = "--allow-weak-passphrase"

    /// Why `secret` is too weak, in words naming no character of it; nil when it is strong enough.
    static func weakness(_ secret: SecretBytes) -> String? {
        let year = Int(Handoff.now().text.prefix(4)) ?? 2026
        let e = PassphraseStrength.estimate(secret, referenceYear: year)
        guard e.isWeak else { return nil }
        let reasons = e.weaknesses.map { w -> String in
            switch w {
            case .short: "it is only \(e.characters) character\(e.characters == 1 ? "" : "s") long"
            case .repeated: "it repeats a character or a group of them (like aaaa or abcabc)"
            case .sequence: "it holds a sequence (like abcd or 1357)"
            case .keyboard: "it follows neighbouring keys (like qwerty or 7896)"
            case .date: "it holds a date or a year"
            case .common: "it holds a password or word attackers try first (like password or summer)"
            }
        }
        let guesses = "about 10^\(Int(e.log10Guesses.rounded(.down))) guesses; at least 10^8 are needed"
        return (reasons.isEmpty ? "it is easy to guess" : reasons.joined(separator: ", and ")) + " (\(guesses))"
    }

    /// The hint for a refused passphrase.
    static let advice = "choose a longer one: four or more unrelated words are easy to remember and hard to guess"

    /// Refuses a weak passphrase given by a file (no terminal to ask again).
    /// - Parameter source: how the file is named (`--passphrase-file 'pass.txt'`).
    /// - Throws: `CLIFailure` (status 1) saying why, unless `allowWeak`.
    static func check(_ secret: SecretBytes, source: String, allowWeak: Bool) throws {
        guard let why = weakness(secret) else { return }
        if allowWeak {
            // Accepted as asked, but never silently.
            Console.warning("the passphrase in \(source) is easy to guess: \(why); accepted because of \(allowOption)")
            return
        }
        throw CLIFailure.failed("the passphrase in \(source) is too weak: \(why)",
                                hints: [advice, "or add \(allowOption) to accept this one anyway; nothing was changed"])
    }
}
