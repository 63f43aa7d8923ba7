import Foundation
import XCTest
import VaultKit
#if PostgreSQL
import VaultPostgres
#endif

/// The back end the keystore suite runs on. By default a file; when VAULT_TEST_POSTGRES names a
/// server (`postgres://USER@HOST:PORT/DATABASE?sslmode=…`, its password in PGPASSFILE, as
/// scripts/postgres/run sets them), every `KeystoreFixture(onTestBackEnd: ())` gets a new schema
/// in that database: one suite, run once per back end.
enum TestBackEnd {
    /// The server named for this run, if any.
    static var server: String? {
        guard let s = ProcessInfo.processInfo.environment["VAULT_TEST_POSTGRES"], !s.isEmpty else { return nil }
        return s
    }

    /// A new, empty keystore address on the server (a schema of its own), or nil for files.
    /// - Throws: when a server is named but this build has no PostgreSQL support (a run meant
    ///   for the database must not pass silently on files).
    static func newDatabaseAddress() throws -> String? {
        guard let server else { return nil }
        #if PostgreSQL
        let schema = "t_" + Random.bytes(8).map { String(format: "%02x", $0) }.joined()
        return server + (server.contains("?") ? "&" : "?") + "schema=" + schema
        #else
        throw BackEndMissing()
        #endif
    }

    /// The storage for a database address, its password from PGPASSFILE.
    static func storage(_ address: String, lockTimeout: Double = 10) throws -> any KeystoreStorage {
        #if PostgreSQL
        let a = try PostgresAddress(parsing: address, defaultUser: NSUserName())
        var password: SecretBytes?
        if let file = ProcessInfo.processInfo.environment["PGPASSFILE"] {
            password = try PostgresPassword.lookup(in: try SecretBytes(Array(try Data(contentsOf: URL(fileURLWithPath: file)))), for: a)
        }
        return try PostgresKeystoreStorage(address: a, password: password, lockTimeout: lockTimeout)
        #else
        throw BackEndMissing()
        #endif
    }
}

/// VAULT_TEST_POSTGRES is set, but this build lacks the PostgreSQL trait (swift build --traits PostgreSQL).
struct BackEndMissing: Error {}
