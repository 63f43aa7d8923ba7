import CVaultSys
import FoundationEssentials
import Glibc
import VaultKit

/// A new private output file (mode 0600) that has no name until it is complete, synced and
/// checked: a secret key (`identity export`) or a backup. It is made unnamed in the target's
/// folder (O_TMPFILE), so a process killed while writing leaves nothing behind, and named at the
/// end with a link, which fails if the name exists: nothing is ever replaced, and there is no
/// `--force`. Where the file system has no unnamed files, a hidden temporary file takes its
/// place, removed on every failure (a SIGKILL can then leave it, as `OutputFile.write` can).
///
/// The path goes through the CLI's one output checker (`OutputFile.refuseExisting`) when the
/// file is made and again (`refuseProtected`) just before it is named.
final class PrivateOutput {
    let path: String
    /// Open for reading and writing (a backup is read back from it).
    let fd: Int32
    private let reads: [ReadFile]
    /// The hidden name of the fallback file, until it is renamed.
    private var temporary: String?
    private var named = false

    /// Refuses `path` as `OutputFile.refuseExisting` does (without `--force`), then makes the file.
    /// - Throws: `CLIFailure` (status 1) naming the file and the cause.
    init(_ path: String, reads: [ReadFile]) throws {
        try Self.refuseExisting(path, reads: reads)
        self.path = path
        self.reads = reads
        let directory = Path.directory(of: path)
        var fd = vault_sys_open_unnamed(directory, 0o600)
        if fd < 0, [EOPNOTSUPP, EISDIR, EINVAL].contains(errno) {
            let name = directory + "/." + Path.lastComponent(of: path) + ".tmp-" + Handoff.newCode().prefix(12)
            fd = open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 { temporary = name }
        }
        guard fd >= 0 else { throw CLIFailure.failed("cannot write \(Escape.quoted(path)): \(Errno.text())") }
        self.fd = fd
    }

    /// `OutputFile.refuseExisting` without `--force` (there is none here): call it early, before
    /// asking anything. A device or terminal is named as such: a secret never goes there.
    /// - Throws: `CLIFailure` (status 1).
    static func refuseExisting(_ path: String, reads: [ReadFile]) throws {
        var st = stat()
        if stat(path, &st) == 0, st.st_mode & S_IFMT != S_IFREG, st.st_mode & S_IFMT != S_IFDIR {
            throw CLIFailure.failed("refusing to write \(Escape.quoted(path)): it is not a regular file (a terminal, a device or a pipe); nothing was written",
                                    hints: ["give the name of a new file"])
        }
        do { try OutputFile.refuseExisting(path, force: false, reads: reads) } catch var failure as CLIFailure {
            failure.hints = failure.hints.map { $0.contains("--force") ? "choose another name: an existing file is never replaced here" : $0 }
            throw failure
        }
    }

    deinit {
        close(fd)
        if !named, let temporary { unlink(temporary) }
    }

    /// Writes a secret from secret memory, at the start of the file.
    /// - Throws: `CLIFailure` (status 1).
    func write(_ secret: SecretBytes) throws {
        try secret.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let n = pwrite(fd, buffer.baseAddress! + done, buffer.count - done, off_t(done))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw failure() }
                done += n
            }
        }
    }

    /// The failure of a write, with the full-disk hint where it applies.
    func failure(_ code: Int32 = errno) -> CLIFailure {
        let full = [EFBIG, ENOSPC, EDQUOT].contains(code)
        return CLIFailure.failed("cannot write \(Escape.quoted(path)): \(Errno.text(code))",
                                 hints: full ? ["the disk is full or a file size limit was reached: free some space, "
                                                + "then run the command again; nothing was written"] : [])
    }

    /// Syncs the file and gives it its name, never replacing anything; then syncs the folder.
    /// - Throws: `CLIFailure` (status 1): the name appeared meanwhile, or a protected file is there.
    func name() throws {
        guard fsync(fd) == 0 else { throw failure() }
        // Checked again just before the name is taken: a file may have appeared meanwhile.
        try OutputFile.refuseProtected(path, reads: reads)
        let linked = temporary.map { link($0, path) } ?? vault_sys_link_unnamed(fd, path)
        guard linked == 0 else {
            let cause = errno == EEXIST ? "it appeared while writing; it was not replaced" : Errno.text()
            throw CLIFailure.failed("cannot write \(Escape.quoted(path)): \(cause)")
        }
        if let temporary { unlink(temporary) }
        named = true
        let directory = Path.directory(of: path)
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }
}
