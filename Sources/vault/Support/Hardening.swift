import CVaultSys
import Glibc

/// Process hardening for commands that hold secrets: no core file (it would hold the secrets
/// in clear) and not dumpable, so another process of the same user cannot attach and read
/// memory. Applied by `VaultCommand.run()` before a command that declares `holdsSecrets`.
enum Hardening {
    /// Turns core dumps off and makes the process not dumpable.
    /// - Throws: `CLIFailure` when either call fails: going on would expose secrets.
    static func apply() throws {
        guard vault_sys_disable_core_dumps() == 0 else {
            throw CLIFailure.failed("cannot turn core dumps off: \(Errno.text())")
        }
        guard vault_sys_set_not_dumpable() == 0 else {
            throw CLIFailure.failed("cannot make the process non-dumpable: \(Errno.text())")
        }
    }
}

extension Hardening {
    /// What every vault process does first, before any secret exists: the Swift runtime's crash
    /// backtracer is switched off by putting the default action back on the signals it catches.
    /// On a crash it printed the registers and the memory they point to on standard error, and
    /// at a terminal it waited for a key (Ctrl-\\ at a passphrase prompt started it, echo still
    /// off): a memory dump of a process holding secrets. With the default action a crash ends
    /// the process at once, with no core file where `apply()` ran (and with none of the runtime's
    /// output). The environment variable SWIFT_BACKTRACE=enable=no would need a wrapper script.
    static func atStart() {
        // Failure leaves the backtracer on, which is no worse than before and cannot be reported
        // usefully yet (nothing is parsed); the test of item 7 (CrashTests) would show it.
        _ = vault_sys_reset_crash_signals()
        // A closed pipe on standard output (`vault list | head -1`, a consumer that crashed)
        // killed vault with SIGPIPE: status 141, outside CLI.md's 0/1/2. Ignored, the write
        // fails with EPIPE and vault ends with status 1 and says so (Runner, SecretOutput).
        // Status 1 rather than a quiet 0 as `head` users might like: CLI.md's 1 is "the
        // operation failed", and data that did not reach its reader (credentials for the
        // receiving system, a recipient for the manual) is that; `set -o pipefail` sees it.
        _ = vault_sys_ignore_sigpipe()
    }
}

/// The text of the current `errno`, lower case as messages are.
enum Errno {
    static func text(_ code: Int32 = errno) -> String {
        let s = String(cString: strerror(code))
        return s.prefix(1).lowercased() + s.dropFirst()
    }
}
