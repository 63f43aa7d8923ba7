/// One form POST to Exact Online's token endpoint.
public struct ExactHTTPRequest {
    /// The URL (public: it never holds a secret; the secrets are in the body).
    public let url: String
    /// The `application/x-www-form-urlencoded` body, in secret memory.
    public let body: SecretBytes
    /// Seconds to wait for the whole exchange, connection included.
    public let timeout: Double

    /// A request.
    public init(url: String, body: SecretBytes, timeout: Double) {
        self.url = url
        self.body = body
        self.timeout = timeout
    }
}

/// Exact's answer: the HTTP status and the body, in secret memory (it holds tokens).
public struct ExactHTTPAnswer {
    /// The HTTP status code.
    public let status: Int
    /// The body.
    public let body: SecretBytes

    /// An answer.
    public init(status: Int, body: SecretBytes) {
        self.status = status
        self.body = body
    }
}

/// How a POST failed without an answer. The two kinds matter for Exact's rotating refresh
/// tokens: a request that never left cannot have burnt the token; one that may have arrived can.
/// No case carries text from the network or the request, only a fixed word.
public enum ExactTransportError: Error, Equatable, Sendable {
    /// No connection was made (name not found, connection refused, TLS handshake or certificate
    /// refused), so Exact cannot have received the request. `reason` is a fixed word.
    case notSent(reason: String)
    /// The request may have reached Exact, but no complete answer came back (timeout, connection
    /// dropped, answer cut short). `reason` is a fixed word.
    case noAnswer(reason: String)
    /// The HTTP client cannot be used at all (the `vault-http` helper is missing or broken);
    /// nothing was sent. `detail` names what is missing.
    case unavailable(detail: String)
}

/// What performs the HTTP POST. `URLSessionExactTransport` (library `VaultExactHTTP`) is the
/// real one; TLS certificates must be verified, redirects not followed, and nothing logged.
public protocol ExactTransport {
    /// Sends `request` and returns Exact's answer, whatever its status.
    /// - Throws: `ExactTransportError`.
    func post(_ request: ExactHTTPRequest) async throws(ExactTransportError) -> ExactHTTPAnswer
}
