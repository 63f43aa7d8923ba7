import Glibc

/// The two standard streams. Data goes to standard output; every message goes to standard
/// error as `vault: error: …`, `vault: warning: …` or `vault: hint: …` (CLI.md, Conventions).
/// Unbuffered writes, so data and messages interleave in the order they were made.
enum Console {
    /// The errno of the first failed write to standard output, 0 while none failed. The runner
    /// turns it into status 1: `vault recipient > integrator.pub` on a full disk is a failure,
    /// not an empty file and status 0. (Written from whichever task writes; one value, read
    /// once at exit.)
    nonisolated(unsafe) static var outputError: Int32 = 0

    /// The failure for standard output that could not be written (status 1). EPIPE gets its
    /// own hint: the reader went away, which is not a full disk.
    static func outputFailure(_ code: Int32) -> CLIFailure {
        CLIFailure.failed("cannot write to standard output: \(Errno.text(code))",
                          hints: code == EPIPE ? ["the program reading vault's output stopped before the end; run it again into a file or a reader that reads everything"] : [])
    }

    /// Writes data to standard output as is.
    static func out(_ text: String) { write(1, Array(text.utf8)) }

    /// Writes a line of data to standard output.
    static func outLine(_ text: String) { out(text + "\n") }

    /// `vault: error: …`
    static func error(_ text: String) { emit("error", text) }

    /// `vault: warning: …`
    static func warning(_ text: String) { emit("warning", text) }

    /// `vault: hint: …`
    static func hint(_ text: String) { emit("hint", text) }

    /// An indented detail line under an error: `vault:   …`
    static func detail(_ message: String) { write(2, Array("vault:   \(Escape.line(message))\n".utf8)) }

    /// Prints a failure: message, details, hints.
    static func report(_ failure: CLIFailure) {
        guard !failure.message.isEmpty else { return }
        error(failure.message)
        failure.details.forEach(detail)
        failure.hints.forEach(hint)
    }

    /// Every message line is checked by `Escape.line` on its way out: whatever text someone
    /// else chose, and whichever caller forgot to escape it, it cannot forge a line or reach the
    /// terminal as a control sequence.
    private static func emit(_ kind: String, _ text: String) {
        write(2, Array("vault: \(kind): \(Escape.line(text))\n".utf8))
    }

    /// Writes all of `bytes` to `fd`, retrying on EINTR and short writes. A broken standard
    /// stream has nowhere to be reported, so failures end the loop silently.
    static func write(_ fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + done, buffer.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    if fd == 1 && outputError == 0 { outputError = n < 0 ? errno : EIO }
                    return
                }
                done += n
            }
        }
    }
}
