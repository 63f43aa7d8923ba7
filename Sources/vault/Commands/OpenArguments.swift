import ArgumentParser

extension OpenCommand {
    /// Below this many arguments `vault open` is parsed by argument-parser alone.
    static let manyArguments = 64

    /// `vault open` with thousands of files (a morning's batch): argument-parser collects a
    /// repeated positional argument in time quadratic in its count (each value is merged into
    /// sets and arrays that are copied; 5,000 files took 0.8 s of parsing, more than opening
    /// them). Here the file names are set aside, argument-parser parses the options with the
    /// first file alone — so every option, check and message is its own — and the command then
    /// gets every file. Returns nil (parse normally) for few arguments, `--`, or any option it
    /// does not know.
    static func parseMany(_ args: [String]) throws -> OpenCommand? {
        guard args.count > manyArguments, args.first == "open", !args.contains("--") else { return nil }
        // The options that take a value in the next argument, and the flags (CLI.md, open and
        // unlocking). Any other option (a new one, a mistake, `--as=X`) goes the usual way, so
        // this split can never read an option's value as a file.
        let valued: Set<String> = ["--as", "--keystore", "--key-file", "--passphrase-file"]
        let flags: Set<String> = ["--allow-expired", "--replace"]
        var options: [String] = []
        var files: [String] = []
        var i = 1
        while i < args.count {
            let a = args[i]
            if a == "-" || !a.hasPrefix("-") {
                files.append(a)
            } else {
                guard valued.contains(a) || flags.contains(a) else { return nil }
                options.append(a)
                if valued.contains(a), i + 1 < args.count {
                    options.append(args[i + 1])
                    i += 1
                }
            }
            i += 1
        }
        guard let first = files.first else { return nil }
        guard var command = try Runner.parse(["open"] + options + [first]) as? OpenCommand else { return nil }
        command.files = files
        return command
    }
}
