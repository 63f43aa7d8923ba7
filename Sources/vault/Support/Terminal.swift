import CVaultSys
import Glibc
import VaultKit

/// The user's terminal. "At a terminal" means `/dev/tty` opens (CLI.md): prompts are written to
/// it and answers read from it, never from standard input, so that a pipe or a file given as
/// input can never answer a question by accident. Without one, nothing is asked.
final class Terminal {
    /// The longest answer accepted, in bytes (a PEM key fits in a generic value, but a terminal
    /// line is not meant for one).
    static let maximumAnswer = 4096

    let fd: Int32

    private init(fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    /// The controlling terminal, or nil when there is none (a cron job, a CI run, `setsid`).
    static func open() -> Terminal? {
        // O_NOCTTY: never acquire a controlling terminal by opening one; O_CLOEXEC: no child inherits it.
        let fd = Glibc.open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        vault_sys_install_tty_restore()
        return Terminal(fd: fd)
    }

    /// Writes `text` to the terminal.
    func write(_ text: String) { Console.write(fd, Array(text.utf8)) }

    /// Writes a line to the terminal.
    func line(_ text: String = "") { write(text + "\n") }

    /// Asks a question and returns the answer without its line ending (echoed: public answers
    /// only). An answer that is not UTF-8 (a terminal in another encoding) is asked again, never
    /// decoded with U+FFFD into text the customer did not type.
    /// - Throws: `CLIFailure` at end of input (Ctrl-D) or on a read error.
    func ask(_ prompt: String) throws -> String {
        while true {
            write(prompt)
            if let answer = String(validating: try readPublicLine(), as: UTF8.self) { return answer }
            line("  That is not accepted: it is not UTF-8 text (check the terminal's encoding). Please try again.")
        }
    }

    /// Asks for a secret with echo off and reads it straight into secret memory; no Swift
    /// `String` ever holds it. The terminal settings are restored on return, on a thrown error,
    /// and by the C handlers on every signal that ends the process (Ctrl-C, Ctrl-\\, SIGTERM,
    /// SIGHUP, a crash signal, …) or stops it (Ctrl-Z, SIGTTIN, SIGTTOU); after a stop, SIGCONT
    /// turns echo off again once vault is back in the foreground.
    /// - Throws: `CLIFailure` at end of input, on a read error, or when the answer is too long.
    func askSecret(_ prompt: String) throws -> SecretBytes {
        write(prompt)
        guard vault_sys_save_tty(fd) == 0, vault_sys_echo_off(fd) == 0 else {
            vault_sys_restore_tty()
            throw CLIFailure.failed("cannot turn off echo on the terminal: \(Errno.text())")
        }
        defer {
            vault_sys_restore_tty()
            // The user's Enter was not echoed: end the prompt line ourselves.
            line()
        }
        let buffer: SecretBytes
        do { buffer = try SecretBytes(count: Terminal.maximumAnswer) } catch {
            throw Messages.failure("cannot hold the answer", error)
        }
        let count = try readSecretLine(into: buffer)
        do { return try buffer.slice(0, count) } catch { throw Messages.failure("cannot hold the answer", error) }
    }

    /// Reads one line byte by byte into `buffer`'s memory; returns its length without CR/LF.
    private func readSecretLine(into buffer: SecretBytes) throws -> Int {
        try buffer.withUnsafeMutableBytes { (out: UnsafeMutableRawBufferPointer) throws -> Int in
            var count = 0
            var overflow = false
            while true {
                var byte: UInt8 = 0
                let n = vault_sys_read_tty(fd, &byte, 1)
                if n < 0 && errno == EINTR { continue }
                if n < 0 { throw CLIFailure.failed("cannot read from the terminal: \(Errno.text())") }
                if n == 0 {
                    if count == 0 { throw CLIFailure.failed("no answer (end of input)") }
                    break
                }
                if byte == 0x0a { break }
                if count < out.count { out[count] = byte; count += 1 } else { overflow = true }
                byte = 0
            }
            if count > 0 && out[count - 1] == 0x0d { count -= 1 }
            guard !overflow else {
                throw CLIFailure.failed("the answer is longer than \(Terminal.maximumAnswer) bytes")
            }
            return count
        }
    }

    /// Reads one public line, with the same loop as a secret one (the answer is public, so it
    /// is copied out of the scratch secret memory).
    private func readPublicLine() throws -> [UInt8] {
        let buffer: SecretBytes
        do { buffer = try SecretBytes(count: Terminal.maximumAnswer) } catch {
            throw Messages.failure("cannot hold the answer", error)
        }
        let count = try readSecretLine(into: buffer)
        return buffer.withUnsafeBytes { Array($0.prefix(count)) }
    }

    /// Asks until the answer passes `check` (nil = fine, else the rule it breaks, shown).
    func ask(_ prompt: String, check: (String) -> String?) throws -> String {
        while true {
            let answer = try ask(prompt)
            guard let rule = check(answer) else { return answer }
            line("  That is not accepted: it \(rule). Please try again.")
        }
    }

    /// Asks for a secret twice, echo off, until both entries agree and `check` accepts it.
    /// An empty first entry returns nil when `optional` (the field is skipped).
    /// - Parameter unusual: for a value that is allowed but unexpected, a note saying why; the
    ///   person is offered to type it again right away (Enter) or to keep it (`keep`).
    func askSecretTwice(_ prompt: String, optional: Bool = false, check: (SecretBytes) -> String?,
                        unusual: ((SecretBytes) -> String?)? = nil) throws -> SecretBytes? {
        while true {
            let first = try askSecret(prompt)
            if first.count == 0 && optional { return nil }
            if let rule = check(first) {
                line("  That is not accepted: it \(rule). Please type it again.")
                continue
            }
            if let note = unusual?(first) {
                line("  \(note).")
                let answer = try ask("  Press Enter to type it again, or type keep to use it as it is: ")
                if Text.trimmed(answer, newlines: false).lowercased() != "keep" { continue }
            }
            let second = try askSecret("  Type it again, to check: ")
            guard first.constantTimeEquals(second) else {
                line("  The two entries differ. Please type it again.")
                continue
            }
            return first
        }
    }

    /// Asks a yes/no question; only `yes` or `y` (any case) is yes.
    func confirm(_ prompt: String) throws -> Bool {
        let answer = Text.trimmed(try ask(prompt), newlines: false).lowercased()
        return answer == "yes" || answer == "y"
    }
}
