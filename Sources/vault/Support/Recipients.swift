import Glibc
import VaultKit

/// How a command-line argument that names a key is read (CLI.md `seal --to`, `fingerprint`).
enum KeyArgument {
    /// A recipient string starts with `vault1` in either case.
    static func isRecipientString(_ text: String) -> Bool { text.lowercased().hasPrefix("vault1") }

    /// A secret key's text form starts with `VAULT-SECRET-KEY-` in either case: it is refused
    /// and never echoed, since it is already somewhere it should not be (argv, shell history).
    static func isSecretKey(_ text: String) -> Bool { text.lowercased().hasPrefix(KeyText.secretKeyHRP) }

    /// True when a file's bytes hold a secret key's text form anywhere.
    static func holdsSecretKey(_ bytes: [UInt8]) -> Bool {
        let needle = Array((KeyText.secretKeyHRP + "1").utf8)
        guard bytes.count >= needle.count else { return false }
        for start in 0...(bytes.count - needle.count) {
            var match = true
            for (k, c) in needle.enumerated() where bytes[start + k] | 0x20 != c | 0x20 {
                match = false
                break
            }
            if match { return true }
        }
        return false
    }

    /// The failure for a secret key given where a public one belongs.
    static func secretKeyRefused(_ where_: String) -> CLIFailure {
        CLIFailure.usage("\(where_) is a secret key (VAULT-SECRET-KEY-…); refused, and not shown",
                         hints: ["a secret key never belongs on a command line: it may now be in your shell history; give the public key (vault1…) or its .pub file"])
    }

    /// The recipient key named by `text`: a recipient string or a `.pub` file.
    /// - Parameter option: how the argument is named in messages (`--to`).
    /// - Throws: `CLIFailure`: status 2 for a malformed string, 1 for an unusable file.
    static func recipient(_ text: String, option: String) throws -> PublicKey {
        if isSecretKey(text) { throw secretKeyRefused(option) }
        if isRecipientString(text) {
            do { return try PublicKey(recipient: text) } catch {
                throw Messages.failure("\(option) \(Escape.quoted(text))", error, status: .usage)
            }
        }
        try refuseForeignKey(text, option: option)
        let bytes = try InputFile.readPublic(text)
        if holdsSecretKey(bytes) { throw CLIFailure.failed("\(option) \(InputFile.display(text)) holds a secret key; refused") }
        // Another kind of file is named as such, not by the first .pub rule its bytes break.
        let kind = FileKind.of(bytes)
        if kind != .publicKeyFile && kind != .text {
            throw FileKind.mismatch("\(option) \(InputFile.display(text))", is: kind, wanted: "a public key file",
                                    hints: ["\(option) takes the integrator's public key file (.pub) or their recipient string (vault1…)"])
        }
        do { return try PublicKey(publicKeyFile: bytes) } catch {
            throw Messages.failure("\(option) \(InputFile.display(text))", error)
        }
    }

    /// An argument that is no file but a valid Bech32 key of another kind (an age key, say):
    /// refused as FORMAT.md §1's `prefix` class rather than as a missing file.
    /// - Throws: `CLIFailure` status 2 naming the prefix found.
    static func refuseForeignKey(_ text: String, option: String) throws {
        guard text != "-", access(text, F_OK) != 0 else { return }
        do { _ = try Bech32.decode(text, hrp: KeyText.recipientHRP, byteCount: KeyText.keyByteCount) } catch {
            if case .prefix(let found) = error {
                throw CLIFailure.usage("\(option) \(Escape.quoted(text)) is a key of another kind (prefix '\(Escape.forTerminal(found))'), not a vault recipient",
                                       hints: ["a vault recipient starts with vault1; take it from the integrator's manual or their .pub file"])
            }
        }
    }

    /// A fingerprint typed by a person, for `--expect` options.
    /// - Throws: `CLIFailure` status 2 (a malformed fingerprint is a usage mistake, FORMAT.md §2).
    static func expectedFingerprint(_ text: String, option: String) throws -> Fingerprint {
        if isSecretKey(text) { throw secretKeyRefused(option) }
        do { return try Fingerprint(typed: text) } catch {
            var failure = Messages.failure("\(option) \(Escape.quoted(text))", error, status: .usage)
            guard case .malformed = error else { throw failure }
            // A character missing or extra, said as such: the usual mistake when copying by hand.
            var body = Substring(Text.trimmed(text, newlines: false))
            if body.uppercased().hasPrefix("SHA256:") { body = body.dropFirst(7) }
            let digits = body.filter { $0.isASCII && $0.isHexDigit }.count
            let others = body.filter { !($0.isASCII && $0.isHexDigit) && !" \t-:".contains($0) }
            if others.isEmpty && digits != 64 {
                failure.message += ": it has \(digits) hex digits, not 64 (\(digits < 64 ? "one or more missing" : "one or more too many"))"
            }
            // Where to take it from; never "run vault fingerprint" to vault fingerprint itself.
            failure.hints = [option == "--expect" ? "copy it again from the integrator's manual"
                                                  : "copy it again from the integrator's manual; vault fingerprint FILE shows the fingerprint of a key file"]
            throw failure
        }
    }

    /// The failure for a fingerprint that is not the expected one: both shown.
    static func mismatch(_ what: String, expected: Fingerprint, actual: Fingerprint) -> CLIFailure {
        CLIFailure.failed("\(what) does not have the expected fingerprint",
                          details: ["expected: \(expected.canonical)", "actual:   \(actual.canonical)"])
    }
}

/// `--expires`: a whole number and `h` or `d`, from 1h to 365d (CLI.md).
enum Expiry {
    static let minimum: Int64 = 3600
    static let maximum: Int64 = 365 * 86400

    /// Seconds of a duration text, or nil when it breaks the rule.
    static func seconds(_ text: String) -> Int64? {
        guard let unit = text.last, unit == "h" || unit == "d" else { return nil }
        let digits = text.dropLast()
        guard !digits.isEmpty, digits.count <= 6, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              let n = Int64(digits) else { return nil }
        let s = n * (unit == "h" ? 3600 : 86400)
        return (minimum...maximum).contains(s) ? s : nil
    }

    static let rule = "must be a whole number followed by h or d, from 1h to 365d (e.g. 30d)"
}
