import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import VaultKit

/// The real `ExactTransport`: one POST with Foundation's `URLSession` (libcurl on Linux). TLS
/// certificates and host names are verified as the system does (nothing here relaxes it),
/// redirects are refused, nothing is cached or logged, and no cookie is kept. Kept out of
/// `VaultKit` and out of the `vault` binary: linking FoundationNetworking loads some thirty
/// more shared libraries at every start (docs/PERFORMANCE.md); the `vault` command runs the
/// `vault-http` helper, which uses this, only when it must talk to Exact.
public final class URLSessionExactTransport: ExactTransport {
    /// The largest answer read (Exact's token answers are about two kilobytes).
    public static let maximumAnswer = 1 << 20

    /// A transport.
    public init() {}

    /// - Throws: `ExactTransportError.notSent` when no connection was made (name, connection,
    ///   TLS or certificate failure), `.noAnswer` when the request may have arrived (timeout,
    ///   connection lost, answer cut short or too large).
    public func post(_ request: ExactHTTPRequest) async throws(ExactTransportError) -> ExactHTTPAnswer {
        guard let url = URL(string: request.url), ["https", "http"].contains(url.scheme ?? "") else {
            throw .notSent(reason: "bad-url")
        }
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = request.timeout
        config.timeoutIntervalForResource = request.timeout
        config.urlCache = nil
        config.httpCookieStorage = nil
        config.httpShouldSetCookies = false
        config.requestCachePolicy = .reloadIgnoringLocalCacheData
        let session = URLSession(configuration: config, delegate: RefuseRedirects(), delegateQueue: nil)
        defer { session.invalidateAndCancel() }
        var r = URLRequest(url: url)
        r.httpMethod = "POST"
        r.timeoutInterval = request.timeout
        r.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        r.setValue("application/json", forHTTPHeaderField: "Accept")
        // The form (client secret, refresh token) must become a `Data` for URLSession: that copy
        // and the HTTP client's own are beyond vault's wiping (SECURITY.md); this process ends
        // right after the request.
        r.httpBody = request.body.withUnsafeBytes { Data(bytes: $0.baseAddress!, count: $0.count) }
        var data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: r)
        } catch {
            throw Self.classify(error)
        }
        // Best effort: our reference to the answer is wiped once copied to secret memory.
        defer { data.resetBytes(in: 0..<data.count) }
        guard let http = response as? HTTPURLResponse else { throw .noAnswer(reason: "not-http") }
        guard data.count <= Self.maximumAnswer else { throw .noAnswer(reason: "answer-too-large") }
        let body: SecretBytes
        do { body = try data.withUnsafeBytes { try SecretBytes(copying: $0) } } catch { throw .noAnswer(reason: "out-of-memory") }
        return ExactHTTPAnswer(status: http.statusCode, body: body)
    }

    /// Whether the request may have reached the server, from URLSession's error code.
    static func classify(_ error: any Error) -> ExactTransportError {
        guard let e = error as? URLError else { return .noAnswer(reason: "other") }
        switch e.code {
        case .cannotFindHost, .dnsLookupFailed: return .notSent(reason: "name-not-found")
        case .cannotConnectToHost, .notConnectedToInternet: return .notSent(reason: "connection-refused")
        case .secureConnectionFailed: return .notSent(reason: "tls-failed")
        case .serverCertificateUntrusted, .serverCertificateHasBadDate, .serverCertificateNotYetValid,
             .serverCertificateHasUnknownRoot, .clientCertificateRejected, .clientCertificateRequired:
            return .notSent(reason: "certificate-refused")
        case .badURL, .unsupportedURL: return .notSent(reason: "bad-url")
        case .timedOut: return .noAnswer(reason: "timeout")
        case .networkConnectionLost: return .noAnswer(reason: "connection-lost")
        default: return .noAnswer(reason: "error-\(e.code.rawValue)")
        }
    }
}

/// A redirect from the token endpoint is never followed: the form would be sent on elsewhere.
private final class RefuseRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}
