#if PostgreSQL
import Foundation

/// A `postgres://` keystore address (docs/KEYSTORE.md §13):
/// `postgres://USER@HOST:PORT/DATABASE?sslmode=…&sslrootcert=…&schema=…&connect_timeout=…`.
///
/// It never holds a password: an address with one is refused (without the address being
/// repeated anywhere), because addresses end up in argv, shell history, `ps` and messages. The
/// password comes from a PGPASSFILE or `--db-password-file` (`PostgresPassword`).
public struct PostgresAddress: Sendable, Equatable {
    /// How the connection is protected, with libpq's names. The default is `verify-full`: a
    /// credential vault should not trust whoever answers on the network (libpq's own default,
    /// `prefer`, falls back to clear text silently, so it is accepted only when asked for).
    public enum TLSMode: String, Sendable, CaseIterable {
        /// No TLS (a server on loopback or a private socket).
        case disable
        /// TLS when the server offers it, without checking its certificate; else clear text.
        case prefer
        /// TLS, without checking the server's certificate (protects against listening only).
        case require
        /// TLS, the certificate checked against the root certificates, not the host name.
        case verifyCA = "verify-ca"
        /// TLS, the certificate checked against the root certificates and the host name.
        case verifyFull = "verify-full"
    }

    public var user: String
    public var host: String
    public var port: Int
    public var database: String
    public var tls: TLSMode
    /// A PEM file of the root certificates to check the server against (else the system's).
    public var rootCertificate: String?
    /// The schema holding the keystore's tables (one keystore per schema; default `vault`).
    public var schema: String
    /// Seconds to wait for a connection (and for each answer, at least).
    public var connectTimeout: Double

    /// The default schema.
    public static let defaultSchema = "vault"

    /// True when `text` is meant as a database address (it may still be invalid).
    public static func isAddress(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Parses an address. Nothing of `text` is repeated in an error that could hold a password.
    /// - Parameter defaultUser: the user when the address names none (libpq takes the login name).
    /// - Throws: `PostgresAddressError`.
    public init(parsing text: String, defaultUser: String) throws(PostgresAddressError) {
        guard let schemeEnd = text.range(of: "://"), Self.isAddress(text) else { throw .notAnAddress }
        var rest = String(text[schemeEnd.upperBound...])
        var query = ""
        if let q = rest.firstIndex(of: "?") {
            query = String(rest[rest.index(after: q)...])
            rest = String(rest[..<q])
        }
        var path = ""
        if let slash = rest.firstIndex(of: "/") {
            path = String(rest[rest.index(after: slash)...])
            rest = String(rest[..<slash])
        }
        var hostPort = rest
        var user = defaultUser
        if let at = rest.lastIndex(of: "@") {
            let info = String(rest[..<at])
            // A password here would be in argv, history and every message: refused, unechoed.
            if info.contains(":") { throw .passwordInAddress }
            guard let u = Self.decode(info), !u.isEmpty else { throw .invalid("the user name") }
            user = u
            hostPort = String(rest[rest.index(after: at)...])
        }
        var host = hostPort
        var port = 5432
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw .invalid("the host") }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let p = Int(after.dropFirst()) else { throw .invalid("the port") }
                port = p
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            guard let p = Int(hostPort[hostPort.index(after: colon)...]) else { throw .invalid("the port") }
            port = p
        }
        guard !host.isEmpty, host.allSatisfy({ $0.isLetter || $0.isNumber || ".-_:%".contains($0) }) else {
            throw .invalid("the host (a socket folder is not supported: give a host name or address)")
        }
        guard (1...65535).contains(port) else { throw .invalid("the port") }
        guard let db = Self.decode(path), !db.contains("/") else { throw .invalid("the database name") }
        self.user = user
        self.host = host
        self.port = port
        self.database = db.isEmpty ? user : db
        tls = .verifyFull
        rootCertificate = nil
        schema = Self.defaultSchema
        connectTimeout = 10
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            guard parts.count == 2, let value = Self.decode(String(parts[1])) else { throw .invalid("the parameter \(name)") }
            switch name {
            case "sslmode":
                guard let m = TLSMode(rawValue: value) else { throw .unsupportedValue(name, value) }
                tls = m
            case "sslrootcert":
                rootCertificate = value
            case "schema":
                // Spliced into statements as an identifier: only plain lower-case names.
                guard value.count <= 63, let f = value.unicodeScalars.first, ("a"..."z").contains(f) || f == "_",
                      value.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" })
                else { throw .unsupportedValue(name, value) }
                schema = value
            case "connect_timeout":
                guard let t = Double(value), t >= 1, t <= 600 else { throw .unsupportedValue(name, value) }
                connectTimeout = t
            case "password":
                throw .passwordInAddress
            default:
                throw .unknownParameter(name)
            }
        }
        if rootCertificate != nil, tls == .disable || tls == .prefer { throw .unsupportedValue("sslrootcert", "with sslmode=\(tls.rawValue)") }
    }

    /// The address for messages: everything that locates the keystore, never a password.
    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(user)@\(h):\(port)/\(database)" + (schema == Self.defaultSchema ? "" : "?schema=\(schema)")
    }

    private static func decode(_ s: String) -> String? { s.removingPercentEncoding }
}

/// Why an address was refused. No case holds the address itself (it may hold a password).
public enum PostgresAddressError: Error, Equatable, Sendable {
    /// It does not start with `postgres://` or `postgresql://`.
    case notAnAddress
    /// It holds a password (`user:password@` or `password=`): refused, and not repeated.
    case passwordInAddress
    /// A part of it (named) is not valid.
    case invalid(String)
    /// A parameter vault does not know.
    case unknownParameter(String)
    /// A known parameter with a value vault does not accept.
    case unsupportedValue(String, String)
}
#endif
