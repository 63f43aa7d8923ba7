import ArgumentParser
import Glibc
import VaultKit

/// `vault fingerprint INPUT... [--expect FP]` (CLI.md, Auditor).
struct FingerprintCommand: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "fingerprint",
        abstract: "Print the fingerprint of recipient keys and of the key each sealed blob is sealed to.",
        discussion: """
        Each INPUT is a recipient string (starting with vault1), a public key file (.pub), or a \
        text file holding sealed blobs (an e-mail will do); - reads standard input. One line is \
        printed per key or blob: SHA256: and 64 hex digits. No secret is needed or read; a secret \
        key given as INPUT is refused without being shown.

        With several inputs or blobs, each line at a terminal (or with --names anywhere) names \
        its input after two spaces, as sha256sum does; in a pipe the lines are the bare \
        fingerprints unless --names is given. --grouped prints the form a manual prints and \
        vault seal shows: 16 groups of 4, for reading aloud.

        With --expect, the exit status is 0 when every fingerprint matches it and 1 (showing \
        both) when any does not.

        Examples:
          vault fingerprint integrator.pub
          vault fingerprint --grouped integrator.pub
          vault fingerprint --names integrator.pub mail.txt
          vault fingerprint acme.vault --expect 'SHA256:3F2A…'
        """
    )
    static let holdsSecrets = false

    @Argument(help: ArgumentHelp("Recipient strings, .pub files, or files holding sealed blobs (- for standard input).",
                                 valueName: "input"))
    var inputs: [String]

    @Option(help: ArgumentHelp("The fingerprint every input must have (from the integrator's manual).", valueName: "fp"))
    var expect: String?

    @Flag(help: "Print the fingerprints grouped for reading aloud (16 groups of 4), as vault seal shows them.")
    var grouped = false

    @Flag(help: "Name the input (and the blob) after each fingerprint, also when the output is not a terminal.")
    var names = false

    func validate() throws {
        if inputs.isEmpty { throw ValidationError("missing expected argument '<input> ...'") }
    }

    mutating func execute(_ context: Context) throws {
        let expected = try expect.map { try KeyArgument.expectedFingerprint($0, option: "--expect") }
        // Every argument is checked before anything is printed: a usage mistake prints no data.
        for (i, input) in inputs.enumerated() {
            if KeyArgument.isSecretKey(input) { throw KeyArgument.secretKeyRefused("argument \(i + 1)") }
            if KeyArgument.isRecipientString(input) {
                _ = try KeyArgument.recipient(input, option: "recipient")
            } else {
                try KeyArgument.refuseForeignKey(input, option: "argument \(i + 1)")
            }
        }
        var status = ExitStatus.ok
        var blobShown = false
        for input in inputs {
            let found: [(what: String, label: String, fingerprint: Fingerprint)]
            do { found = try fingerprints(of: input, status: &status) } catch let failure as CLIFailure {
                Console.report(failure)
                status = .failed
                continue
            }
            // Which input a line belongs to: named whenever there can be more than one line and
            // a person reads it (or --names); a pipe gets CLI.md's bare lines.
            let named = names || (isatty(1) == 1 && (inputs.count > 1 || found.count > 1))
            for (what, label, fingerprint) in found {
                if what.contains(" blob ") { blobShown = true }
                let shown = grouped ? fingerprint.grouped : fingerprint.canonical
                Console.outLine(named ? "\(shown)  \(label)" : shown)
                if let expected, expected != fingerprint {
                    Console.report(KeyArgument.mismatch(what, expected: expected, actual: fingerprint))
                    status = .failed
                }
            }
        }
        // As with inspect: a blob's fingerprint is read from its header, which only its
        // recipient's opening checks against the sealed contents.
        if blobShown {
            Console.hint("a blob's fingerprint is read from its header: the key it says it is sealed to; "
                         + "only the holder of that key can confirm it, and that the blob is intact, with vault open")
        }
        if status != .ok { throw CLIFailure.silent(status) }
    }

    /// The fingerprints an input names, each with how to name it in a message and on an output
    /// line (the input as given, escaped, and which blob). Blobs that cannot be framed are
    /// reported here and set `status` to 1; the others are still returned.
    private func fingerprints(of input: String, status: inout ExitStatus) throws -> [(String, String, Fingerprint)] {
        let plain = Escape.forTerminal(input)
        if KeyArgument.isRecipientString(input) {
            return [("recipient \(Escape.quoted(input))", plain, try KeyArgument.recipient(input, option: "recipient").fingerprint)]
        }
        let bytes = try InputFile.readPublic(input)
        let name = InputFile.display(input)
        if KeyArgument.holdsSecretKey(bytes) {
            throw CLIFailure.failed("\(name) holds a secret key; refused, and not shown",
                                    hints: ["give the public key file (vault recipient) instead"])
        }
        switch TextKind.of(bytes) {
        case .blobs:
            var out: [(String, String, Fingerprint)] = []
            var failed = false
            let blocks = Handoff.inspect(bytes)
            for (index, block) in blocks.enumerated() {
                switch block.result {
                case .success(let blob):
                    let which = " blob \(index + 1) (line \(block.line))"
                    out.append(("\(name)\(which)", plain + (blocks.count > 1 ? which : ""), blob.recipient))
                case .failure(let error):
                    Console.report(Messages.failure("\(name) blob \(index + 1) (line \(block.line))", error))
                    failed = true
                }
            }
            if failed { status = .failed }
            return out
        case .request:
            do {
                let request = try HandoffRequests.read(bytes)
                return [("\(name) (hand-off request)", "\(plain) (hand-off request)", try PublicKey(bytes: request.recipient).fingerprint)]
            } catch { throw Messages.failure(name, error) }
        case .other:
            // Only a guess at what the file is meant to be (decoding with U+FFFD cannot make a
            // line start with vault1); PublicKey(publicKeyFile:) then reads it strictly.
            let looksLikeKey = TextLines.split(bytes).contains { String(decoding: TextLines.clean($0), as: UTF8.self).lowercased().hasPrefix("vault1") }
            guard looksLikeKey else {
                let kind = FileKind.of(bytes)
                let what = kind == .text ? "" : ": it is \(kind.described)"
                var hints = ["a public key file holds a line starting with vault1; a sealed blob starts with \(Armor.sealedBegin)"]
                if kind == .keystore {
                    hints.append("the fingerprint of a keystore's key: vault recipient --keystore \(InputFile.shellQuoted(input)) | vault fingerprint -")
                }
                throw CLIFailure.failed("\(name) is neither a public key file nor a text with sealed blobs\(what)", hints: hints)
            }
            do { return [(name, plain, try PublicKey(publicKeyFile: bytes).fingerprint)] } catch { throw Messages.failure(name, error) }
        }
    }
}

/// What a received text holds, by its marker lines.
enum TextKind {
    case blobs, request, other

    static func of(_ bytes: [UInt8]) -> TextKind {
        let lines = TextLines.split(bytes).map { TextLines.clean($0) }
        let begin = Array(Armor.sealedBegin.utf8), request = Array(HandoffRequest.begin.utf8)
        if lines.contains(where: { $0.elementsEqual(begin) }) { return .blobs }
        if lines.contains(where: { $0.elementsEqual(request) }) { return .request }
        return .other
    }
}
