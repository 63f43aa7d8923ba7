#if PostgreSQL
import PostgresNIO
import VaultKit

/// The keystore's tables (docs/KEYSTORE.md §13), versioned in `schema_version`: vault creates
/// them on an empty database (`vault init`) and runs the migrations a newer vault brings before
/// anything else reads them. Every schema change is a new step here, never an edit of an old one.
enum PostgresSchema {
    /// The steps, in order; step i brings the schema to version i + 1.
    static func steps(_ s: String) -> [[String]] {
        [
            // 1: the file image as rows. One header row, the two state slots, one row per frame.
            // A frame's clear columns repeat exactly what its header shows in clear (type,
            // sequence, lookup key) and its position in the image: nothing else is in clear.
            [
                "CREATE TABLE \(s).schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                "CREATE TABLE \(s).header (one boolean PRIMARY KEY DEFAULT true CHECK (one), bytes bytea NOT NULL)",
                "CREATE TABLE \(s).state (slot smallint PRIMARY KEY CHECK (slot IN (0, 1)), bytes bytea NOT NULL)",
                """
                CREATE TABLE \(s).frame (position bigint PRIMARY KEY CHECK (position >= 0), type smallint NOT NULL, \
                sequence bigint NOT NULL UNIQUE, lookup_key bytea NOT NULL CHECK (octet_length(lookup_key) = 16), bytes bytea NOT NULL)
                """,
                // Ciphertext does not compress; uncompressed out-of-line storage also lets
                // substring() read an index page without reading the whole snapshot.
                "ALTER TABLE \(s).frame ALTER COLUMN bytes SET STORAGE EXTERNAL",
            ],
            // 2: a blob id is stored once: the database refuses a second ledger record for the
            // same lookup key (the keyed hash of the blob id), whatever a client does.
            [
                "CREATE UNIQUE INDEX frame_ledger_once ON \(s).frame (lookup_key) WHERE type = 4",
            ],
        ]
    }

    /// The version this vault writes and reads.
    static var current: Int { steps("x").count }

    /// The schema's version, or nil when it has no keystore tables.
    static func version(_ link: PostgresLink, _ s: String) throws(KeystoreError) -> Int? {
        let exists = try link.run("SELECT to_regclass(\(s + ".schema_version"))::text")
        guard let row = exists.first, (try? row.decode(String?.self)) != nil else { return nil }
        let rows = try link.run(PostgresQuery(unsafeSQL: "SELECT coalesce(max(version), 0)::bigint FROM \(s).schema_version"))
        guard let r = rows.first, let v = try? r.decode(Int64.self) else { return 0 }
        return Int(v)
    }

    /// Brings the schema to `current` inside the caller's transaction (which holds the lock).
    /// - Parameter upTo: a lower version (tests of the migrations themselves).
    /// - Throws: `.serverRefused` for a schema newer than this vault knows.
    static func migrate(_ link: PostgresLink, _ s: String, upTo: Int = current) throws(KeystoreError) {
        let have = try version(link, s) ?? 0
        guard have <= current else { throw newer(have, link) }
        if have == 0 { try link.run(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(s)")) }
        for (i, step) in steps(s).enumerated() where i >= have && i < upTo {
            for sql in step { try link.run(PostgresQuery(unsafeSQL: sql)) }
            try link.run("INSERT INTO \(unescaped: s).schema_version (version) VALUES (\(i + 1))")
        }
    }

    static func newer(_ found: Int, _ link: PostgresLink) -> KeystoreError {
        .serverRefused(location: link.address.description,
                       detail: "its keystore schema is version \(found); this vault knows up to version \(current): use a newer vault")
    }
}
#endif
