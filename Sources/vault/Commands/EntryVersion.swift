import ArgumentParser
import VaultKit

/// `--entry-version N` of `get`, `export` and `show`: one of the versions `vault show --history`
/// lists, 1 the oldest. Named so that it cannot be taken for vault's own `--version`
/// (issue 9: `vault get LABEL FIELD --version 1` printed vault's version).
struct EntryVersionOption: ParsableArguments {
    @Option(name: .customLong("entry-version"), help: ArgumentHelp(
        "Read this version of the entry, as numbered by `vault show --history` (1 = oldest; default: the current one).",
        valueName: "n"))
    var entryVersion: Int?

    func validate() throws {
        if let entryVersion, entryVersion < 1 {
            throw ValidationError("--entry-version must be 1 or more (1 is the oldest version; see vault show --history)")
        }
    }

    /// Version `n` (1-based, oldest first) of `versions`.
    /// - Throws: `CLIFailure` (status 1) when the entry has no such version, saying how many it has.
    static func pick<T>(_ n: Int, of versions: [T], label: String) throws -> T {
        guard n <= versions.count else {
            let count = versions.count == 1 ? "one version" : "\(versions.count) versions"
            throw CLIFailure.failed("entry \(Escape.quoted(label)) has \(count); it has no entry version \(n)",
                                    hints: ["see its versions with: vault show --history \(InputFile.shellQuoted(label))"])
        }
        return versions[n - 1]
    }
}
