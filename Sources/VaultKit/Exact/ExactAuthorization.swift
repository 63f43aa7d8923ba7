/// An authorisation begun by `ExactConnector.beginAuthorization`: the URL to open, and the
/// random `state` recorded (sealed, as a keystore setting) to check the answer against.
public struct ExactAuthorization: Sendable {
    /// The page where the customer's Exact Online user logs in and allows the app.
    public let url: String
    /// The random state sent with it (32 lower-case hex digits).
    public let state: String
    /// The redirect URI sent with it (and again with the code).
    public let redirectURI: String
    /// When it was begun (RFC 3339 UTC).
    public let started: String

    /// How long a begun authorisation can be finished, in seconds (Exact's code itself lives
    /// about three minutes after the redirect).
    public static let lifetime = 1800

    /// The setting that records it: named by the label's comparison form, the form the keystore
    /// finds the entry by (docs/KEYSTORE.md §2.4), so every spelling that names the entry finds
    /// the authorisation begun under another.
    static func settingName(_ label: String) -> String { "exact-online/authorization/" + Label.comparisonKey(label) }

    var settingValue: String { ["v1", state, started, redirectURI].joined(separator: "\n") }

    init(url: String, state: String, redirectURI: String, started: String) {
        self.url = url; self.state = state; self.redirectURI = redirectURI; self.started = started
    }

    /// The recorded form back; nil for an empty (cleared) or unknown value.
    init?(settingValue value: String, endpoint: ExactEndpoint, clientID: String) {
        let parts = value.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, parts[0] == "v1", Timestamp.isValid(parts[2]) else { return nil }
        self.init(url: endpoint.authorizationURL(clientID: clientID, redirectURI: parts[3], state: parts[1]),
                  state: parts[1], redirectURI: parts[3], started: parts[2])
    }
}

/// What the user pastes back: the whole redirected URL (`…?code=…&state=…`) or the code alone.
public struct ExactAuthorizationResponse {
    /// Longest code accepted.
    static let maximumCode = 4096

    /// The authorisation code, percent-decoded, in secret memory.
    public let code: SecretBytes
    /// The state the redirect carried; nil when only a code was pasted (then it cannot be checked).
    public let state: String?

    /// Reads a redirected URL or a bare code from secret memory (leading and trailing white
    /// space ignored).
    /// - Throws: `ExactError.authorizationDenied` (the redirect carries `error=`), `.noCode`.
    public static func parse(_ pasted: SecretBytes) throws(ExactError) -> ExactAuthorizationResponse {
        try pasted.withUnsafeBytes { (all) throws(ExactError) -> ExactAuthorizationResponse in
            var lo = 0, hi = all.count
            while lo < hi, all[lo] <= 0x20 { lo += 1 }
            while hi > lo, all[hi - 1] <= 0x20 { hi -= 1 }
            let text = UnsafeRawBufferPointer(rebasing: all[lo..<hi])
            guard !text.isEmpty, text.count <= 8192, text.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else { throw .noCode }
            guard let q = text.firstIndex(of: UInt8(ascii: "?")) ?? (text.starts(with: Array("code=".utf8)) ? -1 : nil) else {
                // A bare code.
                guard text.count <= maximumCode else { throw .noCode }
                do { return ExactAuthorizationResponse(code: try SecretBytes(copying: text), state: nil) } catch { throw .noCode }
            }
            let end = text.firstIndex(of: UInt8(ascii: "#")) ?? text.count
            var code: SecretBytes?, state: String?, error: String?, description: String?
            for pair in text[(q + 1)..<max(q + 1, end)].split(separator: UInt8(ascii: "&")) {
                let eq = pair.firstIndex(of: UInt8(ascii: "=")) ?? pair.endIndex
                let name = String(decoding: pair[pair.startIndex..<eq], as: UTF8.self)
                let value = eq < pair.endIndex ? pair[(eq + 1)...] : pair[pair.endIndex...]
                switch name {
                case "code":
                    do { code = try percentDecodedSecret(value) } catch { throw .noCode }
                case "state": state = String(decoding: percentDecoded(value), as: UTF8.self)
                case "error": error = String(decoding: percentDecoded(value), as: UTF8.self)
                case "error_description": description = String(decoding: percentDecoded(value), as: UTF8.self)
                default: continue
                }
            }
            if let error { throw .authorizationDenied(error: String(error.prefix(100)), description: description.map { String($0.prefix(300)) }) }
            guard let code, code.count > 0, code.count <= maximumCode else { throw .noCode }
            return ExactAuthorizationResponse(code: code, state: state)
        }
    }

    private static func percentDecoded(_ s: Slice<UnsafeRawBufferPointer>) -> [UInt8] {
        var out: [UInt8] = []
        decode(s) { out.append($0) }
        return out
    }

    private static func percentDecodedSecret(_ s: Slice<UnsafeRawBufferPointer>) throws(SodiumError) -> SecretBytes {
        var n = 0
        decode(s) { _ in n += 1 }
        let out = try SecretBytes(count: n)
        out.withUnsafeMutableBytes { o in
            var i = 0
            decode(s) { o[i] = $0; i += 1 }
        }
        return out
    }

    /// `%XX` decoded; a malformed `%` is kept as it is, and so is `+` (a code may hold one
    /// written literally; no code or state holds a space).
    private static func decode(_ s: Slice<UnsafeRawBufferPointer>, _ emit: (UInt8) -> Void) {
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if c == UInt8(ascii: "%"), i + 2 < s.endIndex, let h = Hex.decode(String(decoding: s[(i + 1)...(i + 2)], as: UTF8.self)) {
                emit(h[0]); i += 3
            } else {
                emit(c); i += 1
            }
        }
    }
}
