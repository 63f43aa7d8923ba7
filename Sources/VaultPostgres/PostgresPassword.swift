#if PostgreSQL
import VaultKit

/// The database password, from a password file in libpq's format (PGPASSFILE, else
/// `~/.pgpass`): lines `host:port:database:user:password`, `*` matching anything, `\:` and `\\`
/// escaping, `#` starting a comment; the first line that matches wins. The caller reads the file
/// (refusing one that group or others may read, as passphrase files are refused).
public enum PostgresPassword {
    /// The password the file's first matching line gives for `address`, or nil when none matches.
    /// The file's bytes never reach an error or a message.
    /// - Throws: `SodiumError` when secret memory cannot be had.
    public static func lookup(in file: SecretBytes, for address: PostgresAddress) throws -> SecretBytes? {
        let wanted = [address.host, String(address.port), address.database, address.user]
        return try file.withUnsafeBytes { (raw) throws -> SecretBytes? in
            let b = raw.bindMemory(to: UInt8.self)
            var lineStart = 0
            while lineStart < b.count {
                var lineEnd = lineStart
                while lineEnd < b.count, b[lineEnd] != 0x0a { lineEnd += 1 }
                defer { lineStart = lineEnd + 1 }
                var end = lineEnd
                if end > lineStart, b[end - 1] == 0x0d { end -= 1 }
                if end == lineStart || b[lineStart] == UInt8(ascii: "#") { continue }
                // The first four fields are public (host, port, database, user): plain strings.
                var fields: [String] = []
                var current: [UInt8] = []
                var i = lineStart
                while i < end, fields.count < 4 {
                    let c = b[i]
                    if c == UInt8(ascii: "\\"), i + 1 < end {
                        current.append(b[i + 1]); i += 2; continue
                    }
                    if c == UInt8(ascii: ":") {
                        fields.append(String(decoding: current, as: UTF8.self)); current = []
                    } else {
                        current.append(c)
                    }
                    i += 1
                }
                guard fields.count == 4 else { continue }
                guard zip(fields, wanted).allSatisfy({ $0 == "*" || $0 == $1 }) else { continue }
                // The password: unescaped straight into secret memory.
                var length = 0
                var j = i
                while j < end {
                    if b[j] == UInt8(ascii: "\\"), j + 1 < end { j += 2 } else { j += 1 }
                    length += 1
                }
                let out = try SecretBytes(count: length)
                out.withUnsafeMutableBytes { dst in
                    var k = i, n = 0
                    while k < end {
                        if b[k] == UInt8(ascii: "\\"), k + 1 < end { k += 1 }
                        dst[n] = b[k]; n += 1; k += 1
                    }
                }
                return out
            }
            return nil
        }
    }
}
#endif
