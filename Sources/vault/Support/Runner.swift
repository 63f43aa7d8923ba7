import ArgumentParser
import Glibc

/// Parses the command line, runs the command and turns every outcome into CLI.md's exit status:
/// 0 ok, 1 failed, 2 usage mistake. argument-parser's own usage errors would exit 64
/// (EX_USAGE); here they exit 2, worded like every other message.
enum Runner {
    static func main(_ arguments: [String]) async -> Never {
        Hardening.atStart()
        // Swift decodes argv with U+FFFD for bytes that are not UTF-8: 'a\xff.txt' became
        // 'a\u{fffd}.txt', another name, and two labels became one. Refused instead.
        if let failure = notUTF8(CommandLine.unsafeArgv, CommandLine.argc) {
            Console.report(failure)
            exit(ExitStatus.usage.rawValue)
        }
        let args = Array(arguments.dropFirst())
        // No command at all is a missing argument: usage on standard error, status 2.
        if args.isEmpty {
            Console.write(2, Array((Vault.helpMessage() + "\n").utf8))
            Console.error("no command given")
            Console.hint("see 'vault --help'")
            exit(ExitStatus.usage.rawValue)
        }
        // `vault --version` alone is answered before argument-parser builds its command tree:
        // that tree reflects over every command and option, which costs more than the rest of
        // start-up (docs/PERFORMANCE.md). The output is the same as argument-parser's.
        if args == ["--version"] {
            Console.out(Vault.versionText + "\n")
            exit(ExitStatus.ok.rawValue)
        }
        // A postgres:// keystore in a build without the PostgreSQL trait: the release's
        // vault-postgres runs the command instead, before anything is read or parsed.
        DatabaseHelper.replaceProcessIfNeeded(args)
        // argument-parser keeps the last value of an option given twice: `--to good --to evil`
        // sealed to the second, `--expect A --expect B` checked only B. Neither first nor last
        // is right; the caller gives each option once.
        if let repeated = repeatedOption(args) {
            Console.error("\(Escape.forTerminal(repeated)) is given twice; give each option once")
            let sub = args.first { name in Vault.commands.contains { $0._commandName == name } }
            Console.hint("see 'vault \(sub.map { $0 + " " } ?? "")--help'")
            exit(ExitStatus.usage.rawValue)
        }
        var command: ParsableCommand
        do {
            try Usage.check(args)
            command = try OpenCommand.parseMany(args) ?? parse(args)
        } catch let failure as CLIFailure {
            Console.report(failure)
            exit(failure.status.rawValue)
        } catch {
            exit(parseFailure(error, args))
        }
        do {
            if var vaultCommand = command as? any VaultCommand {
                try await vaultCommand.start()
            } else {
                try command.run()
            }
            if Console.outputError != 0 {
                Console.report(Console.outputFailure(Console.outputError))
                exit(ExitStatus.failed.rawValue)
            }
            exit(ExitStatus.ok.rawValue)
        } catch let failure as CLIFailure {
            Console.report(failure)
            exit(failure.status.rawValue)
        } catch let code as ExitCode {
            exit(code.rawValue)
        } catch {
            // An argument-parser error thrown from run() (CleanExit, ValidationError), else a
            // library error no command wrapped: still worded in one place.
            if isParserError(error) { exit(parseFailure(error, args)) }
            Console.report(Messages.failure("", error))
            exit(ExitStatus.failed.rawValue)
        }
    }

    /// The command `args` name, parsed. A one-shot command is parsed by its own type alone
    /// (`vault get …` by `Get`): argument-parser then reflects over that command only, not
    /// over the whole tree of seventeen (docs/PERFORMANCE.md, "Start-up"). Anything that parse
    /// does not turn into a vault command — help, `help`, an unknown command, a usage mistake,
    /// completions, a command group — is parsed again from the root, so every message, help
    /// text and status is argument-parser's answer for the whole tree, as before.
    /// - Throws: argument-parser's errors, from the parse from the root.
    static func parse(_ args: [String]) throws -> ParsableCommand {
        if let name = args.first, let type = Vault.commands.first(where: { $0._commandName == name }),
           let command = try? type.parseAsRoot(Array(args.dropFirst())), command is any VaultCommand {
            return command
        }
        return try Vault.parseAsRoot(args)
    }

    /// The variables vault reads (CLI.md); each must be UTF-8 text, like every argument.
    static let variables = ["VAULT_KEYSTORE", "VAULT_KEY_FILE", "VAULT_PASSPHRASE_FILE", "XDG_DATA_HOME", "HOME"]

    /// A usage failure naming the first argument (counted from 1 after `vault`) or variable
    /// whose bytes are not UTF-8, or nil.
    static func notUTF8(_ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, _ argc: Int32) -> CLIFailure? {
        for i in 1..<Int(max(argc, 1)) {
            guard let arg = argv[i], String(validatingCString: arg) == nil else { continue }
            return CLIFailure.usage("argument \(i) is not UTF-8 text",
                                    hints: ["vault reads every argument as UTF-8; rename a file whose name is in another encoding"])
        }
        for name in variables {
            guard let value = getenv(name), String(validatingCString: value) == nil else { continue }
            return CLIFailure.usage("\(name) is not UTF-8 text", hints: ["set it to a UTF-8 path, or unset it"])
        }
        return nil
    }

    /// The first option named twice before a `--`, if any (`-o` counts as `--output`).
    static func repeatedOption(_ args: [String]) -> String? {
        var seen: Set<String> = []
        for arg in args {
            if arg == "--" { break }
            guard arg.hasPrefix("-"), arg != "-" else { continue }
            var name = arg.hasPrefix("--") ? String(arg.prefix { $0 != "=" }) : arg
            if name == "-o" { name = "--output" }
            if !seen.insert(name).inserted { return name }
        }
        return nil
    }

    private static func isParserError(_ error: any Error) -> Bool {
        error is ValidationError || error is CleanExit || String(reflecting: type(of: error)).hasPrefix("ArgumentParser.")
    }

    /// `vault remove Acme BV`: the command again with the label's words in quotes, for the
    /// commands that take a label (get's last word is its field).
    private static func quotedLabel(_ args: [String], command: String?) -> String? {
        guard let command, ["show", "get", "export", "remove"].contains(command) else { return nil }
        let takesValue: Set<String> = ["--keystore", "--key-file", "--passphrase-file", "--format", "--entry-version", "--prefix"]
        var words: [String] = [], skip = false
        for arg in args.dropFirst() {
            if skip { skip = false; continue }
            if arg.hasPrefix("-") { skip = takesValue.contains(arg); continue }
            words.append(arg)
        }
        let field = command == "get" ? words.popLast() : nil
        guard words.count > 1 else { return nil }
        let label = "'" + Escape.forTerminal(words.joined(separator: " ")).replacing("'", with: "'\\''") + "'"
        return "vault \(command) \(label)" + (field.map { " " + InputFile.shellQuoted($0) } ?? "")
    }

    /// `-to` read as `-t -o`: the long option it was meant to be, if the command has it.
    private static func singleDashLongOption(_ args: [String], command: String?) -> String? {
        guard let type = Vault.commands.first(where: { $0._commandName == command }) else { return nil }
        let usage = Vault.helpMessage(for: type)
        for arg in args where arg.hasPrefix("-") && !arg.hasPrefix("--") && arg.count > 2 {
            let long = "-" + arg.prefix { $0 != "=" }
            if usage.contains(long + " ") || usage.contains(long + "\n") { return long }
        }
        return nil
    }

    /// Help, version and completion scripts go to standard output with status 0; anything
    /// else is a usage mistake, status 2, with a pointer to the command's help.
    private static func parseFailure(_ error: any Error, _ args: [String]) -> Int32 {
        let code = Vault.exitCode(for: error)
        if code == .success {
            Console.out(Vault.fullMessage(for: error) + "\n")
            return ExitStatus.ok.rawValue
        }
        var text = Text.trimmed(Vault.message(for: error))
        if text.hasPrefix("Error: ") { text.removeFirst(7) }
        let first = text.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? "invalid usage"
        var line = first.prefix(1).lowercased() + first.dropFirst()
        // "unknown option '--clientid'. Did you mean '--client-id'?": the question is a hint.
        var suggestion: String?
        if let r = line.firstRange(of: ". Did you mean ") {
            suggestion = "did you mean " + line[r.upperBound...]
            line = String(line[..<r.lowerBound])
        }
        while line.hasSuffix(".") { line.removeLast() }
        // argument-parser quotes the argument it refuses, which may be anyone's text.
        Console.error(Escape.forTerminal(String(line)))
        let sub = args.first { name in Vault.commands.contains { $0._commandName == name } }
        if let suggestion { Console.hint(suggestion) }
        if suggestion == nil, line.hasPrefix("unknown option '-"), let dashed = singleDashLongOption(args, command: sub) {
            Console.hint("long options take two dashes: did you mean '\(dashed)'?")
        }
        if line.contains("unexpected argument"), let quoted = quotedLabel(args, command: sub) {
            Console.hint("a label with spaces is one argument, in quotes: \(quoted)")
        }
        Console.hint("see 'vault \(sub.map { $0 + " " } ?? "")--help'")
        return ExitStatus.usage.rawValue
    }
}
