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
        if json {
            Console.out(JSONOut.array(entries.map(EntryJSON.summary)).text)
            return
        }
        guard !entries.isEmpty else {
            Console.hint("the keystore holds no entries yet; open a blob with `vault open FILE`")
            return
        }
        let rows = [["LABEL", "TYPE", "CLIENT ID", "REGION", "OPENED", "EXPIRES", "FROM (unverified)"]] + entries.map { e in
            [Escape.forTerminal(e.label), e.type, e.publicFields["client_id"] ?? "-", e.publicFields["region"] ?? "-",
             e.opened, e.expires, e.from.map(Escape.forTerminal) ?? "-"]
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
        """
    )
    static let holdsSecrets = true

    @Argument(help: ArgumentHelp("The entry's label.", valueName: "label"))
    var label: String

    @Flag(help: "Print JSON (fields in docs/JSON.md).")
    var json = false

    @Flag(help: "Include the earlier versions kept by `vault open --replace`, oldest first.")
    var history = false

    @OptionGroup var keystore: KeystoreOptions

    mutating func execute(_ context: Context) async throws {
        let (store, _) = try await KeystoreAccess.open(keystore, context)
        let label = self.label
        let versions = try await KeystoreAccess.run("cannot show \(Escape.quoted(label))") { try await store.history(label) }
        let shown = history ? versions : [versions[versions.count - 1]]
        if json {
            let items = shown.map(EntryJSON.detail)
            Console.out((history ? JSONOut.array(items) : items[0]).text)
            return
        }
        for (i, e) in shown.enumerated() {
            if history { Console.outLine("version \(i + 1) of \(shown.count)\(i == shown.count - 1 ? " (current)" : "")") }
            var rows: [[String]] = [["label", Escape.forTerminal(e.label)], ["type", e.type]]
            for f in e.fields {
                rows.append([f.name, EntryJSON.isPublic(f.name, in: e) ? Escape.forTerminal(EntryJSON.text(f.value)) : "******** (hidden; vault get)"])
            }
            rows += [["created", e.created], ["expires", e.expires], ["opened", e.opened], ["blob id", e.blobID]]
            if let r = e.request { rows.append(["request", r]) }
            if let f = e.from { rows.append(["from (unverified)", Escape.forTerminal(f)]) }
            if let n = e.note { rows.append(["note", Escape.forTerminal(n)]) }
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

    static func text(_ value: SecretBytes) -> String { value.withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }

    static func optional(_ pairs: [(String, String?)]) -> [(String, JSONOut)] {
        pairs.compactMap { k, v in v.map { (k, .string($0)) } }
    }

    static func summary(_ e: KeystoreEntrySummary) -> JSONOut {
        var members: [(String, JSONOut)] = [("label", .string(e.label)), ("type", .string(e.type))]
        members += optional([("client_id", e.publicFields["client_id"]), ("region", e.publicFields["region"])])
        members += [("created", .string(e.created)), ("expires", .string(e.expires)), ("opened", .string(e.opened))]
        members += optional([("from", e.from), ("note", e.note), ("request", e.request)])
        members += [("blob_id", .string(e.blobID)), ("versions", .int(e.versions)), ("fields", .array(e.fieldNames.map { .string($0) }))]
        return .object(members)
    }

    static func detail(_ e: KeystoreEntry) -> JSONOut {
        let fields: [JSONOut] = e.fields.map { f in
            guard isPublic(f.name, in: e) else { return .object([("name", .string(f.name)), ("secret", .bool(true))]) }
            // The division is a JSON number, as in the payload and in `export`.
            let value: JSONOut = f.name == "division" ? Int(text(f.value)).map { .int($0) } ?? .string(text(f.value)) : .string(text(f.value))
            return .object([("name", .string(f.name)), ("secret", .bool(false)), ("value", value)])
        }
        var members: [(String, JSONOut)] = [("label", .string(e.label)), ("type", .string(e.type)), ("fields", .array(fields))]
        members += [("created", .string(e.created)), ("expires", .string(e.expires)), ("opened", .string(e.opened))]
        members += optional([("from", e.from), ("note", e.note), ("request", e.request)])
        members.append(("blob_id", .string(e.blobID)))
        return .object(members)
    }
}

/// Plain aligned columns for people (scripts use --json).
enum Table {
    static func render(_ rows: [[String]], separator: String = "  ", header: Bool = true) -> String {
        let widths = (0..<(rows.map(\.count).max() ?? 0)).map { c in rows.map { $0.count > c ? $0[c].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, cell in
                c == row.count - 1 ? cell : cell + (c == 0 && !header ? separator : "")
                    + String(repeating: " ", count: widths[c] - cell.count) + (c == 0 && !header ? "" : separator)
            }.joined()
        }.joined(separator: "\n") + "\n"
    }
}
