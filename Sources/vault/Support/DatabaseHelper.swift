import Glibc
import VaultKit

/// `vault-postgres`: this same vault built with the PostgreSQL trait, installed beside it by
/// the release (docs/RELEASING.md). The trait links postgres-nio, SwiftNIO, BoringSSL and,
/// through them, Foundation and ICU: about 3 ms more at every start and 60 MB more binary
/// (docs/PERFORMANCE.md). So releases ship `vault` without the trait, and a command that names
/// a database is handed to the helper before anything else happens: same arguments, same
/// environment, same standard streams, nothing read yet.
enum DatabaseHelper {
    /// Replaces this process with `vault-postgres` when this build cannot use a database, the
    /// command may name one, and the helper is installed beside this binary. Returns otherwise
    /// (or when the exec fails), and the command then runs here: a database address then gets
    /// "built without PostgreSQL support".
    static func replaceProcessIfNeeded(_ args: [String]) {
        guard !KeystoreLocation.databaseSupported, mayNameDatabase(args), let helper = path() else { return }
        // Never itself: a vault-postgres built without the trait, or a link to vault (a wrong
        // install), would otherwise replace itself with itself for ever.
        guard let me = realpath("/proc/self/exe", nil), let target = realpath(helper, nil) else { return }
        defer { free(me); free(target) }
        guard strcmp(me, target) != 0 else { return }
        // The original argv, byte for byte (it was checked to be UTF-8 already).
        execv(helper, CommandLine.unsafeArgv)
    }

    /// Whether any argument or `VAULT_KEYSTORE` is a `postgres://` address. Deliberately wider
    /// than the options that take a keystore (a label spelled like an address also counts):
    /// the helper is the same program, so running it for nothing costs only its start-up.
    static func mayNameDatabase(_ args: [String]) -> Bool {
        if let v = getenv("VAULT_KEYSTORE"), KeystoreLocation.isDatabase(String(cString: v)) { return true }
        return args.contains { arg in
            if KeystoreLocation.isDatabase(arg) { return true }
            // --keystore=postgres://…, --from=…, --to=…
            guard arg.hasPrefix("--"), let eq = arg.firstIndex(of: "=") else { return false }
            return KeystoreLocation.isDatabase(String(arg[arg.index(after: eq)...]))
        }
    }

    /// `vault-postgres` beside the running binary, or nil.
    static func path() -> String? { Path.besideThisProgram("vault-postgres") }
}
