import ArgumentParser
import VaultKit

/// `vault inspect FILE [--json]` (CLI.md, Auditor): what a file holds, without any secret.
struct Inspect: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show what a file holds without opening it: each sealed blob's format version, key fingerprint, size and SHA-256, or a hand-off request's fields.",
        discussion: """
        Needs no keystore and no secret. FILE may be a whole e-mail; - reads standard input. \
        The exit status is 1 when any blob's frame is damaged or the file holds none. Only the \
        header is read: a blob whose sealed contents were altered looks intact here, and only \
        its recipient, opening it, can tell. The SHA-256 is that of the binary blob: the \
        integrator's audit log names each blob it opened by it (docs/AUDITOR.md). \
        The --json fields are described in docs/JSON.md.

        Examples:
          vault inspect acme.vault
          vault inspect --json acme.vault
        """
    )
    static let holdsSecrets = false

    @Argument(help: ArgumentHelp("A file holding sealed blobs or a hand-off request (- for standard input).", valueName: "file"))
    var file: String

    @Flag(help: "Print JSON (fields in docs/JSON.md).")
    var json = false

    mutating func execute(_ context: Context) throws {
        let bytes = try InputFile.readPublic(file)
        let name = InputFile.display(file)
        if KeyArgument.holdsSecretKey(bytes) {
            throw CLIFailure.failed("\(name) holds a secret key; refused, and not shown")
        }
        if TextKind.of(bytes) == .request {
            let request: HandoffRequest
            do { request = try HandoffRequests.read(bytes) } catch { throw Messages.failure(name, error) }
            try show(request)
            return
        }
        let blocks = Handoff.inspect(bytes)
        if blocks.count == 1, case .failure(.armor(.noBlock)) = blocks[0].result {
            let kind = FileKind.of(bytes)
            let what = kind == .text ? "" : ": it is \(kind.described)"
            var hints = ["a sealed blob starts with \(Armor.sealedBegin)"]
            if kind == .publicKeyFile { hints.append("the fingerprint of a public key file: vault fingerprint \(InputFile.shellQuoted(file))") }
            throw CLIFailure.failed("\(name) holds no sealed blob and no hand-off request\(what)", hints: hints)
        }
        var failed = false
        var items: [JSONOut] = [], errors: [JSONOut] = []
        for (i, block) in blocks.enumerated() {
            let index = i + 1
            switch block.result {
            case .success(let blob):
                let size = blob.bytes.count
                // The SHA-256 of the binary blob is what the integrator's audit log names it by
                // (its `open` record): an auditor matches a customer's file to it.
                let sha256 = Hex.encode(SHA256.hash(blob.bytes))
                items.append(.object([("index", .int(index)), ("line", .int(block.line)), ("version", .int(Int(SealedBlob.version))),
                                      ("fingerprint", .string(blob.recipient.canonical)), ("size", .int(size)), ("sha256", .string(sha256))]))
                if !json {
                    Console.out("blob \(index) (line \(block.line))\n  format version: \(SealedBlob.version)\n" +
                                "  sealed to:      \(blob.recipient.canonical)\n  size:           \(size) bytes\n" +
                                "  sha256:         \(sha256)\n" +
                                "  contents:       sealed; not checked here (only the key holder can open them)\n")
                }
            case .failure(let error):
                failed = true
                let failure = Messages.failure("\(name) blob \(index) (line \(block.line))", error)
                Console.report(failure)
                errors.append(.object([("index", .int(index)), ("line", .int(block.line)), ("error", .string(error.className)),
                                       ("message", .string(Messages.open(error).text))]))
            }
        }
        if json { Console.out(JSONOut.object([("kind", .string("blobs")), ("blobs", .array(items)), ("errors", .array(errors))]).text) }
        // A blob whose sealed part was altered reads exactly like an intact one here: say so,
        // rather than let status 0 pass for "the blob is fine" (issue 9).
        if !items.isEmpty {
            Console.hint("inspect reads the header only (format, key fingerprint, size): whether a blob is intact and opens "
                         + "is known only to the holder of the key it is sealed to, with vault open")
        }
        if failed { throw CLIFailure.silent(.failed) }
    }

    private func show(_ request: HandoffRequest) throws {
        let fingerprint: Fingerprint
        do { fingerprint = try PublicKey(bytes: request.recipient).fingerprint } catch { throw Messages.failure("", error) }
        let recipient = KeyText.recipient(request.recipient)
        if json {
            Console.out(JSONOut.object([("kind", .string("request")), ("request", .object([
                ("recipient", .string(recipient)), ("fingerprint", .string(fingerprint.canonical)),
                ("label", .string(request.label)), ("code", .string(request.code)), ("expires", .string(request.expires.text)),
            ]))]).text)
        } else {
            // The label was written by someone else: escaped before it reaches the terminal.
            Console.out("""
            hand-off request
              recipient:   \(recipient)
              fingerprint: \(fingerprint.canonical)
              label:       \(Escape.forTerminal(request.label))
              code:        \(request.code)
              expires:     \(request.expires.text)

            """)
        }
    }
}
