import FoundationEssentials
import Glibc
import VaultKit
#if PostgreSQL
import VaultPostgres
#endif

/// Where a keystore lives: a file path, or a `postgres://` address (docs/KEYSTORE.md §13),
/// which only a vault built with the PostgreSQL trait reads.
enum KeystoreLocation {
    /// True for a database address (whether or not this build can use it).
    static func isDatabase(_ location: String) -> Bool {
        location.hasPrefix("postgres://") || location.hasPrefix("postgresql://")
    }

    /// Whether this vault was built with PostgreSQL support.
    static var databaseSupported: Bool {
        #if PostgreSQL
        true
        #else
        false
        #endif
    }

    /// The storage `location` names.
    /// - Parameter dbPasswordFile: `--db-password-file`, for a database address.
    /// - Throws: `CLIFailure`: an address this build cannot use, an invalid address (never
    ///   repeated: it may hold a password), a password file others may read; or the storage's
    ///   `KeystoreError` (for the caller to word with its context).
    static func storage(_ location: String, dbPasswordFile: String?, lockTimeout: Double = 10, _ context: Context) throws -> any KeystoreStorage {
        // --db-password-file is ignored for a file (an option a script sets for every server).
        guard isDatabase(location) else { return try FileKeystoreStorage(path: location, lockTimeout: lockTimeout) }
        #if PostgreSQL
        let address = try parse(location, context)
        let password = try databasePassword(for: address, file: dbPasswordFile, context)
        return try PostgresKeystoreStorage(address: address, password: password, lockTimeout: lockTimeout)
        #else
        // The address is not repeated: it may hold a password.
        throw CLIFailure.failed("this vault was built without PostgreSQL support, so it cannot use a postgres:// keystore address",
                                hints: ["install vault's release, whose vault-postgres beside vault runs such commands, or build with: swift build -c release --traits PostgreSQL"])
        #endif
    }

    #if PostgreSQL
    /// The parsed address, or a usage failure that names the wrong part, never the address.
    static func parse(_ location: String, _ context: Context) throws -> PostgresAddress {
        let user = context.environment["PGUSER"] ?? context.environment["USER"] ?? loginName()
        do { return try PostgresAddress(parsing: location, defaultUser: user) } catch {
            switch error {
            case .passwordInAddress:
                throw CLIFailure.usage("the keystore address holds a password; refusing it (an address ends up in shell history, ps and messages)",
                                       hints: ["remove the password from the address and put it in a PGPASSFILE (host:port:database:user:password, chmod 600) or a file named by --db-password-file"])
            case .notAnAddress:
                throw CLIFailure.usage("the keystore address is not a postgres:// address")
            case .invalid(let part):
                throw CLIFailure.usage("the keystore address has an invalid \(part)",
                                       hints: ["write it as postgres://USER@HOST:PORT/DATABASE?sslmode=verify-full"])
            case .unknownParameter(let name):
                throw CLIFailure.usage("the keystore address has an unknown parameter \(Escape.quoted(name))",
                                       hints: ["vault knows sslmode, sslrootcert, schema and connect_timeout"])
            case .unsupportedValue(let name, let value):
                throw CLIFailure.usage("the keystore address's \(Escape.quoted(name)) cannot be \(Escape.quoted(value))",
                                       hints: ["sslmode: disable, prefer, require, verify-ca or verify-full (sslrootcert needs one of the last three); "
                                               + "schema: a lower-case name; connect_timeout: 1 to 600 seconds"])
            }
        }
    }

    /// The running user's login name (libpq's default database user).
    static func loginName() -> String {
        if let pw = getpwuid(geteuid()), let name = pw.pointee.pw_name { return String(cString: name) }
        return "root"
    }

    /// The password: the first line of `--db-password-file`, else the first matching line of
    /// PGPASSFILE (else ~/.pgpass, when it exists), else none. Files that group or others may
    /// read are refused, as passphrase files are.
    static func databasePassword(for address: PostgresAddress, file: String?, _ context: Context) throws -> SecretBytes? {
        if let file {
            return try InputFile.firstLine(try InputFile.readSecret(file, option: "--db-password-file", privacy: .required))
        }
        let pgpass: String
        let option: String
        if let p = context.environment["PGPASSFILE"], !p.isEmpty {
            (pgpass, option) = (p, "PGPASSFILE")
        } else {
            let home = context.environment["HOME"] ?? (getpwuid(getuid())?.pointee.pw_dir.map { String(cString: $0) } ?? "/")
            (pgpass, option) = (home + "/.pgpass", "the password file")
            guard FileManager.default.fileExists(atPath: pgpass) else { return nil }
        }
        let bytes = try InputFile.readSecret(pgpass, option: option, privacy: .required)
        do { return try PostgresPassword.lookup(in: bytes, for: address) } catch {
            throw Messages.failure("cannot read \(option) \(Escape.quoted(pgpass))", error)
        }
    }
    #endif
}
