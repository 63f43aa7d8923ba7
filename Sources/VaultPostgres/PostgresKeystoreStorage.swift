#if PostgreSQL
import Foundation
import NIOCore
import PostgresNIO
import VaultKit

/// The keystore in a PostgreSQL database (docs/KEYSTORE.md §13): the same bytes as the file, as
/// rows — one header row, two state slots, one row per frame keyed by its position in the file
/// image — so the same Keystore code runs over it unchanged, and everything the server stores is
/// what a keystore file shows: sealed records, blinded lookup keys, MAC'd states.
///
/// - Exclusive access: a session-level advisory lock on the keystore's schema (waited for at
///   most `lockTimeout` seconds through `lock_timeout`), held for the whole access; every commit
///   inside it is one transaction (frames and state together), durable when `commit` returns.
///   A client that dies loses its connection, and the server releases the lock.
/// - Shared access: one `REPEATABLE READ, READ ONLY` transaction without any lock: a consistent
///   snapshot of header, states and frames, never blocking a writer or blocked by one.
public final class PostgresKeystoreStorage: KeystoreStorage {
    /// Where the keystore is (no password: an address holding one is refused when parsed).
    public let address: PostgresAddress
    /// How long to wait for another process's exclusive access.
    public let lockTimeout: Double
    private let link: PostgresLink
    private let mutex = NSLock()
    private var schemaChecked = false

    /// A storage for the keystore at `address`. Nothing is contacted until it is used.
    /// - Parameters:
    ///   - password: the database password (nil when the server asks for none).
    ///   - lockTimeout: seconds to wait for another writer.
    ///   - answerTimeout: seconds to wait for any other answer before the server counts as gone.
    /// - Throws: `KeystoreError.notFound` (no such root certificate file), `.serverRefused` (TLS
    ///   cannot be set up with it).
    public init(address: PostgresAddress, password: SecretBytes?, lockTimeout: Double = 10,
                answerTimeout: Double = 30) throws(KeystoreError) {
        self.address = address
        self.lockTimeout = lockTimeout
        // postgres-nio takes the password as a String: it lives as long as the connection.
        let text = password.map { p in p.withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }
        link = try PostgresLink(address: address, password: text, answerTimeout: answerTimeout + lockTimeout)
        // The server's own limits too, on every connection: a lock wait ends with 55P03, a
        // statement with 57014, and a client that stops inside a transaction cannot hold it for
        // ever. A commit is reported stored only once the server has it on disk.
        link.setup = [
            "SET lock_timeout = '\(Int(lockTimeout * 1000))ms'",
            "SET statement_timeout = '\(Int(link.answerTimeout * 1000))ms'",
            "SET idle_in_transaction_session_timeout = '60s'",
            "SET synchronous_commit = on",
            "SET application_name = 'vault'",
        ]
    }

    deinit { link.close() }

    /// The address, without any password.
    public var location: String { address.description }

    var schema: String { address.schema }
    /// The advisory lock: the class of vault keystores, and the schema's hash.
    private func lockQuery(_ function: String) -> PostgresQuery {
        "SELECT \(unescaped: function)(\(Self.lockClass), hashtext(\(address.schema)))"
    }
    /// The advisory lock class of vault keystores ("vk" in ASCII); the schema picks the lock.
    static let lockClass: Int32 = 0x766b

    /// Runs `body` on the link, on the access thread, one access at a time per storage.
    private func onLink<R>(_ body: () throws(KeystoreError) -> R) async throws(KeystoreError) -> R {
        try await ThreadBridge.run { () throws(KeystoreError) -> R in
            mutex.lock()
            defer { mutex.unlock() }
            do throws(KeystoreError) { return try body() } catch {
                if case .lockTimeout = error { throw KeystoreError.lockTimeout(path: location, seconds: lockTimeout) }
                throw error
            }
        }
    }

    /// Checks the schema once per storage: a newer one is refused, an older one migrated (under
    /// the lock, in one transaction).
    /// - Parameter creating: no keystore tables is fine (`create` makes them).
    private func prepare(creating: Bool = false) throws(KeystoreError) {
        if schemaChecked { return }
        let v = try PostgresSchema.version(link, schema)
        if v == nil, !creating { throw .notFound(path: location) }
        if let v, v > PostgresSchema.current { throw PostgresSchema.newer(v, link) }
        if let v, v < PostgresSchema.current {
            try locked { () throws(KeystoreError) in try transaction { () throws(KeystoreError) in try PostgresSchema.migrate(link, schema) } }
        }
        schemaChecked = v != nil
    }

    /// Runs `body` holding the keystore's advisory lock (session level).
    func locked<R>(_ body: () throws(KeystoreError) -> R) throws(KeystoreError) -> R {
        try link.run(lockQuery("pg_advisory_lock"), timeout: lockTimeout + link.answerTimeout)
        defer {
            // If the unlock cannot be sent, closing the connection releases the lock.
            if (try? link.run(lockQuery("pg_advisory_unlock"))) == nil { link.close() }
        }
        return try body()
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    func transaction<R>(_ begin: String = "BEGIN", _ body: () throws(KeystoreError) -> R) throws(KeystoreError) -> R {
        try link.run(PostgresQuery(unsafeSQL: begin))
        let r: R
        do { r = try body() } catch {
            if (try? link.run("ROLLBACK")) == nil { link.close() }
            throw error
        }
        try link.run("COMMIT")
        return r
    }

    /// Creates the schema's tables when there are none (migrating an older schema) and stores
    /// the new keystore, in one transaction under the lock; never replaces a keystore.
    /// - Throws: `KeystoreError.alreadyExists`, `.serverUnavailable`, `.serverRefused`, `.lockTimeout`.
    public func create(header: [UInt8], state: [UInt8], frames: [[UInt8]]) async throws(KeystoreError) {
        try await onLink { () throws(KeystoreError) in
            try prepare(creating: true)
            try locked { () throws(KeystoreError) in
                try transaction { () throws(KeystoreError) in
                    try PostgresSchema.migrate(link, schema)
                    let rows = try link.run(PostgresQuery(unsafeSQL: "SELECT count(*)::bigint FROM \(schema).header"))
                    if let n = try? rows.first?.decode(Int64.self), n > 0 { throw .alreadyExists(path: location) }
                    try link.run("INSERT INTO \(unescaped: schema).header (bytes) VALUES (\(ByteBuffer(bytes: header)))")
                    try link.run("INSERT INTO \(unescaped: schema).state (slot, bytes) VALUES (0, \(ByteBuffer(bytes: state))), (1, \(ByteBuffer(repeating: 0, count: PostgresSession.stateByteCount)))")
                    try PostgresSession.insert(frames, at: header.count + 2 * PostgresSession.stateByteCount, link, schema)
                }
            }
            schemaChecked = true
        }
    }

    /// The stored header, read without the lock.
    /// - Throws: `KeystoreError.notFound` (no keystore in this schema), `.serverUnavailable`, `.serverRefused`.
    public func readHeader() async throws(KeystoreError) -> [UInt8] {
        try await onLink { () throws(KeystoreError) -> [UInt8] in
            try prepare()
            let rows = try link.run(PostgresQuery(unsafeSQL: "SELECT bytes FROM \(schema).header"))
            guard let r = rows.first else { throw .notFound(path: location) }
            return PostgresSession.bytes(try PostgresSession.decode(r, ByteBuffer.self, location))
        }
    }

    /// - Throws: `KeystoreError.lockTimeout`, `.serverUnavailable`, `.serverRefused`, or what `body` throws.
    public func withAccess<R>(exclusive: Bool,
                              _ body: (any KeystoreStorageSession) throws(KeystoreError) -> R) async throws(KeystoreError) -> R {
        try await onLink { () throws(KeystoreError) -> R in
            try prepare()
            let session = PostgresSession(link: link, schema: schema, exclusive: exclusive, location: location,
                                          transaction: { (b) throws(KeystoreError) in try self.transaction("BEGIN", b) })
            if exclusive {
                return try locked { () throws(KeystoreError) -> R in try body(session) }
            }
            return try transaction("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY") { () throws(KeystoreError) -> R in try body(session) }
        }
    }

    /// Brings the schema to `version` only (tests of the migrations).
    func createSchema(upTo version: Int) async throws(KeystoreError) {
        try await onLink { () throws(KeystoreError) in
            _ = try link.connected()
            try locked { () throws(KeystoreError) in
                try transaction { () throws(KeystoreError) in try PostgresSchema.migrate(link, schema, upTo: version) }
            }
        }
    }

    /// The schema's version (nil: no keystore tables).
    public func schemaVersion() async throws(KeystoreError) -> Int? {
        try await onLink { () throws(KeystoreError) -> Int? in try PostgresSchema.version(link, schema) }
    }

    /// Closes the connection (also done when the storage is released).
    public func close() async {
        try? await onLink { () throws(KeystoreError) in link.close() }
    }
}
#endif
