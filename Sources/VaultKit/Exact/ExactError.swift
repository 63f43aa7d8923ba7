/// Errors of the Exact Online broker: one case per outcome the receiving system or the operator
/// can tell apart. No case carries a token, a secret or an authorisation code; Exact's own
/// `error` and `error_description` are public words, kept only when they repeat no secret.
public enum ExactError: Error, Equatable {
    /// The entry is not of type `exact-online`.
    case notExactOnline(label: String)
    /// The entry lacks a field the operation needs (`client_secret`, `webhook_secret`, `redirect_uri`).
    case missingField(label: String, field: String)
    /// The entry was never connected (`vault connect`): there is no token state.
    case notConnected(label: String)
    /// Exact refused the stored refresh token just now. `previous` is the phase found when the
    /// lease was taken: `inFlight` or `uncertain` mean an earlier refresh was interrupted after
    /// sending the token (it was burnt then); `clean` means it was revoked, expired (30 days
    /// unused) or used elsewhere. Connect again.
    case refreshTokenRefused(label: String, previous: TokenRefreshPhase, error: String?, description: String?)
    /// Exact refused the stored refresh token earlier (at `at`, seconds since the epoch); vault
    /// does not ask again until the entry is connected again.
    case refusedEarlier(label: String, at: Double)
    /// Exact refused the request for another reason (`invalid_client`: the client id or secret is
    /// wrong; a 4xx status); the refresh token was not used.
    case rejected(status: Int, error: String?, description: String?)
    /// Exact's rate limit (HTTP 429); the refresh token was not used.
    case rateLimited
    /// Exact answered with a server error (5xx): it may or may not have replaced the refresh token.
    case serverError(status: Int)
    /// Exact answered 2xx but not with a token answer (`detail` says what is wrong): it may have
    /// replaced the refresh token.
    case malformedAnswer(detail: String)
    /// No answer: see the transport error for whether the request may have arrived.
    case transport(ExactTransportError)
    /// An `--exact-base-url` override that is neither `https://` nor a loopback address.
    case baseURLRefused(String)
    /// The access token Exact just issued lives `seconds`, less than the validity asked for.
    case tokenTooShortLived(seconds: Int, asked: Int)
    /// No authorisation was started for this entry (or it was already completed).
    case noPendingAuthorization(label: String)
    /// The pending authorisation was started at `started` (RFC 3339) and is too old to finish.
    case authorizationExpired(label: String, started: String)
    /// The redirected URL's `state` is not the one recorded when the authorisation began: it
    /// belongs to another attempt, or was forged.
    case stateMismatch(label: String)
    /// Exact redirected with an error instead of a code (the user refused, or the app is misconfigured).
    case authorizationDenied(error: String, description: String?)
    /// The pasted text holds neither a code nor a redirected URL with one.
    case noCode
    /// A webhook body that is not Exact's webhook shape.
    case webhook(ExactWebhookError)
    /// The keystore failed.
    case keystore(KeystoreError)
}
