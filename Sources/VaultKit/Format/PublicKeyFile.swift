/// Why a public key file (`.pub`) was refused (FORMAT.md §1).
public enum PublicKeyFileError: Error, Equatable, Sendable {
    /// No recipient line.
    case noRecipient
    /// More than one non-comment line.
    case severalRecipients
    /// A line that is not UTF-8 text (never decoded with U+FFFD: the file is refused).
    case notUTF8(line: Int)
    /// The recipient line is not a valid recipient string.
    case recipient(Bech32Error)
    /// A `# fingerprint:` comment that cannot be read as a fingerprint.
    case malformedFingerprintComment
    /// A `# fingerprint:` comment that differs from the key's (one was edited, not the other);
    /// with several comments, the first that differs.
    case fingerprintMismatch(stated: Fingerprint, actual: Fingerprint)
}

/// The public key file an integrator publishes: comments, then one recipient string.
public enum PublicKeyFile {
    /// The comment that carries the fingerprint.
    public static let fingerprintComment = "# fingerprint: "

    /// The file's text: fingerprint and created comments, then the recipient string.
    public static func text(recipient: [UInt8], fingerprint: Fingerprint, created: UTCTime) -> String {
        "\(fingerprintComment)\(fingerprint.canonical)\n# created: \(created.text)\n\(KeyText.recipient(recipient))\n"
    }

    /// Reads the recipient and every fingerprint the file states. The caller compares each with
    /// the key's own (`Keys.fingerprint`, which needs SHA-256): all must match, not the first or
    /// the last (an honest comment on top and an attacker's key and fingerprint below passed
    /// 0.1.0, which kept only the last).
    ///
    /// A fingerprint comment is one whose text starts with `fingerprint` in any case, followed
    /// by `:` or by a `SHA256:` value: a person reads `# Fingerprint: …` as the key's fingerprint
    /// as surely as the writer's `# fingerprint: …`, so vault checks it too.
    /// - Throws: `PublicKeyFileError`.
    public static func parse(_ text: [UInt8]) throws(PublicKeyFileError) -> (recipient: [UInt8], stated: [Fingerprint]) {
        var recipientLine: String?
        var stated: [Fingerprint] = []
        for (number, raw) in TextLines.split(text).enumerated() {
            guard let decoded = String(validating: raw, as: UTF8.self) else { throw .notUTF8(line: number + 1) }
            var line = Substring(decoded)
            while let c = line.first, c == " " || c == "\t" || c == "\r" { line = line.dropFirst() }
            while let c = line.last, c == " " || c == "\t" || c == "\r" { line = line.dropLast() }
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                if let value = fingerprintValue(line.dropFirst()) {
                    guard let f = try? Fingerprint(typed: String(value)) else { throw .malformedFingerprintComment }
                    stated.append(f)
                }
                continue
            }
            guard recipientLine == nil else { throw .severalRecipients }
            recipientLine = String(line)
        }
        guard let recipientLine else { throw .noRecipient }
        do throws(Bech32Error) {
            return (try KeyText.parseRecipient(recipientLine), stated)
        } catch {
            throw .recipient(error)
        }
    }

    /// The value of a fingerprint comment (`comment` is the text after `#`), or nil when the
    /// comment is another one ("# fingerprints are in the manual", "# created: …").
    static func fingerprintValue(_ comment: Substring) -> Substring? {
        func blank(_ c: Character) -> Bool { c == " " || c == "\t" }
        let body = comment.drop(while: blank)
        guard body.lowercased().hasPrefix("fingerprint") else { return nil }
        let rest = body.dropFirst("fingerprint".count).drop(while: blank)
        if rest.first == ":" { return rest.dropFirst().drop(while: blank) }
        if rest.lowercased().hasPrefix("sha256:") { return rest }
        return nil
    }
}
