import CVaultSys
import FoundationEssentials
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
        /// No check here: the caller warns with `warnIfReadableByOthers` once it knows the file
        /// is what it expects (advice about a file given by mistake would mislead).
        case callerWarns
    }

    /// The warning of `Privacy.warn`, for a file others can read.
    static func warnIfReadableByOthers(_ path: String, option: String) {
        var st = stat()
        guard path != "-", stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_mode & 0o077 != 0 else { return }
        Console.warning("\(option) \(display(path)) can be read by group or others")
        Console.hint("delete it once sealed, or make it private: chmod 600 \(shellQuoted(path))")
    }

    /// The bytes of a secret file (or standard input for `-`), read straight into secret memory.
    /// - Parameter option: the option that named the file, for messages.
    /// - Parameter pasteHint: for `-` when standard input is a terminal (a person pasting the
    ///   secret, as docs/CUSTOMER.md shows): said on standard error, and echo is off while it is
    ///   read, so the secret is neither shown nor left in the terminal's scrollback.
    /// - Throws: `CLIFailure`: unreadable, too large, or readable by others when `.required`.
    static func readSecret(_ path: String, option: String, privacy: Privacy, pasteHint: String? = nil) throws -> SecretBytes {
        let fd = try openForReading(path)
        defer { if path != "-" { close(fd) } }
        if path == "-", let pasteHint, isatty(0) == 1 {
            vault_sys_install_tty_restore()
            if vault_sys_save_tty(0) == 0, vault_sys_echo_off(0) == 0 {
                Console.write(2, Array((pasteHint + "\n").utf8))
            }
        }
        defer {
            if path == "-", pasteHint != nil, isatty(0) == 1 {
                vault_sys_restore_tty()
                Console.write(2, Array("\n".utf8))
            }
        }
        if path != "-" {
            var st = stat()
            if fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_mode & 0o077 != 0 {
                switch privacy {
                case .required:
                    throw CLIFailure.failed("\(option) \(display(path)) can be read by group or others; refusing it",
                                            hints: ["make it private: chmod 600 \(shellQuoted(path))"])
                case .warn:
                    warnIfReadableByOthers(path, option: option)
                case .callerWarns:
                    break
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
        guard fd >= 0 else {
            let code = errno
            throw CLIFailure.failed("cannot read \(display(path)): \(Errno.text(code))",
                                    hints: code == ENOENT ? nearestName(path).map { ["did you mean \(Escape.quoted($0))?"] } ?? [] : [])
        }
        var st = stat()
        if fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFDIR {
            close(fd)
            throw CLIFailure.failed("cannot read \(display(path)): it is a directory")
        }
        return fd
    }

    /// For a file that is not there, the name in the same folder that is nearest to it (a typo:
    /// `intgrator.pub`), as the path to give instead; nil when none is close.
    static func nearestName(_ path: String) -> String? {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder), names.count <= 10_000 else { return nil }
        guard let near = Usage.nearest(url.lastPathComponent, in: names.filter { !$0.hasPrefix(".") }) else { return nil }
        let slash = path.lastIndex(of: "/")
        return slash.map { String(path[...$0]) + near } ?? near
    }

    /// A path quoted for a shell command in a hint.
    static func shellQuoted(_ path: String) -> String {
        let safe = path.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_./".unicodeScalars.contains($0)) }
        return safe ? path : "'" + Escape.forTerminal(path).split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }
}

/// A file the running command reads, for the output checker: an output never replaces it.
struct ReadFile {
    /// The path as given (`-`, standard input, is never compared).
    let path: String
    /// What it is to this command, in words: "the keystore", "the --input file".
    let role: String
}

/// Writing an output file without ever leaving a partial one, and without overwriting unasked:
/// the bytes go to a new temporary file in the same directory (O_EXCL), are flushed to disk,
/// then take the final name in one step. Any failure removes the temporary file.
///
/// Every output path of every command goes through `refuseProtected`: an output never replaces
/// a keystore, a keystore's lock file, a key file, or a file the same command reads, with or
/// without `--force` (issue 9: `recipient -o ks.vault --force` once replaced the keystore with
/// the .pub text, following vault's own "add --force" hint).
enum OutputFile {
    /// Refuses an existing `path` unless `force`, and a protected one always: call it early,
    /// before asking anything.
    /// - Parameter reads: every file this command reads (keystore, key file, passphrase file,
    ///   inputs); an output that is one of them, by identity, is refused.
    /// - Throws: `CLIFailure` (status 1).
    static func refuseExisting(_ path: String, force: Bool, reads: [ReadFile]) throws {
        try refuseProtected(path, reads: reads)
        var st = stat()
        if !force && lstat(path, &st) == 0 {
            throw CLIFailure.failed("\(Escape.quoted(path)) already exists; nothing was written",
                                    hints: ["choose another name, or add --force to replace it"])
        }
        let directory = Path.directory(of: path)
        guard stat(directory, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else {
            throw CLIFailure.failed("cannot write \(Escape.quoted(path)): no such directory \(Escape.quoted(directory))",
                                    hints: ["make the folder first (mkdir -p), or choose another output file"])
        }
        guard access(directory, W_OK) == 0 else {
            throw CLIFailure.failed("cannot write \(Escape.quoted(path)): \(Errno.text())")
        }
    }

    /// The one checker every output goes through. Refuses `path` when it is, by identity (same
    /// device and inode, through symlinks and hard links), a file in `reads`, or, by content, a
    /// keystore, a keystore's lock file or a key file; `--force` does not matter. Identity, not
    /// name: `./ks.vault`, a symlink or a hard link to it are the same file. Content, not only
    /// identity: another keystore, or the key file of another keystore, is as irreplaceable.
    /// - Throws: `CLIFailure` (status 1) naming the file and what it is.
    static func refuseProtected(_ path: String, reads: [ReadFile]) throws {
        var target = stat()
        // Nothing there, or a dangling symlink: nothing to lose (the rename replaces the link only).
        guard stat(path, &target) == 0 else { return }
        for file in reads where file.path != "-" {
            var st = stat()
            if stat(file.path, &st) == 0, st.st_dev == target.st_dev, st.st_ino == target.st_ino {
                let alias = file.path == path ? "" : " (\(Escape.quoted(file.path)))"
                throw protected(path, "it is \(file.role)\(alias) that this command reads")
            }
        }
        guard target.st_mode & S_IFMT == S_IFREG else { return }
        if target.st_size == off_t(KeyFile.byteCount) {
            throw protected(path, "it is 32 bytes long, as a key file is")
        }
        if startsWithKeystoreMagic(path) { throw protected(path, "it is a vault keystore") }
        if path.hasSuffix(".lock"), startsWithKeystoreMagic(String(path.dropLast(5))) {
            throw protected(path, "it is the lock file of the keystore \(Escape.quoted(String(path.dropLast(5))))")
        }
    }

    /// Whether two paths name the same file: by device and inode when both exist, else by
    /// their absolute paths with symlinks resolved (two outputs of one command, not made yet).
    static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        if stat(a, &sa) == 0, stat(b, &sb) == 0 { return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino }
        func absolute(_ p: String) -> String { URL(fileURLWithPath: p).standardizedFileURL.resolvingSymlinksInPath().path }
        return absolute(a) == absolute(b)
    }

    private static func protected(_ path: String, _ what: String) -> CLIFailure {
        CLIFailure.failed("refusing to write \(Escape.quoted(path)): \(what); nothing was written",
                          hints: ["an output never replaces a keystore, its lock file, a key file or a file the command reads, "
                                  + "even with --force: choose another name for the output"])
    }

    /// Whether the regular file at `path` begins with the keystore magic.
    private static func startsWithKeystoreMagic(_ path: String) -> Bool {
        // O_NONBLOCK: a FIFO put there meanwhile must not hang the check.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return false }
        var head = [UInt8](repeating: 0, count: FileKind.keystoreMagic.count)
        let n = head.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        return n == head.count && head == FileKind.keystoreMagic
    }

    /// Writes `bytes` to `path` with `mode`.
    /// - Parameter force: replace an existing file (`--force`); without it an existing file is refused.
    /// - Parameter reads: every file this command reads (see `refuseExisting`).
    /// - Throws: `CLIFailure` (status 1) naming the file and the cause.
    static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644, force: Bool, reads: [ReadFile]) throws {
        let shown = Escape.quoted(path)
        func cannotWrite() -> CLIFailure {
            let code = errno
            let full = [EFBIG, ENOSPC, EDQUOT].contains(code)
            return CLIFailure.failed("cannot write \(shown): \(Errno.text(code))",
                                     hints: full ? ["the disk is full or a file size limit was reached: free some space, "
                                                    + "then run the command again; nothing was written"] : [])
        }
        try refuseExisting(path, force: force, reads: reads)
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
        // Checked again just before the name is taken: the early check may be minutes old (a
        // customer answering questions), and a file may have appeared meanwhile.
        try refuseProtected(path, reads: reads)
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
