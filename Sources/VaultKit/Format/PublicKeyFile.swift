/// Why a public key file (`.pub`) was refused (FORMAT.md §1).
public enum PublicKeyFileError: Error, Equatable, Sendable {
    /// No recipient line.
    case noRecipient
    /// More than one non-comment line.
    case severalRecipients
    /// The recipient line is not a valid recipient string.
    case recipient(Bech32Error)
    /// A `# fingerprint:` comment that cannot be read as a fingerprint.
    case malformedFingerprintComment
    /// A `# fingerprint:` comment that differs from the key's (one was edited, not the other).
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

    /// Reads the recipient and the fingerprint the file states, if it states one. The caller
    /// compares that with the key's own (`Keys.fingerprint`), which needs SHA-256.
    /// - Throws: `PublicKeyFileError`.
    public static func parse(_ text: [UInt8]) throws(PublicKeyFileError) -> (recipient: [UInt8], stated: Fingerprint?) {
        var recipientLine: String?
        var stated: Fingerprint?
        for raw in TextLines.split(text) {
            var line = Substring(decoding: raw, as: UTF8.self)
            while let c = line.first, c == " " || c == "\t" || c == "\r" { line = line.dropFirst() }
            while let c = line.last, c == " " || c == "\t" || c == "\r" { line = line.dropLast() }
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let body = line.dropFirst().drop { $0 == " " || $0 == "\t" }
                if body.hasPrefix("fingerprint:") {
                    let value = body.dropFirst("fingerprint:".count).drop { $0 == " " || $0 == "\t" }
                    guard let f = try? Fingerprint(typed: String(value)) else { throw .malformedFingerprintComment }
                    stated = f
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
}
