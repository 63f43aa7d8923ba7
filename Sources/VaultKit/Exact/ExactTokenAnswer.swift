/// Exact's answer to a token request (RFC 6749 §5.1), read from secret memory: the tokens go
/// straight into `SecretBytes`. `expires_in` may be a number or a string of digits (Exact sends
/// `"600"`).
struct ExactTokenAnswer {
    /// Longest token accepted (Exact's are about a kilobyte).
    static let maximumTokenLength = 16384

    let accessToken: SecretBytes
    let refreshToken: SecretBytes?
    let expiresIn: Int

    /// - Throws: `ExactError.malformedAnswer` naming what is wrong (never a value).
    static func parse(_ body: SecretBytes) throws(ExactError) -> ExactTokenAnswer {
        try body.withUnsafeBytes { (b) throws(ExactError) -> ExactTokenAnswer in
            var reader = JSONReader(b)
            let members: [(key: String, value: JSONValue)]
            do {
                guard case .object(let m) = try reader.parseDocument() else { throw ExactError.malformedAnswer(detail: "not a JSON object") }
                members = m
            } catch let e as ExactError { throw e } catch { throw .malformedAnswer(detail: "not JSON") }
            func string(_ key: String) -> JSONString? {
                if case .string(let s)? = members.first(where: { $0.key == key })?.value { return s }
                return nil
            }
            func token(_ key: String) throws(ExactError) -> SecretBytes? {
                guard let s = string(key) else {
                    if members.contains(where: { $0.key == key }) { throw .malformedAnswer(detail: "\(key) is not a string") }
                    return nil
                }
                let t: SecretBytes
                do { t = try reader.decodeSecret(s) } catch { throw .malformedAnswer(detail: "out of secret memory") }
                // Printable ASCII only: a token is later printed and put in HTTP headers as it is.
                let ok = t.withUnsafeBytes { $0.count >= 1 && $0.count <= maximumTokenLength && $0.allSatisfy { $0 >= 0x21 && $0 <= 0x7e } }
                guard ok else { throw .malformedAnswer(detail: "\(key) is empty, too long or not printable ASCII") }
                return t
            }
            guard let access = try token("access_token") else { throw .malformedAnswer(detail: "no access_token") }
            let refresh = try token("refresh_token")
            if let type = string("token_type"), reader.decode(type).lowercased() != "bearer" {
                throw .malformedAnswer(detail: "token_type is not bearer")
            }
            let expires: Int?
            switch members.first(where: { $0.key == "expires_in" })?.value {
            case .number(let text, true)?: expires = Int(text)
            case .string(let s)?: expires = Int(reader.decode(s))
            default: expires = nil
            }
            guard let expires, (1...86400).contains(expires) else { throw .malformedAnswer(detail: "expires_in is missing or not 1 to 86400 seconds") }
            return ExactTokenAnswer(accessToken: access, refreshToken: refresh, expiresIn: expires)
        }
    }
}

/// Exact's error answer (RFC 6749 §5.2): `error` and `error_description`, public words.
struct ExactErrorAnswer {
    /// Longest description kept.
    static let maximumDescription = 300

    let error: String?
    let description: String?

    /// The error fields of `body`, each dropped when it repeats one of `secrets` (Exact never
    /// should, but an error message is printed and logged, so it is checked).
    static func parse(_ body: SecretBytes, withholding secrets: [SecretBytes]) -> ExactErrorAnswer {
        body.withUnsafeBytes { b in
            var reader = JSONReader(b)
            guard let doc = try? reader.parseDocument(), case .object(let members) = doc else { return ExactErrorAnswer(error: nil, description: nil) }
            func field(_ key: String) -> String? {
                guard case .string(let s)? = members.first(where: { $0.key == key })?.value else { return nil }
                let bytes = reader.decodeBytes(s)
                guard !secrets.contains(where: { contains(bytes, $0) }) else { return "(withheld: it repeats a secret)" }
                let text = String(decoding: bytes, as: UTF8.self)
                return text.unicodeScalars.count > maximumDescription ? String(String.UnicodeScalarView(text.unicodeScalars.prefix(maximumDescription))) + "…" : text
            }
            return ExactErrorAnswer(error: field("error"), description: field("error_description"))
        }
    }

    private static func contains(_ haystack: [UInt8], _ needle: SecretBytes) -> Bool {
        guard needle.count >= 4, haystack.count >= needle.count else { return false }
        return needle.withUnsafeBytes { n in
            (0...(haystack.count - n.count)).contains { i in haystack[i..<(i + n.count)].elementsEqual(n) }
        }
    }
}
