import ArgumentParser
import Glibc

/// Parses the command line, runs the command and turns every outcome into CLI.md's exit status:
/// 0 ok, 1 failed, 2 usage mistake. argument-parser's own usage errors would exit 64
/// (EX_USAGE); here they exit 2, worded like every other message.
enum Runner {
    static func main(_ arguments: [String]) async -> Never {
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
        var command: ParsableCommand
        do {
            command = try OpenCommand.parseMany(args) ?? Vault.parseAsRoot(args)
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
                Console.error("cannot write to standard output: \(Errno.text(Console.outputError))")
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

    private static func isParserError(_ error: any Error) -> Bool {
        error is ValidationError || error is CleanExit || String(reflecting: type(of: error)).hasPrefix("ArgumentParser.")
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
        while line.hasSuffix(".") { line.removeLast() }
        Console.error(line)
        let sub = args.first { name in Vault.commands.contains { $0._commandName == name } }
        Console.hint("see 'vault \(sub.map { $0 + " " } ?? "")--help'")
        return ExitStatus.usage.rawValue
    }
}
