import ArgumentParser
import Glibc
import VaultKit

/// `vault open FILE... [--allow-expired] [--replace] [--as LABEL] [--require-request]` (CLI.md, Integrator).
struct OpenCommand: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "open",
        abstract: "Open sealed blobs into the keystore.",
        discussion: """
        Every blob in the files (- is standard input; a whole e-mail is fine) is checked as \
        FORMAT.md §6 says and, if it passes, stored. For each stored blob one line is printed, \
        once it is durably stored: label, type and client id, separated by tabs; never a \
        secret. A refused blob is reported with its file and reason and changes nothing; the \
        others are still stored. The exit status is 1 if any blob was refused.

        Senders are not authenticated: the label a blob proposes is only a proposal. --as \
        stores a single blob under your own label. A blob already stored is refused as a \
        replay whatever the options.

        A blob sealed from a hand-off request (vault request) marks it answered, in the same \
        commit as the entry; a second blob for the same code, another label, or an answer \
        after the expiry is refused. --require-request (or the setting require-request on) \
        refuses every blob that answers no open request of this keystore.

        Examples:
          vault open acme.vault
          vault open --as "Acme BV (NL)" mail.txt
          vault open --replace new-secret.vault
          vault open --require-request acme.vault
        """
    )
    static let holdsSecrets = true

    @Argument(help: ArgumentHelp("Files holding sealed blobs (- for standard input).", valueName: "file"))
    var files: [String]

    @Flag(name: .customLong("allow-expired"), help: "Accept blobs past their expiry.")
    var allowExpired = false

    @Flag(help: "Store a blob whose label is in use as that entry's new version; the old one stays in its history.")
    var replace = false

    @Option(name: .customLong("as"), help: ArgumentHelp("Store the single blob under this label instead of the sender's.", valueName: "label"))
    var label: String?

    @Flag(name: .customLong("require-request"), help: "Refuse every blob that answers no open hand-off request of this keystore.")
    var requireRequest = false

    @OptionGroup var keystore: KeystoreOptions

    mutating func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one file (- for standard input)") }
        if let label, let rule = PayloadRules.label(label) { throw ValidationError("--as label \(rule)") }
    }

    mutating func execute(_ context: Context) async throws {
        // With --as the files together must hold one blob: counted first, one file at a time
        // (standard input, which cannot be read twice, is kept for the pass that stores).
        var standardInput: [UInt8]?
        if label != nil {
            var blobs = 0
            for file in files {
                guard let bytes = try? InputFile.readPublic(file) else { continue }
                if file == "-" { standardInput = bytes }
                // A text with no blob at all (a cover letter) is refused on its own; it is not a blob.
                blobs += Armor.decode(bytes).filter { if case .failure(.noBlock) = $0.contents { false } else { true } }.count
            }
            // 0 only when no file could be read: those are refused below, not a usage mistake.
            guard blobs <= 1 else {
                throw CLIFailure.usage("--as names one entry, but the files hold \(blobs) blobs",
                                       hints: ["open the blobs one at a time when you give --as"])
            }
        }
        // The files are taken a chunk at a time (up to 256 files or 8 MiB by their sizes, or one
        // larger file, or standard input alone), so memory is bounded by a chunk and one group of opened blobs, whatever
        // the number of files (issue 8, item 10). A chunk's files are read and their blobs opened
        // on every core (OpenParallel.swift); outcomes are then taken in file order.
        var batch = OpenBatch(options: Receiver.Options(allowExpired: allowExpired, replace: replace, label: label,
                                                        requireRequest: requireRequest))
        var unlocked: (store: Keystore, identities: ReceivingIdentities)?
        let progress = files.count > 1 && isatty(2) == 1
        var next = 0
        while next < files.count {
            let first = next
            var chunkBytes = 0
            while next < files.count && next - first < OpenParallel.chunkFiles && chunkBytes < OpenParallel.chunkBytes {
                // Standard input is a chunk of its own: what the files before it gave is reported
                // before vault waits on it.
                if files[next] == "-" {
                    if next == first { next += 1 }
                    break
                }
                var st = stat()
                // A file stat cannot see is read anyway: its read gives the error to report.
                if stat(files[next], &st) == 0 { chunkBytes += Int(st.st_size) }
                next += 1
            }
            let names = Array(files[first..<next])
            var chunk = OpenParallel.read(names, standardInput: standardInput).enumerated().map { (n: first + $0.offset, file: names[$0.offset], bytes: $0.element) }
            if names.contains("-") { standardInput = nil }
            // Unlocked at the first readable file: a run with nothing readable asks for no passphrase.
            if unlocked == nil, chunk.contains(where: { if case .success = $0.bytes { true } else { false } }) {
                // Unreadable files before it are reported first, as they come first.
                for item in chunk {
                    guard case .failure(let failure) = item.bytes else { break }
                    Console.report(failure)
                    batch.refusals["unreadable file", default: 0] += 1
                }
                chunk.removeFirst(chunk.prefix { if case .failure = $0.bytes { true } else { false } }.count)
                let (store, _) = try await KeystoreAccess.open(keystore, context)
                // Each blob opens with the identity its header names (current or active, issue 12).
                let identities = try await KeystoreAccess.run("cannot read the keystore's identities") { try await store.receivingIdentities() }
                unlocked = (store, identities)
                batch.identities = identities
                batch.store = store
            }
            let opened = unlocked.map { OpenParallel.open(chunk.map { try? $0.bytes.get() }, keys: $0.identities.opening, allowExpired: allowExpired) }
            for (k, item) in chunk.enumerated() {
                guard let outcomes = opened?[k] else {
                    if case .failure(let failure) = item.bytes {
                        // Reported in its place, after whatever the blobs before it gave.
                        try await batch.flush()
                        Console.report(failure)
                        batch.refusals["unreadable file", default: 0] += 1
                    }
                    continue
                }
                if progress { Console.write(2, Array("\rvault: opening \(item.n + 1)/\(files.count) \u{1b}[K".utf8)) }
                for (i, outcome) in outcomes.enumerated() {
                    let place = InputFile.display(item.file) + (outcomes.count > 1 ? " blob \(i + 1)" : "") + (outcome.line > 0 ? " (line \(outcome.line))" : "")
                    // A file with no blob at all that is another kind of file (a keystore, a
                    // .pub) is named as such.
                    var report: CLIFailure?
                    if case .failure(.armor(.noBlock)) = outcome.result, case .success(let bytes) = item.bytes,
                       case let kind = FileKind.of(bytes), kind != .text {
                        report = FileKind.mismatch(place, is: kind, wanted: "a text with sealed blobs")
                    }
                    batch.add(place, outcome.result, report: report)
                    if batch.isFull {
                        if progress { Console.write(2, Array("\r\u{1b}[K".utf8)) }
                        try await batch.flush()
                    }
                }
                if progress { Console.write(2, Array("\r\u{1b}[K".utf8)) }
            }
        }
        try await batch.flush()
        Self.summary(stored: batch.stored, refusals: batch.refusals)
        if !batch.refusals.isEmpty { throw CLIFailure.silent(.failed) }
    }

    /// "opened N, refused M (reasons)" on standard error, when there was more than one blob or a refusal.
    static func summary(stored: Int, refusals: [String: Int]) {
        let refused = refusals.values.reduce(0, +)
        guard refused > 0 || stored > 1 else { return }
        let reasons = refusals.sorted { $0.key < $1.key }.map { "\($0.value) \(plural($0.key, $0.value))" }.joined(separator: ", ")
        // A message of CLI.md's forms: an error when a blob was refused, else a hint.
        let text = "opened \(stored), refused \(refused)\(reasons.isEmpty ? "" : " (\(reasons))")"
        if refused > 0 { Console.error(text) } else { Console.hint(text) }
    }

    /// The reason a blob was refused, for the summary, in plain words for a person (FORMAT.md
    /// §6's class names, `no_matching_key` and the like, are for scripts: `inspect --json`).
    static func reason(_ error: ReceiveError) -> String {
        switch error {
        case .open(.armor(.noBlock)): "without a sealed blob"
        case .open(.armor), .open(.base64), .open(.length): "damaged in transit"
        case .open(.magic): "not a vault blob"
        case .open(.version): "of a newer format"
        case .open(.noMatchingKey): "sealed to another key"
        case .open(.decrypt): "tampered with or corrupted"
        case .open(.payload): "with invalid contents"
        case .open(.recipientMismatch): "with a tampered header"
        case .open(.expired): "expired"
        case .keystore(.replay): "already opened"
        case .keystore(.labelInUse): "with a label in use"
        case .keystore(.requestRequired): "answering no request"
        case .keystore(.unknownRequest): "answering an unknown request"
        case .keystore(.requestAnswered): "answering a request already answered"
        case .keystore(.requestCancelled): "answering a cancelled request"
        case .keystore(.requestLabelMismatch): "with another label than its request's"
        case .keystore(.requestExpired): "answering an expired request"
        case .keystore(.identityRetired): "sealed to a retired key"
        case .keystore: "not stored (keystore error)"
        }
    }

    /// A reason counted: the few that name a thing take its plural.
    static func plural(_ reason: String, _ count: Int) -> String {
        guard count != 1 else { return reason }
        switch reason {
        case "unreadable file": return "unreadable files"
        case "not a vault blob": return "not vault blobs"
        default: return reason
        }
    }
}
