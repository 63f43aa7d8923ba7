import ArgumentParser
import VaultKit

/// `vault log [--json] [--since TIME] [--label TEXT]`, `vault log --verify [--against FILE]`,
/// `vault log --export FILE`: the keystore's hash-chained audit log (docs/KEYSTORE.md §2.8).
struct LogCommand: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Show, verify or export the keystore's audit log: every change and every read of secrets.",
        discussion: """
        Every change of the keystore and every read of secrets (get, export, token, a program's \
        read) is recorded in it, in the same commit as the change, with the hash of the record \
        before. The log names fields, never their values.

        --verify checks the chain and reports its first broken link. --export FILE writes the \
        log for an auditor, its head signed with the keystore's identity: checked with nothing \
        but your published recipient (docs/AUDITOR.md). --verify --against FILE shows that the \
        log still extends an earlier export unchanged, so a keystore put back to an older copy \
        is seen.

        Examples:
          vault log --since 2026-11-01 --label "Acme BV"
          vault log --verify
          vault log --export audit-2026-11.json
          vault log --verify --against audit-2026-11.json
        """
    )
    static let holdsSecrets = true

    @Flag(help: "Print JSON (fields in docs/JSON.md).") var json = false
    @Option(help: ArgumentHelp("Only records from this time on: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC).", valueName: "time"))
    var since: String?
    @Option(help: ArgumentHelp("Only records about this entry (compared as labels are).", valueName: "text")) var label: String?
    @Flag(help: "Check the chain; report its first broken link.") var verify = false
    @Option(help: ArgumentHelp("With --verify: check that the log extends this earlier export unchanged.", valueName: "file"))
    var against: String?
    @Option(help: ArgumentHelp("Write the log with its signed head to this file, for an auditor.", valueName: "file"))
    var export: String?
    @Flag(help: "Replace the --export file if it exists.") var force = false
    @OptionGroup var keystore: KeystoreOptions

    func validate() throws {
        let listing = json || since != nil || label != nil
        if verify && (listing || export != nil) { throw ValidationError("--verify takes only --against; --json, --since, --label and --export are not for it") }
        if export != nil && listing { throw ValidationError("--export writes the whole log; --json, --since and --label are for listing it") }
        if against != nil && !verify { throw ValidationError("--against FILE goes with --verify") }
        if force && export == nil { throw ValidationError("--force goes with --export FILE") }
        if let since, Self.time(since) == nil {
            throw ValidationError("--since \(Escape.quoted(since)) must be a UTC date YYYY-MM-DD or time YYYY-MM-DDTHH:MM:SSZ")
        }
    }

    static func time(_ text: String) -> UTCTime? { UTCTime(exact: text) ?? UTCTime(exact: text + "T00:00:00Z") }

    mutating func execute(_ context: Context) async throws {
        if verify { return try await check(context) }
        if let export { return try await write(export, context) }
        let (store, _) = try await KeystoreAccess.open(keystore, context)
        var log = try await KeystoreAccess.run("cannot read the audit log") { try await store.auditLog() }
        if let since = since.flatMap(Self.time) { log = log.filter { (UTCTime(exact: $0.record.time) ?? since) >= since } }
        if let label {
            let key = Label.comparisonKey(label)
            log = log.filter { $0.record.label.map(Label.comparisonKey) == key }
        }
        if json {
            Console.out(JSONOut.array(log.map(Self.json)).text)
            return
        }
        guard !log.isEmpty else {
            Console.hint("no audit records\(since != nil || label != nil ? " match" : " yet")")
            return
        }
        let rows = [["NO", "TIME", "OPERATION", "LABEL", "DETAILS"]]
            + log.map { e in [String(e.record.number), e.record.time, e.record.operation, e.record.label ?? "-", Self.details(e.record)] }
        Console.out(Table.render(rows))
    }

    /// The rest of a record, for the table: `key=value` pairs (escaped by the table).
    static func details(_ r: AuditRecord) -> String {
        var parts: [String] = []
        if !r.fields.isEmpty { parts.append("fields=" + r.fields.joined(separator: ",")) }
        if let v = r.subject { parts.append("subject=" + v) }
        if let v = r.request { parts.append("request=" + v) }
        if let v = r.blobID { parts.append("blob=" + v) }
        if let v = r.blobSHA256 { parts.append("sha256=" + Hex.encode(v)) }
        if let v = r.fingerprint { parts.append("key=" + v) }
        if let v = r.detail { parts.append(v) }
        return parts.isEmpty ? "-" : parts.joined(separator: " ")
    }

    static func json(_ e: AuditLogEntry) -> JSONOut {
        let r = e.record
        var m: [(String, JSONOut)] = [("number", .int(Int(r.number))), ("time", .string(r.time)), ("operation", .string(r.operation))]
        let optional: [(String, String?)] = [("label", r.label), ("blob_id", r.blobID), ("blob_sha256", r.blobSHA256.map(Hex.encode)),
                                             ("fingerprint", r.fingerprint), ("request", r.request), ("subject", r.subject),
                                             ("detail", r.detail)]
        for (k, v) in optional { if let v { m.append((k, .string(v))) } }
        if !r.fields.isEmpty { m.append(("fields", .array(r.fields.map { .string($0) }))) }
        m += [("hash", .string(Hex.encode(e.hash))), ("previous", .string(Hex.encode(r.previous)))]
        return .object(m)
    }

    private func check(_ context: Context) async throws {
        var earlier: AuditExport?
        if let file = against {
            let bytes = try InputFile.readPublic(file)
            do { earlier = try AuditExport.parse(bytes) } catch {
                throw CLIFailure.failed("\(InputFile.display(file)) is not a vault audit export: \(Self.exportError(error))",
                                        hints: ["give the file vault log --export wrote, as the auditor received it"])
            }
        }
        let (store, _) = try await KeystoreAccess.open(keystore, context)
        let result = try await KeystoreAccess.run("cannot verify the audit log") { try await store.verifyAuditLog(against: earlier) }
        if let problem = result.problem {
            if let file = against, Self.concernsExport(problem) {
                throw CLIFailure.failed("the audit log does not extend \(InputFile.display(file)): \(Messages.auditProblem(problem))",
                                        hints: ["restore the keystore from a copy at least as new as the export, or ask your auditor; "
                                                + "the keystore as it is cannot show what happened since the export"])
            }
            throw CLIFailure.failed("the audit log is broken: \(Messages.auditProblem(problem))",
                                    hints: ["compare with a backup of the keystore and with the last export given to your auditor"])
        }
        Console.outLine("audit log intact: \(result.count) records, head \(Hex.encode(result.head))")
        if let earlier, let file = against {
            Console.outLine("it extends \(InputFile.display(file)) (\(earlier.count) records, signed \(earlier.time) by \(earlier.fingerprint.canonical)) unchanged")
        }
    }

    /// Whether a problem is about the export (against the log) rather than the log alone.
    static func concernsExport(_ p: AuditProblem) -> Bool {
        switch p {
        case .otherKeystore, .signature, .export, .olderThanExport, .differsFromExport: true
        default: false
        }
    }

    private func write(_ file: String, _ context: Context) async throws {
        let reads = KeystoreAccess.readFiles(keystore, context)
        try OutputFile.refuseExisting(file, force: force, reads: reads)
        let (store, _) = try await KeystoreAccess.open(keystore, context)
        let export = try await KeystoreAccess.run("cannot export the audit log") { try await store.auditExport() }
        // No secret, but customers' names: private unless the integrator shares it.
        try OutputFile.write(Array(export.text().utf8), to: file, mode: 0o600, force: force, reads: reads)
        Console.hint("wrote \(export.count) records to \(Escape.quoted(file)), head signed by \(export.fingerprint.canonical) at \(export.time)")
        Console.hint("give it to your auditor (docs/AUDITOR.md); later, vault log --verify --against \(InputFile.shellQuoted(file)) shows the log still extends it")
    }

    static func exportError(_ e: any Error) -> String {
        guard let e = e as? AuditExportError else { return Messages.explain(e).text }
        switch e {
        case .json(let j): return Messages.json(j)
        case .field(let key, let rule): return "\(Escape.forTerminal(key)) \(rule)"
        case .record(let n, .malformed(let detail)): return "record \(n) is malformed (\(detail))"
        case .readable(let n, let key): return "record \(n)'s \(key) does not match its bytes (the file was edited)"
        }
    }
}
