import ArgumentParser
import Glibc

/// What every vault subcommand is: a parsable command that says whether it holds secrets (then
/// core dumps are turned off and the process made non-dumpable before it starts) and does its
/// work in `execute(_:)`, throwing `CLIFailure` for anything that goes wrong.
protocol VaultCommand: ParsableCommand {
    /// True for commands that hold a secret in memory at some point (seal, open, get, …).
    static var holdsSecrets: Bool { get }
    /// Does the work. Data goes to `Console.out`; messages are thrown as `CLIFailure` or
    /// printed with `Console.warning` / `Console.hint`.
    mutating func execute(_ context: Context) async throws
}

extension VaultCommand {
    /// What the runner calls: hardening first for commands that hold secrets, then the work.
    mutating func start() async throws {
        if Self.holdsSecrets { try Hardening.apply() }
        try await execute(Context())
    }
}

/// What a command may need from its surroundings, opened only when asked for: the terminal and
/// the environment (the `VAULT_*` variables of CLI.md).
final class Context {
    private var terminalChecked = false
    private var cachedTerminal: Terminal?
    let environment = Environment()

    /// The variables of this process, each read with getenv when a command asks for it: a
    /// dictionary of the whole environment, built at every start, cost more than the few
    /// lookups a command makes (docs/PERFORMANCE.md, "Start-up").
    struct Environment {
        subscript(name: String) -> String? { getenv(name).map { String(cString: $0) } }
    }

    /// The terminal, or nil when there is none (then nothing may be asked).
    var terminal: Terminal? {
        if !terminalChecked {
            cachedTerminal = Terminal.open()
            terminalChecked = true
        }
        return cachedTerminal
    }

    /// The terminal, or a usage failure naming the option that supplies the value instead.
    /// - Parameter what: the missing value ("the client secret").
    /// - Parameter option: where it comes from without a terminal ("--input FILE").
    func requireTerminal(for what: String, option: String) throws -> Terminal {
        guard let t = terminal else {
            throw CLIFailure.usage("\(what) is missing and there is no terminal to ask it on",
                                   hints: ["give it with \(option)"])
        }
        return t
    }

    /// An option's value, else its variable's (an option beats its variable, CLI.md).
    func value(option: String?, variable: String) -> String? {
        if let option { return option }
        if let v = environment[variable], !v.isEmpty { return v }
        return nil
    }
}
