import ArgumentParser
import VaultKit

/// The options of the commands that talk to Exact Online (`connect`, `token`).
struct ExactOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Seconds to wait for Exact's answer (1 to 120).", valueName: "seconds"))
    var timeout: Int = 30

    // For tests only, hence hidden: refused unless https:// or a loopback address, so the client
    // secret can never be sent in clear across a network.
    @Option(name: .customLong("exact-base-url"), help: ArgumentHelp(visibility: .hidden))
    var exactBaseURL: String?

    func validate() throws {
        guard (1...120).contains(timeout) else { throw ValidationError("--timeout must be 1 to 120 seconds") }
    }
}

/// Opening the keystore and an `ExactConnector` over the `vault-http` helper.
enum ExactAccess {
    static func connector(_ keystore: KeystoreOptions, _ exact: ExactOptions, _ context: Context) async throws -> ExactConnector {
        var endpoint: ExactEndpoint?
        if let url = exact.exactBaseURL {
            // Checked before the keystore is unlocked: a refused override costs no KDF run.
            do { endpoint = try ExactEndpoint(override: url) } catch { throw Messages.failure("", error, status: .usage) }
        }
        let (store, _) = try await KeystoreAccess.open(keystore, context)
        return ExactConnector(keystore: store, transport: HTTPHelperTransport(), endpointOverride: endpoint,
                              timeout: Double(exact.timeout))
    }

    /// Runs a connector call, wording its failure with `context`.
    static func run<T>(_ context: String, _ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch { throw Messages.failure(context, error) }
    }
}
