/// The exit statuses of CLI.md, the contract scripts rely on.
enum ExitStatus: Int32, Sendable {
    /// Success.
    case ok = 0
    /// The operation failed or a check did not match (a refused blob, an `--expect` mismatch).
    case failed = 1
    /// A usage mistake: unknown option, missing or malformed argument.
    case usage = 2
}

/// A failure a command reports: already worded, with hints for the next step and the status it
/// ends with. Commands throw this; `Runner` prints it and exits. Build one with the helpers in
/// `Messages.swift` so that VaultKit errors are worded in one place.
struct CLIFailure: Error {
    /// The `vault: error:` line, lower case, no final period.
    var message: String
    /// Lines printed after the message as `vault:   …` (e.g. expected and found values).
    var details: [String] = []
    /// `vault: hint:` lines.
    var hints: [String] = []
    /// The exit status.
    var status: ExitStatus

    /// A usage mistake (status 2).
    static func usage(_ message: String, hints: [String] = []) -> CLIFailure {
        CLIFailure(message: message, hints: hints, status: .usage)
    }

    /// A failed operation or check (status 1).
    static func failed(_ message: String, details: [String] = [], hints: [String] = []) -> CLIFailure {
        CLIFailure(message: message, details: details, hints: hints, status: .failed)
    }

    /// A failure already reported line by line (e.g. some blobs of many refused): prints nothing more.
    static func silent(_ status: ExitStatus) -> CLIFailure { CLIFailure(message: "", status: status) }
}
