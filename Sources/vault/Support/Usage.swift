/// Usage checks made on the raw arguments before argument-parser sees them, where its own
/// answer would be wrong for vault.
enum Usage {
    /// Options of the root command only. argument-parser answers them anywhere on the line, so
    /// `vault get LABEL FIELD --version 1` printed vault's version with status 0 where a script
    /// expected a secret (issue 9). Here they are accepted only as the whole command line.
    static let rootOnly = ["--version", "--generate-completion-script", "--experimental-dump-help"]

    /// Refuses a root-only option that is not the whole command line (with its value).
    /// - Throws: `CLIFailure` (status 2) naming the option and where it belongs.
    static func checkRootOptions(_ args: [String]) throws {
        let end = args.firstIndex(of: "--") ?? args.count
        for (i, arg) in args[..<end].enumerated() {
            guard let option = rootOnly.first(where: { arg == $0 || arg.hasPrefix($0 + "=") }) else { continue }
            // The root takes no other options, so a subcommand can only be the first argument.
            if i > 0, let command = args.first, Vault.commands.contains(where: { $0._commandName == command }) {
                throw CLIFailure.usage("\(option) is an option of vault itself, not of 'vault \(command)'",
                                       hints: hints(option, command: command))
            }
            // At the start: the option (and the shell name it takes) must be all there is.
            let takesValue = option == "--generate-completion-script" && arg == option
            if i > 0 || args.count > (takesValue ? 2 : 1) {
                throw CLIFailure.usage("\(option) is used alone: vault \(option)\(takesValue ? " SHELL" : "")",
                                       hints: ["see 'vault --help'"])
            }
        }
    }

    private static func hints(_ option: String, command: String) -> [String] {
        var out: [String] = []
        if option == "--version" {
            out.append(["get", "export", "show"].contains(command)
                ? "to read an earlier version of an entry, give --entry-version N (numbered by vault show --history)"
                : "vault --version prints vault's own version, and nothing else")
        }
        out.append("see 'vault \(command) --help'")
        return out
    }
}
