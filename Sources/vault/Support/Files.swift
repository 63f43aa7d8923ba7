import Glibc
import VaultKit

/// Reading the files a command is given. `-` is standard input. Public files are read into
/// arrays; secret ones straight into secret memory.
enum InputFile {
    /// The most a public input (a blob text, a key file, a request) may hold: many blobs of the
    /// largest size, with room for an e-mail around them.
    static let maximumPublic = 16 * 1024 * 1024
    /// The most a secret input (`--input` JSON, a passphrase file) may hold.
    static let maximumSecret = 64 * 1024

    /// How a file is named in messages.
    static func display(_ path: String) -> String { path == "-" ? "standard input" : Escape.quoted(path) }

    /// The bytes of a public file, or of standard input for `-`.
    /// - Throws: `CLIFailure` (status 1) naming the file and the cause.
    static func readPublic(_ path: String) throws -> [UInt8] {
        let fd = try openForReading(path)
        defer { if path != "-" { close(fd) } }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw CLIFailure.failed("cannot read \(display(path)): \(Errno.text())") }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
            guard bytes.count <= maximumPublic else {
                throw CLIFailure.failed("\(display(path)) is larger than \(maximumPublic / 1024 / 1024) MiB")
            }
        }
        return bytes
    }

    /// Who else may read a secret file.
    enum Privacy {
        /// Refuse a file group or others can read (passphrase and key files, CLI.md).
        case required
        /// Accept it with a warning (a customer's `--input`, which they should delete anyway).
        case warn
    }

    /// The bytes of a secret file (or standard input for `-`), read straight into secret memory.
    /// - Parameter option: the option that named the file, for messages.
    /// - Throws: `CLIFailure`: unreadable, too large, or readable by others when `.required`.
    static func readSecret(_ path: String, option: String, privacy: Privacy) throws -> SecretBytes {
        let fd = try openForReading(path)
        defer { if path != "-" { close(fd) } }
        if path != "-" {
            var st = stat()
            if fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_mode & 0o077 != 0 {
                switch privacy {
                case .required:
                    throw CLIFailure.failed("\(option) \(display(path)) can be read by group or others; refusing it",
                                            hints: ["make it private: chmod 600 \(shellQuoted(path))"])
                case .warn:
                    Console.warning("\(option) \(display(path)) can be read by group or others")
                    Console.hint("delete it once sealed, or make it private: chmod 600 \(shellQuoted(path))")
                }
            }
        }
        let buffer: SecretBytes
        do { buffer = try SecretBytes(count: maximumSecret + 1) } catch {
            throw Messages.failure("cannot read \(option) \(display(path))", error)
        }
        let count = try buffer.withUnsafeMutableBytes { (out: UnsafeMutableRawBufferPointer) throws -> Int in
            var count = 0
            while count < out.count {
                let n = read(fd, out.baseAddress! + count, out.count - count)
                if n < 0 && errno == EINTR { continue }
                if n < 0 { throw CLIFailure.failed("cannot read \(option) \(display(path)): \(Errno.text())") }
                if n == 0 { break }
                count += n
            }
            return count
        }
        guard count <= maximumSecret else {
            throw CLIFailure.failed("\(option) \(display(path)) is larger than \(maximumSecret / 1024) KiB")
        }
        do { return try buffer.slice(0, count) } catch {
            throw Messages.failure("cannot read \(option) \(display(path))", error)
        }
    }

    /// The first line of a secret, without its CR/LF (passphrase files, CLI.md).
    /// - Throws: `CLIFailure` when secret memory runs out.
    static func firstLine(_ secret: SecretBytes) throws -> SecretBytes {
        let length = secret.withUnsafeBytes { b -> Int in
            var n = b.firstIndex(of: 0x0a) ?? b.count
            if n > 0 && b[n - 1] == 0x0d { n -= 1 }
            return n
        }
        do { return try secret.slice(0, length) } catch { throw Messages.failure("cannot hold the secret", error) }
    }

    private static func openForReading(_ path: String) throws -> Int32 {
        if path == "-" { return 0 }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CLIFailure.failed("cannot read \(display(path)): \(Errno.text())") }
        var st = stat()
        if fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFDIR {
            close(fd)
            throw CLIFailure.failed("cannot read \(display(path)): it is a directory")
        }
        return fd
    }

    /// A path quoted for a shell command in a hint.
    static func shellQuoted(_ path: String) -> String {
        let safe = path.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_./".unicodeScalars.contains($0)) }
        return safe ? path : "'" + Escape.forTerminal(path).split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }
}

/// Writing an output file without ever leaving a partial one, and without overwriting unasked:
/// the bytes go to a new temporary file in the same directory (O_EXCL), are flushed to disk,
/// then take the final name in one step. Any failure removes the temporary file.
enum OutputFile {
    /// Refuses an existing `path` unless `force`: call it early, before asking anything.
    /// - Throws: `CLIFailure` (status 1).
    static func refuseExisting(_ path: String, force: Bool) throws {
        var st = stat()
        if !force && lstat(path, &st) == 0 {
            throw CLIFailure.failed("\(Escape.quoted(path)) already exists; nothing was written",
                                    hints: ["choose another name, or add --force to replace it"])
        }
        let directory = Path.directory(of: path)
        guard stat(directory, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else {
            throw CLIFailure.failed("cannot write \(Escape.quoted(path)): no such directory")
        }
        guard access(directory, W_OK) == 0 else {
            throw CLIFailure.failed("cannot write \(Escape.quoted(path)): \(Errno.text())")
        }
    }

    /// Writes `bytes` to `path` with `mode`.
    /// - Parameter force: replace an existing file (`--force`); without it an existing file is refused.
    /// - Throws: `CLIFailure` (status 1) naming the file and the cause.
    static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644, force: Bool) throws {
        let shown = Escape.quoted(path)
        func cannotWrite() -> CLIFailure {
            let code = errno
            let full = [EFBIG, ENOSPC, EDQUOT].contains(code)
            return CLIFailure.failed("cannot write \(shown): \(Errno.text(code))",
                                     hints: full ? ["the disk is full or a file size limit was reached: free some space, "
                                                    + "then run the command again; nothing was written"] : [])
        }
        try refuseExisting(path, force: force)
        let directory = Path.directory(of: path)
        let temporary = directory + "/." + Path.lastComponent(of: path) + ".tmp-" + Handoff.newCode().prefix(12)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw CLIFailure.failed("cannot write \(shown): \(Errno.text())") }
        var committed = false
        defer { if !committed { unlink(temporary) } }
        do {
            defer { close(fd) }
            try bytes.withUnsafeBytes { buffer in
                var done = 0
                while done < buffer.count {
                    let n = Glibc.write(fd, buffer.baseAddress! + done, buffer.count - done)
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else { throw cannotWrite() }
                    done += n
                }
            }
            guard fsync(fd) == 0 else { throw cannotWrite() }
        }
        if force {
            guard rename(temporary, path) == 0 else { throw CLIFailure.failed("cannot write \(shown): \(Errno.text())") }
        } else {
            // link() fails if the name appeared meanwhile, where rename() would replace it.
            guard link(temporary, path) == 0 else {
                let cause = errno == EEXIST ? "it appeared while writing" : Errno.text()
                throw CLIFailure.failed("cannot write \(shown): \(cause)")
            }
            unlink(temporary)
        }
        committed = true
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }
}
