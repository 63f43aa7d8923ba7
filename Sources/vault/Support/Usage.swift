import ArgumentParser

/// Usage checks made on the raw arguments before argument-parser sees them, where its own
/// answer would be wrong or unhelpful for vault.
enum Usage {
    /// Every check, in order. - Throws: `CLIFailure` (status 2).
    static func check(_ args: [String]) throws {
        try checkRootOptions(args)
        try checkCommandName(args)
        try checkSecretOptions(args)
    }

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

    // MARK: command names

    /// The subcommands' names, in `--help` order.
    static var commandNames: [String] { Vault.commands.map { $0._commandName } }

    /// A first argument that is no command (`vault opne x.vault`, `vault help opne`) is named as
    /// such, with the nearest command, instead of "2 unexpected arguments".
    static func checkCommandName(_ args: [String]) throws {
        guard let first = args.first, !first.hasPrefix("-") else { return }
        var word = first
        if first == "help" {
            guard args.count > 1, !args[1].hasPrefix("-") else { return }
            word = args[1]
        }
        guard !commandNames.contains(word) else { return }
        var hints: [String] = []
        if let near = nearest(word, in: commandNames) { hints.append("did you mean 'vault \(near)'?") }
        hints.append("see 'vault --help'; the commands are " + commandNames.joined(separator: ", "))
        throw CLIFailure.usage("\(Escape.quoted(word)) is not a vault command", hints: hints)
    }

    /// The candidate closest to `word` (case-insensitive; transpositions count as one edit),
    /// when it is close enough to be what was meant.
    static func nearest(_ word: String, in candidates: [String]) -> String? {
        let w = Array(word.lowercased())
        guard !w.isEmpty else { return nil }
        let scored = candidates.map { c -> (String, Int) in
            let d = Array(c.lowercased())
            // A prefix of a command ("insp") is what was meant.
            if d.starts(with: w) && w.count >= 3 { return (c, 0) }
            return (c, distance(w, d))
        }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        return best.1 <= max(1, min(2, w.count / 3)) ? best.0 : nil
    }

    /// Optimal string alignment distance (Levenshtein with adjacent transpositions).
    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[a.count][b.count]
    }

    // MARK: secrets on the command line

    /// Option names someone may try for a secret. vault has none of them: a secret on the command
    /// line is in the shell's history and, while the command runs, visible to other users in `ps`.
    static let secretOptions = ["client-secret", "webhook-secret", "secret", "passphrase", "new-passphrase", "password",
                                "pass", "pw", "token", "refresh-token", "access-token", "secret-key", "private-key"]

    /// Refuses an option that would carry a secret, saying where vault takes it from. The value
    /// that follows is never repeated.
    static func checkSecretOptions(_ args: [String]) throws {
        let end = args.firstIndex(of: "--") ?? args.count
        let unlockAdd = args.count >= 2 && args[0] == "unlock" && args[1] == "add"
        if unlockAdd { try checkUnlockAdd(Array(args[2..<max(2, end)])) }
        for arg in args[..<end] where arg.hasPrefix("--") {
            let name = String(arg.dropFirst(2).prefix { $0 != "=" }).lowercased()
            guard secretOptions.contains(name) else { continue }
            // `vault unlock add --passphrase` is a flag: the passphrase is asked, never given here.
            if unlockAdd && arg == "--passphrase" { continue }
            let command = args.first.flatMap { commandNames.contains($0) ? $0 : nil }
            var hints: [String] = []
            if name.contains("pass") || name == "pw" {
                hints.append(name.hasPrefix("new") || unlockAdd
                    ? "the new passphrase is asked twice at the terminal (echo off), or read from --new-passphrase-file FILE"
                    : "a passphrase is asked at the terminal (echo off), or read from the first line of --passphrase-file FILE")
            } else if command == "seal" || name.hasSuffix("secret") {
                hints.append("vault seal asks each secret at the terminal (echo off, twice), or reads it from the JSON object given with --input FILE (--input - reads a pipe)")
            } else {
                hints.append("secrets are asked at the terminal (echo off) or read from a file an option names")
            }
            hints.append("if you typed a real secret after it, it is now in your shell history: remove it from there, and treat the secret as seen")
            throw CLIFailure.usage("--\(name): vault never takes a secret on the command line", hints: hints)
        }
    }

    /// `vault unlock add` takes no word that is not an option or an option's value, and its
    /// `--passphrase` takes no value: a word there may be a passphrase typed after it, so it is
    /// refused without being repeated (argument-parser would quote it as an unexpected argument).
    static func checkUnlockAdd(_ args: [String]) throws {
        let takesValue: Set<String> = ["--key-file", "--new-passphrase-file", "--kdf", "--name", "--keystore",
                                       "--unlock-key-file", "--passphrase-file"]
        var skip = false
        for arg in args {
            if skip { skip = false; continue }
            if arg.hasPrefix("-") && arg != "-" {
                skip = takesValue.contains(arg)
                continue
            }
            throw CLIFailure.usage("vault unlock add takes no argument but its options; an unexpected word was given (not repeated here: it may be a secret)",
                                   hints: ["--passphrase takes no value: the new passphrase is asked twice at the terminal (echo off), "
                                           + "or read from --new-passphrase-file FILE",
                                           "if you typed a real secret there, it is now in your shell history: remove it from there, and treat the secret as seen"])
        }
    }
}
