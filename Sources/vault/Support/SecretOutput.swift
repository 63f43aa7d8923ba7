import Glibc
import VaultKit

/// Output that contains secrets (`get`, `export`), assembled in secret memory and written to
/// standard output in one go, so no Swift `String` ever holds a secret value.
final class SecretOutput {
    private let buffer: SecretBytes
    private var size = 0

    /// A buffer of `capacity` bytes.
    init(capacity: Int) throws {
        do { buffer = try SecretBytes(count: capacity) } catch { throw Messages.failure("cannot hold the output", error) }
    }

    /// Bytes still free in the buffer.
    var remaining: Int { buffer.count - size }

    func byte(_ b: UInt8) {
        precondition(size < buffer.count, "secret output buffer too small")
        buffer.withUnsafeMutableBytes { $0[size] = b }
        size += 1
    }

    func text(_ s: String) { for b in s.utf8 { byte(b) } }

    /// A secret's bytes as they are.
    func raw(_ s: SecretBytes) { s.withUnsafeBytes { for b in $0 { byte(b) } } }

    /// A JSON string (RFC 8259 escapes; control characters as \u00XX).
    func jsonString(_ s: SecretBytes) {
        byte(0x22)
        s.withUnsafeBytes { bytes in
            for b in bytes {
                switch b {
                case 0x22: text("\\\"")
                case 0x5c: text("\\\\")
                case 0x0a: text("\\n")
                case 0x09: text("\\t")
                case 0x0d: text("\\r")
                case 0..<0x20, 0x7f: text("\\u00" + String(b >> 4, radix: 16) + String(b & 0xf, radix: 16))
                default: byte(b)
                }
            }
        }
        byte(0x22)
    }

    /// A POSIX shell single-quoted word: each `'` written as `'\''` (CLI.md, export --format env).
    func shellQuoted(_ s: SecretBytes) {
        byte(0x27)
        s.withUnsafeBytes { for b in $0 { if b == 0x27 { text("'\\''") } else { byte(b) } } }
        byte(0x27)
    }

    /// Writes everything to standard output.
    /// - Throws: `CLIFailure` when standard output cannot be written.
    func write() throws {
        // `vault export X > file` makes the file with the shell's umask, often readable by
        // everyone: say so (the secrets are wanted there, so they are still written).
        var st = stat()
        if fstat(1, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_mode & 0o077 != 0 {
            Console.warning("standard output is a file that group or others can read (mode \(String(st.st_mode & 0o777, radix: 8))): "
                            + "the secrets written to it are readable by them")
            Console.hint("make it private: chmod 600 the file, or create it with (umask 077; vault … > FILE)")
        }
        var done = 0
        while done < size {
            let n = buffer.withUnsafeBytes { Glibc.write(1, $0.baseAddress! + done, size - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Console.outputFailure(n < 0 ? errno : EIO) }
            done += n
        }
    }

    /// Room for `values` written with the worst-case escaping, plus `extra` bytes of framing.
    static func capacity(_ values: [SecretBytes], extra: Int) -> Int {
        values.map { $0.count * 6 + 2 }.reduce(extra, +)
    }
}
