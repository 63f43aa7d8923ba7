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

/// The text of the current `errno`, lower case as messages are.
enum Errno {
    static func text(_ code: Int32 = errno) -> String {
        let s = String(cString: strerror(code))
        return s.prefix(1).lowercased() + s.dropFirst()
    }
}
