internal import CSodium

/// Errors of the libsodium layer. Each case is an outcome a caller can tell apart.
public enum SodiumError: Error, Equatable, Sendable {
    /// An input had the wrong size; `what` names it. Checked before any C call.
    case invalidLength(what: String, expected: Int, actual: Int)
    /// `crypto_box_seal_open` refused the box: wrong key, tampered or corrupted.
    case sealOpenFailed
    /// An AEAD ciphertext did not authenticate under the key, nonce and associated data.
    case authenticationFailed
    /// `crypto_scalarmult` refused the computation (an all-zero shared secret).
    case scalarMultRefused
    /// `crypto_pwhash` failed: almost always because the memory limit could not be allocated.
    case keyDerivationFailed
    /// `sodium_malloc` returned no memory.
    case outOfMemory
    /// A libsodium call that cannot fail on valid input failed; `call` names it.
    case unexpectedFailure(call: String)
}

/// The one place that initialises libsodium. Every entry point of this layer touches it first:
/// `sodium_malloc` before `sodium_init` aborts the process without a message.
enum Sodium {
    private static let initialized: Bool = sodium_init() >= 0

    /// Initialises libsodium once; a failure here means the library cannot be used at all.
    static func ensureInitialized() {
        precondition(initialized, "libsodium failed to initialise (sodium_init)")
    }

    /// Throws `invalidLength` unless `actual == expected`.
    static func check(_ what: String, _ actual: Int, _ expected: Int) throws(SodiumError) {
        guard actual == expected else {
            throw .invalidLength(what: what, expected: expected, actual: actual)
        }
    }
}

/// The libsodium version string, for `vault --version` and bug reports.
public var sodiumVersion: String {
    Sodium.ensureInitialized()
    return String(cString: sodium_version_string())
}
