import ArgumentParser
import VaultKit

/// `vault list [--json]` (CLI.md, Integrator): what is stored, never a secret.
struct List: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the stored entries: label, type, client id, region, times and sender.",
        discussion: """
        Never shows a secret. --json prints an array with one object per entry (fields in \
        docs/JSON.md).

        Examples:
          vault list
          vault list --json
        """
    )
    static let holdsSecrets = true

    @Flag(help: "Print JSON (fields in docs/JSON.md).")
    var json = false

    @OptionGroup var keystore: KeystoreOptions

    mutating func execute(_ context: Context) async throws {
        let (store, _) = try await KeystoreAccess.open(keystore, context)
        let entries = try await KeystoreAccess.run("cannot list the keystore") { try await store.list() }
        let tokens = try await KeystoreAccess.run("cannot list the keystore") { try await store.tokenStatuses() }
        let connection = { (e: KeystoreEntrySummary) in e.type == CredentialType.exactOnline.rawValue ? ConnectionJSON.state(tokens[e.label]) : nil }
        if json {
            Console.out(JSONOut.array(entries.map { EntryJSON.summary($0, connection: connection($0)) }).text)
            return
        }
        guard !entries.isEmpty else {
            Console.hint("the keystore holds no entries yet; open a blob with `vault open FILE`")
            return
        }
        let rows = [["LABEL", "TYPE", "CLIENT ID", "REGION", "EXACT", "OPENED", "EXPIRES", "FROM (unverified)"]] + entries.map { e in
            [e.label, e.type, e.publicFields["client_id"] ?? "-", e.publicFields["region"] ?? "-",
             connection(e) ?? "-", e.opened, e.expires, e.from ?? "-"]
        }
        Console.out(Table.render(rows))
    }
}

/// `vault show LABEL [--json] [--history]`: one entry, secrets masked.
struct Show: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one entry, its secrets masked; --history adds its earlier versions.",
        discussion: """
        Examples:
          vault show "Acme BV"
          vault show --history --json "Acme BV"
          vault show --entry-version 1 "Acme BV"
        """
    )
    static let holdsSecrets = true

    @Argument(help: ArgumentHelp("The entry's label.", valueName: "label"))
    var label: String

    @Flag(help: "Print JSON (fields in docs/JSON.md).")
    var json = false

    @Flag(help: "Include the earlier versions kept by `vault open --replace`, oldest first, numbered as --entry-version takes them.")
    var history = false

    @OptionGroup var version: EntryVersionOption

    @OptionGroup var keystore: KeystoreOptions

    func validate() throws {
        if history && version.entryVersion != nil {
            throw ValidationError("give --history (every version) or --entry-version N (one), not both")
        }
    }

    mutating func execute(_ context: Context) async throws {
        let (store, _) = try await KeystoreAccess.open(keystore, context)
        let label = self.label
        // Summaries: show prints no secret, so it reads none (and writes no audit record).
        let versions = try await KeystoreAccess.run("cannot show \(Escape.quoted(label))", label: label, in: store) { try await store.versions(label) }
        // (number, entry): numbered as --entry-version takes them, 1 the oldest.
        let numbered = Array(zip(1..., versions))
        var shown = history ? numbered : [numbered[numbered.count - 1]]
        if let n = version.entryVersion { shown = [(n, try EntryVersionOption.pick(n, of: versions, label: label))] }
        if json {
            let items = shown.map { EntryJSON.detail($0.1, version: $0.0) }
            Console.out((history ? JSONOut.array(items) : items[0]).text)
            return
        }
        for (i, (n, e)) in shown.enumerated() {
            let of = "\(n) of \(versions.count)\(n == versions.count ? " (current)" : "")"
            if history { Console.outLine("entry version \(of)") }
            var rows: [[String]] = [["label", e.label], ["type", e.type]]
            if !history { rows.append(["entry version", of]) }
            for name in e.fieldNames {
                rows.append([name, e.publicFields[name] ?? "******** (hidden; vault get)"])
            }
            rows += [["created", e.created], ["expires", e.expires], ["opened", e.opened], ["blob id", e.blobID]]
            if let r = e.request { rows.append(["request", r]) }
            if let f = e.from { rows.append(["from (unverified)", f]) }
            if let n = e.note { rows.append(["note", n]) }
            Console.out(Table.render(rows, separator: ": ", header: false))
            if history && i < shown.count - 1 { Console.outLine("") }
        }
    }
}

/// The JSON forms of entries (docs/JSON.md): secrets never appear, only their names.
enum EntryJSON {
    static func isPublic(_ name: String, in entry: KeystoreEntry) -> Bool {
        entry.type == CredentialType.exactOnline.rawValue && KeystoreEntrySummary.publicExactOnlineFields.contains(name)
    }

    /// A public field's value as text. Every value was checked as UTF-8 when its blob was
    /// opened (FORMAT.md §5 rules), so nothing is replaced here.
    static func text(_ value: SecretBytes) -> String { value.withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }

    static func optional(_ pairs: [(String, String?)]) -> [(String, JSONOut)] {
        pairs.compactMap { k, v in v.map { (k, .string($0)) } }
    }

    static func summary(_ e: KeystoreEntrySummary, connection: String? = nil) -> JSONOut {
        var members: [(String, JSONOut)] = [("label", .string(e.label)), ("type", .string(e.type))]
        members += optional([("client_id", e.publicFields["client_id"]), ("region", e.publicFields["region"]), ("connection", connection)])
        members += [("created", .string(e.created)), ("expires", .string(e.expires)), ("opened", .string(e.opened))]
        members += optional([("from", e.from), ("note", e.note), ("request", e.request)])
        members += [("blob_id", .string(e.blobID)), ("versions", .int(e.versions)), ("fields", .array(e.fieldNames.map { .string($0) }))]
        return .object(members)
    }

    /// - Parameter version: the entry version, 1 the oldest (`--entry-version`).
    static func detail(_ e: KeystoreEntrySummary, version: Int) -> JSONOut {
        let fields: [JSONOut] = e.fieldNames.map { name in
            guard let text = e.publicFields[name] else { return .object([("name", .string(name)), ("secret", .bool(true))]) }
            // The division is a JSON number, as in the payload and in `export`.
            let value: JSONOut = name == "division" ? Int(text).map { .int($0) } ?? .string(text) : .string(text)
            return .object([("name", .string(name)), ("secret", .bool(false)), ("value", value)])
        }
        var members: [(String, JSONOut)] = [("label", .string(e.label)), ("type", .string(e.type)), ("entry_version", .int(version)),
                                            ("fields", .array(fields))]
        members += [("created", .string(e.created)), ("expires", .string(e.expires)), ("opened", .string(e.opened))]
        members += optional([("from", e.from), ("note", e.note), ("request", e.request)])
        members.append(("blob_id", .string(e.blobID)))
        return .object(members)
    }
}

/// Plain aligned columns for people (scripts use --json). Every cell is escaped here: a table
/// shows what the keystore holds, and most of that (labels, from, notes, field names) a sender
/// wrote.
enum Table {
    static func render(_ cells: [[String]], separator: String = "  ", header: Bool = true) -> String {
        let rows = cells.map { $0.map(Escape.forTerminal) }
        let widths = (0..<(rows.map(\.count).max() ?? 0)).map { c in rows.map { $0.count > c ? $0[c].count : 0 }.max() ?? 0 }
        return rows.map { full in
            // Empty cells at the end of a row are left out, so no line ends in padding.
            let row = full.prefix(through: full.lastIndex { !$0.isEmpty } ?? 0)
            return row.enumerated().map { c, cell in
                c == row.count - 1 ? cell : cell + (c == 0 && !header ? separator : "")
                    + String(repeating: " ", count: widths[c] - cell.count) + (c == 0 && !header ? "" : separator)
            }.joined()
        }.joined(separator: "\n") + "\n"
    }
}
