/// Where an entry's Exact Online site answers: the region's `https://start.exactonline.…`, or,
/// for tests only, an override that is `https://` or a loopback address (so a test override
/// can never send a client secret in clear across a network).
public struct ExactEndpoint: Sendable, Equatable {
    /// The base URL, without a trailing slash.
    public let base: String

    /// The site of an Exact Online region.
    public init(region: Region) { base = region.site }

    /// A test override.
    /// - Throws: `ExactError.baseURLRefused` unless it is `https://HOST…`, or `http://` to
    ///   `localhost`, `127.x.x.x` or `[::1]`, with no user info, query or fragment.
    public init(override url: String) throws(ExactError) {
        let b = Array(url.utf8)
        guard !b.isEmpty, b.count <= 500, b.allSatisfy({ $0 > 0x20 && $0 < 0x7f }),
              !url.contains("@"), !url.contains("?"), !url.contains("#") else { throw .baseURLRefused(url) }
        var trimmed = url
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        if trimmed.hasPrefix("https://"), trimmed.count > 8 {
            base = trimmed
            return
        }
        guard trimmed.hasPrefix("http://"), let host = ExactEndpoint.host(of: trimmed), ExactEndpoint.isLoopback(host) else {
            throw .baseURLRefused(url)
        }
        base = trimmed
    }

    /// `{base}/api/oauth2/token`.
    public var tokenURL: String { base + "/api/oauth2/token" }

    /// The page where the customer's user logs in and allows the app:
    /// `{base}/api/oauth2/auth?client_id=…&redirect_uri=…&response_type=code&state=…`.
    public func authorizationURL(clientID: String, redirectURI: String, state: String) -> String {
        base + "/api/oauth2/auth?client_id=" + FormEncoding.encode(clientID) + "&redirect_uri=" + FormEncoding.encode(redirectURI)
            + "&response_type=code&state=" + FormEncoding.encode(state)
    }

    /// The host, port and path of a loopback `http://` redirect URI (`http://localhost:8765/cb`,
    /// `http://127.0.0.1:8765/`, `http://[::1]:8765/cb`), for receiving the redirect on this
    /// machine; nil for any other URI. The path is `/` when none is written.
    public static func loopbackRedirect(_ uri: String) -> (host: String, port: Int, path: String)? {
        guard uri.hasPrefix("http://"), let host = host(of: uri), isLoopback(host), let port = port(of: uri) else { return nil }
        let rest = uri.dropFirst(7).drop { $0 != "/" && $0 != "?" && $0 != "#" }
        let path = rest.prefix { $0 != "?" && $0 != "#" }
        return (host, port, path.isEmpty ? "/" : String(path))
    }

    /// Where the text after the first `://` starts, or nil (without Foundation's `range(of:)`:
    /// vault loads no Foundation, docs/PERFORMANCE.md).
    static func afterScheme(_ url: String) -> String.Index? {
        var i = url.startIndex
        while i < url.endIndex {
            if url[i...].hasPrefix("://") { return url.index(i, offsetBy: 3) }
            i = url.index(after: i)
        }
        return nil
    }

    /// The host of an `http://` or `https://` URL (brackets kept for IPv6), or nil.
    static func host(of url: String) -> String? {
        guard let scheme = Self.afterScheme(url) else { return nil }
        let rest = url[scheme...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            let after = authority[authority.index(after: close)...]
            guard after.isEmpty || (after.hasPrefix(":") && isPort(after.dropFirst())) else { return nil }
            return String(authority[...close])
        }
        let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, !parts[0].isEmpty else { return nil }
        if parts.count == 2 { guard isPort(parts[1]) else { return nil } }
        return String(parts[0])
    }

    /// The port of an `http://` URL, 80 when none is written, or nil.
    static func port(of url: String) -> Int? {
        guard let scheme = Self.afterScheme(url) else { return nil }
        let authority = url[scheme...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let afterHost = authority.hasPrefix("[") ? authority[(authority.firstIndex(of: "]").map { authority.index(after: $0) } ?? authority.endIndex)...]
                                                 : authority.drop { $0 != ":" }
        guard afterHost.hasPrefix(":") else { return url.hasPrefix("https://") ? 443 : 80 }
        return isPort(afterHost.dropFirst()) ? Int(afterHost.dropFirst()) : nil
    }

    private static func isPort(_ s: Substring) -> Bool {
        guard (1...5).contains(s.count), s.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(s) else { return false }
        return (1...65535).contains(n)
    }

    /// `localhost`, `127.0.0.0/8` written as four decimal numbers, or `[::1]`.
    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "[::1]" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "127" else { return false }
        return parts.allSatisfy { p in (1...3).contains(p.count) && p.allSatisfy { $0.isASCII && $0.isNumber } && Int(p)! <= 255 }
    }
}

/// `application/x-www-form-urlencoded` as the token endpoint reads it: unreserved characters
/// as they are, every other byte as `%XX` (so the form never depends on `+` for spaces).
public enum FormEncoding {
    /// `text` percent-encoded.
    public static func encode(_ text: String) -> String {
        var out = ""
        for b in text.utf8 { append(b) { out.unicodeScalars.append(Unicode.Scalar($0)) } }
        return out
    }

    /// Calls `emit` with the encoded bytes of `byte`.
    static func append(_ byte: UInt8, _ emit: (UInt8) -> Void) {
        if isUnreserved(byte) { emit(byte); return }
        let hex = Array("0123456789ABCDEF".utf8)
        emit(0x25); emit(hex[Int(byte >> 4)]); emit(hex[Int(byte & 15)])
    }

    static func isUnreserved(_ b: UInt8) -> Bool {
        (0x30...0x39).contains(b) || (0x41...0x5a).contains(b) || (0x61...0x7a).contains(b) || b == 0x2d || b == 0x2e || b == 0x5f || b == 0x7e
    }

    /// A form body of public and secret values, built in secret memory: the client secret,
    /// refresh token and authorisation code never pass through a Swift `String`.
    /// - Throws: `SodiumError.outOfMemory`.
    public static func body(_ fields: [(String, FormValue)]) throws(SodiumError) -> SecretBytes {
        var size = 0
        for (name, value) in fields {
            size += (size == 0 ? 0 : 1) + name.utf8.count * 3 + 1
            switch value {
            case .text(let t): size += t.utf8.count * 3
            case .secret(let s): size += s.count * 3
            }
        }
        let scratch = try SecretBytes(count: size)
        var n = 0
        scratch.withUnsafeMutableBytes { out in
            func put(_ b: UInt8) { out[n] = b; n += 1 }
            for (i, (name, value)) in fields.enumerated() {
                if i > 0 { put(0x26) }
                for b in name.utf8 { append(b, put) }
                put(0x3d)
                switch value {
                case .text(let t): for b in t.utf8 { append(b, put) }
                case .secret(let s): s.withUnsafeBytes { for b in $0 { append(b, put) } }
                }
            }
        }
        return try scratch.slice(0, n)
    }

    /// A form value: public text or a secret.
    public enum FormValue {
        /// Public text.
        case text(String)
        /// A secret, encoded straight from secret memory.
        case secret(SecretBytes)
    }
}
