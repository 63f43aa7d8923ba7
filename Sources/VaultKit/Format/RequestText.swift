/// Why a hand-off request text was refused (FORMAT.md §7).
public enum RequestError: Error, Equatable, Sendable {
    /// No BEGIN line, no END line, or more than one request in the text.
    case armor(String)
    /// The lines between BEGIN and END are not exactly the five of §7 in order; carries the
    /// name expected at that place.
    case line(expected: String)
    /// The recipient string is not valid.
    case recipient(Bech32Error)
    /// The fingerprint is not canonical, or does not match the recipient.
    case fingerprint(String)
    /// A field value breaks its rule.
    case field(name: String, rule: String)
}

/// A hand-off request (FORMAT.md §7): who the integrator is, the label it will accept, a one-time
/// code and an expiry. Neither secret nor authenticated.
public struct HandoffRequest: Equatable, Sendable {
    /// BEGIN line.
    public static let begin = "-----BEGIN VAULT HAND-OFF REQUEST-----"
    /// END line.
    public static let end = "-----END VAULT HAND-OFF REQUEST-----"
    static let names = ["Recipient", "Fingerprint", "Label", "Code", "Expires"]

    /// The integrator's public key.
    public let recipient: [UInt8]
    /// The label the integrator will store the answer under.
    public let label: String
    /// 32 lower-case hex digits.
    public let code: String
    /// After this time the integrator no longer accepts an answer.
    public let expires: UTCTime

    /// A request; `label` and `code` must follow their rules (checked).
    /// - Throws: `RequestError.field`.
    public init(recipient: [UInt8], label: String, code: String, expires: UTCTime) throws(RequestError) {
        precondition(recipient.count == KeyText.keyByteCount, "a public key is 32 bytes")
        if let rule = PayloadRules.label(label) { throw .field(name: "Label", rule: rule) }
        // Line tolerance strips surrounding white space, so such a label could not travel intact.
        if label.unicodeScalars.first.map({ TextLines.isWhiteSpace(UInt8(truncatingIfNeeded: $0.value)) && $0.isASCII }) == true
            || label.unicodeScalars.last.map({ TextLines.isWhiteSpace(UInt8(truncatingIfNeeded: $0.value)) && $0.isASCII }) == true {
            throw .field(name: "Label", rule: "must not start or end with white space")
        }
        if let rule = PayloadRules.code(code) { throw .field(name: "Code", rule: rule) }
        self.recipient = recipient
        self.label = label
        self.code = code
        self.expires = expires
    }

    /// The request text, given the recipient's fingerprint (computed by the caller).
    public func text(fingerprint: Fingerprint) -> String {
        [HandoffRequest.begin, "Recipient: \(KeyText.recipient(recipient))", "Fingerprint: \(fingerprint.canonical)",
         "Label: \(label)", "Code: \(code)", "Expires: \(expires.text)", HandoffRequest.end].joined(separator: "\n") + "\n"
    }

    /// Reads the one request in `text`, with the e-mail tolerance of §4. The fingerprint line is
    /// returned for the caller to compare with the recipient's (it needs SHA-256).
    /// - Throws: `RequestError`.
    public static func parse(_ text: [UInt8]) throws(RequestError) -> (request: HandoffRequest, fingerprint: Fingerprint) {
        // Lines that are not UTF-8 are nil, never decoded with U+FFFD: two byte strings would
        // read as one request. Around the request (an e-mail in another encoding) they are
        // only surrounding text; inside it, they are refused.
        let lines = TextLines.split(text).map { String(validating: TextLines.clean($0), as: UTF8.self) }
        let begins = lines.indices.filter { lines[$0] == begin }
        guard let start = begins.first else { throw .armor("no \(begin) line") }
        guard begins.count == 1 else { throw .armor("more than one request in the text") }
        guard let stop = lines[start...].firstIndex(of: end) else { throw .armor("no \(end) line") }
        let body = Array(lines[(start + 1)..<stop])
        var values: [String] = []
        for (i, name) in names.enumerated() {
            let prefix = name + ": "
            guard i < body.count else { throw .line(expected: name) }
            guard let line = body[i] else {
                // Name the line when its name is intact; the value is what broke.
                let raw = TextLines.clean(TextLines.split(text)[start + 1 + i])
                throw raw.starts(with: Array(prefix.utf8)) ? .field(name: name, rule: "must be UTF-8 text") : .line(expected: name)
            }
            guard line.hasPrefix(prefix) else { throw .line(expected: name) }
            values.append(String(line.dropFirst(prefix.count)))
        }
        guard body.count == names.count else { throw .line(expected: "the END line") }
        let recipient: [UInt8]
        do throws(Bech32Error) { recipient = try KeyText.parseRecipient(values[0]) } catch { throw .recipient(error) }
        let fingerprint: Fingerprint
        do throws(FingerprintError) { fingerprint = try Fingerprint(canonical: values[1]) } catch {
            throw .fingerprint("must be the canonical fingerprint (SHA256: and 64 lower-case hex digits)")
        }
        guard let expires = UTCTime(exact: values[4]) else {
            throw .field(name: "Expires", rule: "must be a UTC time written exactly YYYY-MM-DDTHH:MM:SSZ")
        }
        let request = try HandoffRequest(recipient: recipient, label: values[2], code: values[3], expires: expires)
        return (request, fingerprint)
    }
}
