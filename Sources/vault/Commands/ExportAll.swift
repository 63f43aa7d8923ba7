import ArgumentParser
import VaultKit

/// `vault export --all` (JSON only): every entry of the keystore for a receiving system that
/// loads them all at once, as one object keyed by label, each member the object `vault export
/// LABEL` prints. Entries are read and written one at a time through a bounded buffer of secret
/// memory, so the process holds one entry's secrets at a time, whatever the keystore's size.
extension Export {
    /// Output is written whenever this many bytes of secret memory are filled.
    static let allBufferBytes = 64 * 1024

    func validateAll() throws {
        if all && label != nil { throw ValidationError("give a label or --all, not both") }
        if !all && label == nil { throw ValidationError("missing expected argument '<label>' (or --all)") }
        if all && version.entryVersion != nil { throw ValidationError("--entry-version reads one entry; it does not go with --all") }
        if all && format != .json {
            // Field names repeat across entries: env lines of several entries would overwrite each other.
            throw ValidationError("--all writes JSON only; export one entry at a time for --format env")
        }
    }

    func exportAll(_ context: Context) async throws {
        let (store, _) = try await KeystoreAccess.open(keystore, context)
        // list() authenticates every current record before anything is written, so a damaged
        // keystore fails here with no partial output.
        let labels = try await KeystoreAccess.run("cannot list the keystore") { try await store.list() }.map(\.label)
        // Every entry's `export` record, in one commit, before any value is written.
        let logged = try await KeystoreAccess.run("cannot export the keystore") { try await store.logReads(of: labels, by: .export) }
        KeystoreAccess.warnUnlogged(store, store.storage.location)
        var out = try SecretOutput(capacity: Self.allBufferBytes)
        out.text("{")
        var first = true
        for label in labels {
            let entry: KeystoreEntry
            do { entry = try await store.entry(label, logged: logged) } catch KeystoreError.noSuchEntry {
                continue // removed by another process since the listing: it is no longer there to export
            } catch {
                throw Messages.failure("cannot read \(Escape.quoted(label)); the output is incomplete", error)
            }
            // Room for this entry with the worst-case escaping; a larger entry gets its own buffer.
            let need = SecretOutput.capacity(entry.fields.map(\.value), extra: 32 + JSONOut.quote(entry.label).utf8.count
                + entry.fields.map { JSONOut.quote($0.name).utf8.count + 16 }.reduce(0, +))
            if need > out.remaining {
                try out.write()
                out = try SecretOutput(capacity: max(Self.allBufferBytes, need))
            }
            out.text((first ? "\n  " : ",\n  ") + JSONOut.quote(entry.label) + ": {")
            first = false
            // As `vault export LABEL` writes one entry, one level deeper.
            for (i, f) in entry.fields.enumerated() {
                out.text((i == 0 ? "\n    " : ",\n    ") + JSONOut.quote(f.name) + ": ")
                if f.name == "division" && entry.type == CredentialType.exactOnline.rawValue { out.raw(f.value) } else { out.jsonString(f.value) }
            }
            out.text("\n  }")
        }
        if out.remaining < 4 {
            try out.write()
            out = try SecretOutput(capacity: 4)
        }
        out.text(first ? "}\n" : "\n}\n")
        try out.write()
    }
}
